/**
 * Training runs in SQL (schema `plugin_training`): one row per job training_start submitted, naming
 * the model to register and the dataset version trained on. The success hook reads it back by job id.
 */
import { type PluginSql, loadSql } from 'anvil/plugin';

/** The migrations the store needs in the plugin's schema (`ctx.migrations(trainingMigrations)`). */
export const trainingMigrations = new URL('./migrations/', import.meta.url);

const sql = (name: string) => loadSql(import.meta.url, `./sql/${name}.sql`);
const SQL = {
  insert: sql('run-insert'),
  get: sql('run-get'),
} as const;

export interface TrainingRun {
  jobId: string;
  project: string;
  model: string;
  dataset: { id: string; name: string; version: number; sha256: string };
  recipe: string;
  /** The training params the caller gave (without `dataset`). */
  params: Record<string, unknown>;
  createdAt: string;
  createdBy: string;
}

export type TrainingRunInput = Omit<TrainingRun, 'createdAt'>;

interface RunRow extends Record<string, unknown> {
  job_id: string;
  project: string;
  model_name: string;
  dataset_version_id: string;
  dataset_name: string;
  dataset_version: number | string;
  dataset_sha256: string;
  recipe: string;
  params: Record<string, unknown> | null;
  created_at: Date | string;
  created_by: string;
}

function toRun(row: RunRow): TrainingRun {
  return {
    jobId: row.job_id,
    project: row.project,
    model: row.model_name,
    dataset: { id: row.dataset_version_id, name: row.dataset_name, version: Number(row.dataset_version), sha256: row.dataset_sha256 },
    recipe: row.recipe,
    params: row.params ?? {},
    createdAt: row.created_at instanceof Date ? row.created_at.toISOString() : new Date(row.created_at).toISOString(),
    createdBy: row.created_by,
  };
}

export class TrainingRunStore {
  constructor(private readonly sql: PluginSql) {}

  /** Records a run; a job already recorded keeps its first row (returns false then). */
  async insert(run: TrainingRunInput): Promise<boolean> {
    const result = await this.sql.query(SQL.insert, [
      run.jobId,
      run.project,
      run.model,
      run.dataset.id,
      run.dataset.name,
      run.dataset.version,
      run.dataset.sha256,
      run.recipe,
      JSON.stringify(run.params),
      run.createdBy,
    ]);
    return result.rowCount > 0;
  }

  /** The run of a job, or undefined when training_start did not start it. */
  async get(jobId: string): Promise<TrainingRun | undefined> {
    const row = (await this.sql.query<RunRow>(SQL.get, [jobId])).rows[0];
    return row ? toRun(row) : undefined;
  }
}
