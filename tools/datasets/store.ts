/**
 * Datasets in SQL (schema `plugin_datasets`): names per project, their versions, and lineage.
 * Every project-scoped read answers NOT_FOUND for another project's dataset, so names never reveal
 * what exists elsewhere. A version is inserted in one transaction holding its dataset row's lock:
 * concurrent imports of one name take versions in turn, and an import equal (content and options)
 * to the latest version returns that version instead of adding one.
 */
import { randomUUID } from 'node:crypto';
import { AnvilError, ErrorCodes, type PluginSql } from 'anvil/plugin';
import { loadSql } from '../../server/db/sql.ts';
import type { ColumnInfo } from './columns.ts';
import type { CanonicalOptions, LabelDistribution, PreparedDataset, SplitCounts } from './importer.ts';
import { LIMITS } from './limits.ts';
import type { DatasetFormat } from './readers.ts';

/** The migrations this store needs in the plugin's schema (`ctx.migrations(datasetsMigrations)`). */
export const datasetsMigrations = new URL('./migrations/', import.meta.url);

const sql = (name: string) => loadSql(import.meta.url, `./sql/${name}.sql`);
const SQL = {
  datasetUpsert: sql('dataset-upsert'),
  datasetLock: sql('dataset-lock'),
  datasetBump: sql('dataset-bump'),
  versionLatest: sql('version-latest'),
  versionGet: sql('version-get'),
  versionById: sql('version-by-id'),
  versionInsert: sql('version-insert'),
  list: sql('datasets-list'),
  shaReferenced: sql('sha-referenced'),
  shasReferenced: sql('shas-referenced'),
  lineageInsert: sql('lineage-insert'),
  lineageList: sql('lineage-list'),
} as const;

export type SplitMode = PreparedDataset['splitMode'];
export type LineageKind = 'trained' | 'evaluated';

export interface DatasetVersion {
  id: string;
  project: string;
  name: string;
  version: number;
  /** SHA-256 of the normalised JSONL, the blob's address (`BlobStore.get`, `ControlPlane.getBlob`). */
  sha256: string;
  sizeBytes: number;
  /** The source's format; the stored file is always JSONL. */
  format: DatasetFormat;
  rows: number;
  columns: ColumnInfo[];
  textColumn: string | null;
  labelColumn: string | null;
  featureColumns: string[];
  splits: SplitCounts;
  labelDistribution: LabelDistribution;
  labelCount: number;
  splitMode: SplitMode;
  seed: number | null;
  options: CanonicalOptions;
  source: string;
  createdAt: string;
  createdBy: string;
}

/** What training and evaluation code needs to use a dataset version. */
export interface ResolvedDataset {
  id: string;
  name: string;
  version: number;
  sha256: string;
  sizeBytes: number;
  rows: number;
  textColumn: string | null;
  labelColumn: string | null;
  featureColumns: string[];
  columns: ColumnInfo[];
  /** Every label, sorted (index = class id). Empty without a label column. */
  labels: string[];
  splits: SplitCounts;
  labelDistribution: LabelDistribution;
}

export interface ModelRef {
  name: string;
  version: string | number;
}

export interface LineageInput {
  jobId?: string | undefined;
  model?: ModelRef | undefined;
  kind: LineageKind;
}

export interface LineageEntry {
  id: number;
  datasetVersionId: string;
  dataset: { name: string; version: number };
  kind: LineageKind;
  jobId: string | null;
  model: { name: string; version: string } | null;
  at: string;
}

export interface LineageQuery {
  datasetVersionId?: string | undefined;
  jobId?: string | undefined;
  model?: { name: string; version?: string | number | undefined } | undefined;
  kind?: LineageKind | undefined;
  limit?: number | undefined;
}

export interface DatasetSummary {
  name: string;
  createdAt: string;
  createdBy: string;
  latest: DatasetVersion;
}

interface VersionRow extends Record<string, unknown> {
  id: string;
  project: string;
  name: string;
  version: number;
  sha256: string;
  size_bytes: string | number;
  format: DatasetFormat;
  row_count: string | number;
  columns: ColumnInfo[];
  text_column: string | null;
  label_column: string | null;
  feature_columns: string[] | null;
  split_counts: SplitCounts;
  label_distribution: LabelDistribution;
  label_count: number;
  split_mode: SplitMode;
  seed: string | number | null;
  options: CanonicalOptions;
  source: string;
  created_at: Date | string;
  created_by: string;
}

interface LineageRow extends Record<string, unknown> {
  id: string | number;
  dataset_version_id: string;
  kind: LineageKind;
  job_id: string | null;
  model_name: string | null;
  model_version: string | null;
  at: Date | string;
  name: string;
  version: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function iso(value: Date | string): string {
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}

function toVersion(row: VersionRow): DatasetVersion {
  return {
    id: row.id,
    project: row.project,
    name: row.name,
    version: Number(row.version),
    sha256: row.sha256,
    sizeBytes: Number(row.size_bytes),
    format: row.format,
    rows: Number(row.row_count),
    columns: row.columns,
    textColumn: row.text_column,
    labelColumn: row.label_column,
    featureColumns: row.feature_columns ?? [],
    splits: row.split_counts,
    labelDistribution: row.label_distribution,
    labelCount: Number(row.label_count),
    splitMode: row.split_mode,
    seed: row.seed === null ? null : Number(row.seed),
    options: row.options,
    source: row.source,
    createdAt: iso(row.created_at),
    createdBy: row.created_by,
  };
}

function toLineage(row: LineageRow): LineageEntry {
  return {
    id: Number(row.id),
    datasetVersionId: row.dataset_version_id,
    dataset: { name: row.name, version: Number(row.version) },
    kind: row.kind,
    jobId: row.job_id,
    model: row.model_name !== null && row.model_version !== null ? { name: row.model_name, version: row.model_version } : null,
    at: iso(row.at),
  };
}

/** JSON with object keys sorted at every level (jsonb does not keep key order). */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Whether `version` holds exactly what `prepared` would add (same content, same options). */
export function sameImport(version: DatasetVersion, prepared: Pick<PreparedDataset, 'sha256' | 'options'>): boolean {
  return version.sha256 === prepared.sha256 && stableJson(version.options) === stableJson(prepared.options);
}

function notFound(name: string, version?: number): AnvilError {
  return new AnvilError(ErrorCodes.NOT_FOUND, version === undefined ? `No dataset "${name}" in this project` : `Dataset "${name}" has no version ${version} in this project`, {
    details: { name, ...(version === undefined ? {} : { version }) },
  });
}

function checkUuid(value: string, what: string): string {
  if (!UUID.test(value)) throw new AnvilError(ErrorCodes.INVALID_INPUT, `${what} must be a UUID, got ${JSON.stringify(value)}`);
  return value.toLowerCase();
}

const CURSOR_PREFIX = 'ds1:';

export function encodeCursor(name: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${name}`).toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!decoded.startsWith(CURSOR_PREFIX) || decoded.length === CURSOR_PREFIX.length) {
    throw new AnvilError(ErrorCodes.INVALID_INPUT, 'cursor is not one this server handed out; start again without a cursor');
  }
  return decoded.slice(CURSOR_PREFIX.length);
}

export class DatasetStore {
  constructor(private readonly sql: PluginSql) {}

  /** The newest version of `name` in `project`, or undefined. */
  async latest(project: string, name: string): Promise<DatasetVersion | undefined> {
    const row = (await this.sql.query<VersionRow>(SQL.versionLatest, [project, name])).rows[0];
    return row ? toVersion(row) : undefined;
  }

  /** A version (the latest without `version`); NOT_FOUND when absent or another project's. */
  async get(project: string, name: string, version?: number): Promise<DatasetVersion> {
    if (version === undefined) {
      const latest = await this.latest(project, name);
      if (!latest) throw notFound(name);
      return latest;
    }
    const row = (await this.sql.query<VersionRow>(SQL.versionGet, [project, name, version])).rows[0];
    if (!row) throw notFound(name, version);
    return toVersion(row);
  }

  /** A version by id, whatever its project (for code that got the id from `resolve`). */
  async byId(id: string): Promise<DatasetVersion> {
    const row = (await this.sql.query<VersionRow>(SQL.versionById, [checkUuid(id, 'dataset version id')])).rows[0];
    if (!row) throw new AnvilError(ErrorCodes.NOT_FOUND, `No dataset version ${id}`, { details: { id } });
    return toVersion(row);
  }

  /** What training and evaluation code needs: the blob's sha256, the column roles, the labels and splits. */
  async resolve(project: string, name: string, version?: number): Promise<ResolvedDataset> {
    const found = await this.get(project, name, version);
    const labels = new Set<string>();
    for (const split of Object.values(found.labelDistribution)) for (const label of Object.keys(split)) labels.add(label);
    return {
      id: found.id,
      name: found.name,
      version: found.version,
      sha256: found.sha256,
      sizeBytes: found.sizeBytes,
      rows: found.rows,
      textColumn: found.textColumn,
      labelColumn: found.labelColumn,
      featureColumns: found.featureColumns,
      columns: found.columns,
      labels: [...labels].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      splits: found.splits,
      labelDistribution: found.labelDistribution,
    };
  }

  /**
   * Adds `prepared` as the next version of `name`, or returns the latest version when it holds the
   * same content with the same options (`created: false`). One transaction: a failure adds nothing.
   */
  async insertVersion(project: string, name: string, createdBy: string, prepared: PreparedDataset, source: string): Promise<{ version: DatasetVersion; created: boolean }> {
    return this.sql.transaction(async (tx) => {
      await tx.query(SQL.datasetUpsert, [project, name, createdBy]);
      const locked = (await tx.query<{ latest_version: number }>(SQL.datasetLock, [project, name])).rows[0];
      const current = Number(locked?.latest_version ?? 0);
      if (current > 0) {
        const latestRow = (await tx.query<VersionRow>(SQL.versionGet, [project, name, current])).rows[0];
        const latest = latestRow ? toVersion(latestRow) : undefined;
        if (latest && sameImport(latest, prepared)) return { version: latest, created: false };
      }
      const next = current + 1;
      const labelCount = new Set(Object.values(prepared.labelDistribution).flatMap((split) => Object.keys(split))).size;
      const row = (
        await tx.query<VersionRow>(SQL.versionInsert, [
          randomUUID(),
          project,
          name,
          next,
          prepared.sha256,
          prepared.sizeBytes,
          prepared.format,
          prepared.rows,
          JSON.stringify(prepared.columns),
          prepared.textColumn,
          prepared.labelColumn,
          prepared.featureColumns,
          JSON.stringify(prepared.splits),
          JSON.stringify(prepared.labelDistribution),
          labelCount,
          prepared.splitMode,
          prepared.seed,
          JSON.stringify(prepared.options),
          source,
          createdBy,
        ])
      ).rows[0] as VersionRow;
      await tx.query(SQL.datasetBump, [project, name, next]);
      return { version: toVersion(row), created: true };
    });
  }

  /** A project's datasets by name with their latest version; `name` filters by prefix. */
  async list(project: string, options: { name?: string | undefined; limit?: number | undefined; cursor?: string | undefined } = {}): Promise<{ datasets: DatasetSummary[]; nextCursor: string | null }> {
    const limit = Math.min(Math.max(options.limit ?? LIMITS.listDefault, 1), LIMITS.listMax);
    const after = options.cursor === undefined ? null : decodeCursor(options.cursor);
    const rows = (await this.sql.query<VersionRow & { dataset_created_at: Date | string; dataset_created_by: string }>(SQL.list, [project, options.name ?? null, after, limit + 1])).rows;
    const page = rows.slice(0, limit);
    const datasets = page.map((row) => ({ name: row.name, createdAt: iso(row.dataset_created_at), createdBy: row.dataset_created_by, latest: toVersion(row) }));
    const last = page[page.length - 1];
    return { datasets, nextCursor: rows.length > limit && last ? encodeCursor(last.name) : null };
  }

  /** Whether any dataset version, in any project, points at the blob `sha256`. */
  async referenced(sha256: string): Promise<boolean> {
    const row = (await this.sql.query<{ referenced: boolean }>(SQL.shaReferenced, [sha256])).rows[0];
    return row?.referenced === true;
  }

  /** Of `sha256s`, the blobs some dataset version points at (for the blob garbage collector). */
  async referencedOf(sha256s: readonly string[]): Promise<string[]> {
    return (await this.sql.query<{ sha256: string }>(SQL.shasReferenced, [[...sha256s]])).rows.map((row) => row.sha256);
  }

  /** Records that a job and/or a model trained on or was evaluated with a dataset version (idempotent). */
  async recordLineage(datasetVersionId: string, input: LineageInput): Promise<LineageEntry> {
    const version = await this.byId(datasetVersionId);
    if (input.kind !== 'trained' && input.kind !== 'evaluated') throw new AnvilError(ErrorCodes.INVALID_INPUT, `lineage kind must be trained or evaluated, got ${JSON.stringify(input.kind)}`);
    if (input.jobId === undefined && input.model === undefined) throw new AnvilError(ErrorCodes.INVALID_INPUT, 'lineage needs a jobId, a model, or both');
    const jobId = input.jobId === undefined ? null : checkUuid(input.jobId, 'jobId');
    if (input.model && (input.model.name.length === 0 || String(input.model.version).length === 0)) {
      throw new AnvilError(ErrorCodes.INVALID_INPUT, 'lineage model needs a name and a version');
    }
    const modelName = input.model?.name ?? null;
    const modelVersion = input.model ? String(input.model.version) : null;
    await this.sql.query(SQL.lineageInsert, [version.id, input.kind, jobId, modelName, modelVersion]);
    const entries = await this.lineage(version.project, {
      datasetVersionId: version.id,
      kind: input.kind,
      ...(jobId ? { jobId } : {}),
      ...(modelName !== null && modelVersion !== null ? { model: { name: modelName, version: modelVersion } } : {}),
      limit: 1,
    });
    return entries[0] as LineageEntry;
  }

  /**
   * Lineage in `project`, newest first, filtered by dataset version, job, model and kind. Note that
   * a filter by `jobId` alone also matches entries that name a model besides the job.
   */
  async lineage(project: string, query: LineageQuery = {}): Promise<LineageEntry[]> {
    const limit = Math.min(Math.max(query.limit ?? LIMITS.lineageMax, 1), 1_000);
    const rows = (
      await this.sql.query<LineageRow>(SQL.lineageList, [
        project,
        query.datasetVersionId === undefined ? null : checkUuid(query.datasetVersionId, 'datasetVersionId'),
        query.jobId === undefined ? null : checkUuid(query.jobId, 'jobId'),
        query.model?.name ?? null,
        query.model?.version === undefined ? null : String(query.model.version),
        query.kind ?? null,
        limit,
      ])
    ).rows;
    return rows.map(toLineage);
  }
}
