/**
 * Training runs in SQL (schema `plugin_training`): one row per job training_start submitted, naming
 * the model to register and the dataset version trained on. The row is reserved before the submit
 * under the job's idempotency key and names the job once the submit returned; the success hook
 * reads it by job id, or by the job's key when a crash came in between.
 */
import type { PluginSql } from 'anvil/plugin';
import { loadSql } from '../../server/db/sql.ts';

/** The migrations the store needs in the plugin's schema (`ctx.migrations(trainingMigrations)`). */
export const trainingMigrations = new URL('./migrations/', import.meta.url);

const sql = (name: string) => loadSql(import.meta.url, `./sql/${name}.sql`);
const SQL = {
  insert: sql('run-insert'),
  get: sql('run-get'),
  byKey: sql('run-by-key'),
  attach: sql('run-attach'),
  release: sql('run-release'),
} as const;

export interface TrainingRun {
  /** null between the reservation and the submit's answer. */
  jobId: string | null;
  /** The idempotency key its job is submitted with. */
  key: string;
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
  job_id: string | null;
  run_key: string;
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
    key: row.run_key,
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

  /**
   * Records a run under its key before its job exists: `created` false when the key already holds
   * one (the first row is kept and returned, for the caller to compare).
   */
  async reserve(run: Omit<TrainingRunInput, 'jobId'>): Promise<{ run: TrainingRun; created: boolean }> {
    const inserted = (await this.sql.query<RunRow>(SQL.insert, [
      run.project,
      run.key,
      run.model,
      run.dataset.id,
      run.dataset.name,
      run.dataset.version,
      run.dataset.sha256,
      run.recipe,
      JSON.stringify(run.params),
      run.createdBy,
    ])).rows[0];
    if (inserted) return { run: toRun(inserted), created: true };
    const existing = (await this.sql.query<RunRow>(SQL.byKey, [run.project, run.key])).rows[0];
    if (!existing) throw new Error(`training run ${run.key} in project ${run.project} was neither inserted nor found`);
    return { run: toRun(existing), created: false };
  }

  /** Names the run's job; undefined when the key holds no run or a run of another job. */
  async attach(project: string, key: string, jobId: string): Promise<TrainingRun | undefined> {
    const row = (await this.sql.query<RunRow>(SQL.attach, [project, key, jobId])).rows[0];
    return row ? toRun(row) : undefined;
  }

  /** Drops a reservation whose job was never submitted. */
  async release(project: string, key: string): Promise<void> {
    await this.sql.query(SQL.release, [project, key]);
  }

  /** The run of a job, or undefined when training_start did not start it. */
  async get(jobId: string): Promise<TrainingRun | undefined> {
    const row = (await this.sql.query<RunRow>(SQL.get, [jobId])).rows[0];
    return row ? toRun(row) : undefined;
  }
}
