/**
 * Stored evaluations (schema `plugin_evaluation`): one row per succeeded `evaluation` job, keyed by
 * the job id and read per project (another project's evaluation is NOT_FOUND).
 */
import { AnvilError, ErrorCodes, type PluginSql, loadSql } from 'anvil/plugin';

/** The migrations the store needs in the plugin's schema (`ctx.migrations(evaluationMigrations)`). */
export const evaluationMigrations = new URL('./migrations/', import.meta.url);

const sql = (name: string) => loadSql(import.meta.url, `./sql/${name}.sql`);
const SQL = {
  list: sql('evaluation-list'),
  upsert: sql('evaluation-upsert'),
  get: sql('evaluation-get'),
} as const;

export type EvaluationKind = 'run' | 'compare';
export type StoredVerdict = 'better' | 'worse' | 'inconclusive';

export interface ModelVersionRef {
  name: string;
  version: number;
}

export interface EvaluationRecord {
  /** The evaluation job's id. */
  id: string;
  project: string;
  kind: EvaluationKind;
  /** The candidate (the model evaluated, for a run); null for a job submitted without registry names. */
  model: ModelVersionRef | null;
  champion: ModelVersionRef | null;
  dataset: { name: string; version: number; sha256: string } | null;
  split: string;
  rows: number;
  /** `{candidate, champion?, comparison?}` summaries (what the job's result holds). */
  metrics: Record<string, unknown>;
  verdict: StoredVerdict | null;
  reportSha256: string | null;
  evaluationSha256: string | null;
  /** ISO 8601. */
  createdAt: string;
}

export type NewEvaluation = Omit<EvaluationRecord, 'createdAt'>;

type Row = {
  id: string;
  project: string;
  kind: string;
  model_name: string | null;
  model_version: number | null;
  champion_name: string | null;
  champion_version: number | null;
  dataset_name: string | null;
  dataset_version: number | null;
  dataset_sha256: string | null;
  split: string;
  row_count: number;
  metrics: Record<string, unknown> | string;
  verdict: string | null;
  report_sha256: string | null;
  evaluation_sha256: string | null;
  created_at: Date | string;
};

const ref = (name: string | null, version: number | null): ModelVersionRef | null => (name !== null && version !== null ? { name, version: Number(version) } : null);

function toRecord(row: Row): EvaluationRecord {
  return {
    id: row.id,
    project: row.project,
    kind: row.kind === 'compare' ? 'compare' : 'run',
    model: ref(row.model_name, row.model_version),
    champion: ref(row.champion_name, row.champion_version),
    dataset:
      row.dataset_name !== null && row.dataset_version !== null && row.dataset_sha256 !== null
        ? { name: row.dataset_name, version: Number(row.dataset_version), sha256: row.dataset_sha256 }
        : null,
    split: row.split,
    rows: Number(row.row_count),
    metrics: typeof row.metrics === 'string' ? (JSON.parse(row.metrics) as Record<string, unknown>) : row.metrics,
    verdict: row.verdict === 'better' || row.verdict === 'worse' || row.verdict === 'inconclusive' ? row.verdict : null,
    reportSha256: row.report_sha256,
    evaluationSha256: row.evaluation_sha256,
    createdAt: (row.created_at instanceof Date ? row.created_at : new Date(row.created_at)).toISOString(),
  };
}

export class EvaluationStore {
  /** `sql` resolves `{{schema}}` to the plugin's schema (`ctx.sql`). */
  constructor(private readonly sql: PluginSql) {}

  /** Stores (or replaces, for the same job) an evaluation. */
  async save(record: NewEvaluation): Promise<EvaluationRecord> {
    const row = (
      await this.sql.query<Row>(SQL.upsert, [
        record.id,
        record.project,
        record.kind,
        record.model?.name ?? null,
        record.model?.version ?? null,
        record.champion?.name ?? null,
        record.champion?.version ?? null,
        record.dataset?.name ?? null,
        record.dataset?.version ?? null,
        record.dataset?.sha256 ?? null,
        record.split,
        record.rows,
        JSON.stringify(record.metrics),
        record.verdict,
        record.reportSha256,
        record.evaluationSha256,
      ])
    ).rows[0];
    if (!row) throw new AnvilError(ErrorCodes.CONFLICT, `Evaluation ${record.id} belongs to another project`, { details: { id: record.id } });
    return toRecord(row);
  }

  /** The project's evaluation `id`, or undefined. */
  async find(project: string, id: string): Promise<EvaluationRecord | undefined> {
    const row = (await this.sql.query<Row>(SQL.get, [project, id])).rows[0];
    return row ? toRecord(row) : undefined;
  }

  /** The project's evaluations of model `name` (candidate or champion; of one version when given), newest first. */
  async listForModel(project: string, name: string, version: number | undefined, limit: number): Promise<EvaluationRecord[]> {
    const { rows } = await this.sql.query<Row>(SQL.list, [project, name, version ?? null, limit]);
    return rows.map(toRecord);
  }
}
