/**
 * The model registry (schema `plugin_models`, Postgres or embedded PGlite), in the manner of MLflow's:
 * named models per project, numbered versions with lineage, metrics, artifacts and a model card, and
 * aliases (`champion`, `challenger`, …) that point at versions, every change of one kept in history.
 *
 * Rules every method keeps:
 * - Every read and write is keyed by project: another project's model is NOT_FOUND, never visible.
 * - Registrations and alias changes of one model run under that model's row lock, so version numbers
 *   are 1, 2, 3, … without gaps or duplicates however many servers register at once.
 * - Inputs are checked (zod) before any SQL runs; failures are INVALID_INPUT naming the field.
 */
import { AnvilError, ErrorCodes, type PluginSql, type SqlExecutor, loadSql } from 'anvil/plugin';
import { renderModelCard } from './card.ts';
import {
  ALIAS_NAME,
  LATEST,
  LIMITS,
  MODEL_NAME,
  aliasNameSchema,
  invalid,
  jsonParam,
  modelNameSchema,
  parseOrThrow,
  registerVersionSchema,
  type ModelArtifact,
  type ModelLineage,
  type ModelSignature,
  type ModelTask,
  type ModelVersion,
  type RegisterVersionInput,
} from './schema.ts';

export * from './schema.ts';

/** The migrations the registry needs in the plugin's schema (`ctx.migrations(modelsMigrations)`). */
export const modelsMigrations = new URL('./migrations/', import.meta.url);

const sql = (name: string) => loadSql(import.meta.url, `./sql/${name}.sql`);
const SQL = {
  modelEnsure: sql('model-ensure'),
  modelLock: sql('model-lock'),
  modelGet: sql('model-get'),
  modelsList: sql('models-list'),
  versionByJob: sql('version-by-job'),
  versionNext: sql('version-next'),
  versionInsert: sql('version-insert'),
  versionGet: sql('version-get'),
  versionsList: sql('versions-list'),
  aliasGet: sql('alias-get'),
  aliasUpsert: sql('alias-upsert'),
  aliasDelete: sql('alias-delete'),
  aliasHistoryInsert: sql('alias-history-insert'),
  aliasHistory: sql('alias-history'),
} as const;

// -------------------------------------------------------------------------------------------------
// Records

export interface RegisterResult {
  name: string;
  version: number;
  /** false when this training job had already registered a version of the model (that one is returned). */
  created: boolean;
}

/** A model with its latest version and aliases. */
export interface ModelSummary {
  name: string;
  description: string | null;
  /** ISO 8601. */
  created: string;
  createdBy: string;
  latestVersion: number | null;
  latestTask: ModelTask | null;
  latestCreatedAt: string | null;
  versionCount: number;
  /** alias → version. */
  aliases: Record<string, number>;
}

export interface VersionSummary {
  version: number;
  task: ModelTask;
  recipe: string;
  status: 'ready';
  metrics: Record<string, unknown>;
  jobId: string | null;
  createdAt: string;
  createdBy: string;
  /** Aliases pointing at this version. */
  aliases: string[];
}

export interface ModelPage {
  models: ModelSummary[];
  /** With `name`: that model's versions, newest first (a page of them); without: absent. */
  versions?: VersionSummary[];
  /** Pass as `cursor` (with the same `name`) for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface ListOptions {
  /** Lists this model's versions instead of the models. */
  name?: string;
  /** 1..100, default 20. */
  limit?: number;
  cursor?: string;
}

/** A version with what `models_get` shows beside it. */
export interface ModelVersionDetail {
  model: ModelSummary;
  version: ModelVersion;
  /** Aliases pointing at this version. */
  aliases: string[];
}

/** A version number, an alias name, or `latest` (also as a string of digits, from a URI). */
export type VersionRef = number | string;

export type AliasAction = 'set' | 'move' | 'clear';

export interface SetAliasResult {
  alias: string;
  /** Where the alias points now (null: cleared). */
  version: number | null;
  /** Where it pointed before (null: it did not exist). */
  previous: number | null;
  /** What changed; `unchanged` when it already pointed there (no history is written). */
  action: AliasAction | 'unchanged';
}

export interface AliasChange {
  id: number;
  alias: string;
  action: AliasAction;
  fromVersion: number | null;
  toVersion: number | null;
  by: string;
  /** ISO 8601. */
  at: string;
  reason: string | null;
}

// -------------------------------------------------------------------------------------------------
// Rows

type Timestamp = Date | string;

type ModelRow = {
  name: string;
  description: string | null;
  created: Timestamp;
  created_by: string;
  latest_version: number | null;
  latest_task?: string | null;
  latest_created_at?: Timestamp | null;
  version_count: number;
  aliases: Record<string, number>;
};

type VersionRow = {
  project: string;
  name: string;
  version: number;
  task: string;
  recipe: string;
  metrics: Record<string, unknown>;
  signature: ModelSignature;
  lineage: ModelLineage;
  artifacts: ModelArtifact[];
  card_md: string;
  created_at: Timestamp;
  created_by: string;
  status: string;
};

type VersionSummaryRow = {
  version: number;
  task: string;
  recipe: string;
  metrics: Record<string, unknown>;
  job_id: string | null;
  status: string;
  created_at: Timestamp;
  created_by: string;
  aliases: string[];
};

type AliasRow = { alias: string; version: number; set_at: Timestamp; set_by: string };

type HistoryRow = {
  id: string | number;
  alias: string;
  action: string;
  from_version: number | null;
  to_version: number | null;
  by: string;
  at: Timestamp;
  reason: string | null;
};

const iso = (value: Timestamp): string => (value instanceof Date ? value : new Date(value)).toISOString();

function toSummary(row: ModelRow): ModelSummary {
  return {
    name: row.name,
    description: row.description,
    created: iso(row.created),
    createdBy: row.created_by,
    latestVersion: row.latest_version,
    latestTask: (row.latest_task ?? null) as ModelTask | null,
    latestCreatedAt: row.latest_created_at ? iso(row.latest_created_at) : null,
    versionCount: row.version_count,
    aliases: row.aliases,
  };
}

function toVersion(row: VersionRow): ModelVersion {
  return {
    project: row.project,
    name: row.name,
    version: row.version,
    task: row.task as ModelTask,
    recipe: row.recipe,
    metrics: row.metrics,
    signature: row.signature,
    lineage: row.lineage,
    artifacts: row.artifacts,
    cardMd: row.card_md,
    createdAt: iso(row.created_at),
    createdBy: row.created_by,
    status: 'ready',
  };
}

function toVersionSummary(row: VersionSummaryRow): VersionSummary {
  return {
    version: row.version,
    task: row.task as ModelTask,
    recipe: row.recipe,
    status: 'ready',
    metrics: row.metrics,
    jobId: row.job_id,
    createdAt: iso(row.created_at),
    createdBy: row.created_by,
    aliases: row.aliases,
  };
}

function toChange(row: HistoryRow): AliasChange {
  return {
    id: Number(row.id),
    alias: row.alias,
    action: row.action as AliasAction,
    fromVersion: row.from_version,
    toVersion: row.to_version,
    by: row.by,
    at: iso(row.at),
    reason: row.reason,
  };
}

// -------------------------------------------------------------------------------------------------
// Checks

function projectOf(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) throw invalid('project must be a non-empty string of at most 200 characters');
  return value;
}

function modelName(value: unknown): string {
  return parseOrThrow(modelNameSchema, value, 'name');
}

function notFoundModel(project: string, name: string): AnvilError {
  return new AnvilError(ErrorCodes.NOT_FOUND, `No model "${name}" in project ${project}; models_list shows the models there are`, { details: { name } });
}

type ParsedRef = { kind: 'latest' } | { kind: 'version'; version: number } | { kind: 'alias'; alias: string };

/** A version reference: a positive integer (or its digits), `latest`, or an alias name. */
export function parseVersionRef(ref: VersionRef | null | undefined): ParsedRef {
  if (ref === undefined || ref === null || ref === LATEST) return { kind: 'latest' };
  if (typeof ref === 'number') {
    if (Number.isSafeInteger(ref) && ref >= 1) return { kind: 'version', version: ref };
    throw invalid(`version must be a positive integer, an alias or "latest", got ${ref}`, { field: 'version' });
  }
  if (typeof ref === 'string') {
    if (/^[0-9]{1,9}$/.test(ref) && Number(ref) >= 1) return { kind: 'version', version: Number(ref) };
    if (ALIAS_NAME.test(ref)) return { kind: 'alias', alias: ref };
  }
  throw invalid(`version must be a positive integer, an alias (matching ${ALIAS_NAME.source}) or "latest", got ${JSON.stringify(ref)}`, { field: 'version' });
}

// -------------------------------------------------------------------------------------------------
// List cursors: opaque to callers.

function encodeCursor(kind: 'm' | 'v' | 'h', name: string, key: string | number): string {
  return Buffer.from(JSON.stringify([`models1.${kind}`, name, key])).toString('base64url');
}

function decodeCursor(cursor: string, kind: 'm' | 'v' | 'h', name: string): string | number {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  if (Array.isArray(decoded) && decoded.length === 3 && decoded[0] === `models1.${kind}` && decoded[1] === name) {
    const key: unknown = decoded[2];
    if (kind === 'm' && typeof key === 'string') return key;
    if (kind !== 'm' && typeof key === 'number' && Number.isSafeInteger(key)) return key;
  }
  throw invalid(`cursor is not one this server handed out for this listing${name ? ` of model ${name}` : ''}; start again without a cursor`, { field: 'cursor' });
}

// -------------------------------------------------------------------------------------------------

export class ModelRegistry {
  /** `sql` resolves `{{schema}}` to the schema the models migrations ran in (the plugin's `ctx.sql`). */
  constructor(private readonly sql: PluginSql) {}

  /**
   * Registers a new version of `input.name` (creating the model on its first version) and stores its
   * model card. The version number is the model's next one, taken under its row lock. With
   * `lineage.jobId`, registering the same job's model again returns the version it registered first
   * (`created: false`), whatever else differs.
   */
  async registerVersion(projectId: string, input: RegisterVersionInput): Promise<RegisterResult> {
    const project = projectOf(projectId);
    const record = parseOrThrow(registerVersionSchema, input, 'input');
    const metrics = jsonParam(record.metrics, 'metrics');
    const signature = jsonParam(record.signature, 'signature');
    const lineage = jsonParam(record.lineage, 'lineage');
    const artifacts = jsonParam(record.artifacts, 'artifacts');
    const { name } = record;

    return this.sql.transaction(async (tx) => {
      await tx.query(SQL.modelEnsure, [project, name, record.description ?? null, record.createdBy]);
      const locked = (await tx.query<{ description: string | null }>(SQL.modelLock, [project, name])).rows[0];
      if (!locked) throw new AnvilError(ErrorCodes.CONFLICT, `Model "${name}" was deleted while registering; retry`);
      if (record.lineage.jobId !== null) {
        const existing = (await tx.query<{ version: number }>(SQL.versionByJob, [project, name, record.lineage.jobId])).rows[0];
        if (existing) return { name, version: existing.version, created: false };
      }
      const next = (await tx.query<{ next: number }>(SQL.versionNext, [project, name])).rows[0]?.next ?? 1;
      const createdAt = new Date();
      const cardMd = renderModelCard({
        name,
        version: next,
        description: locked.description,
        task: record.task,
        recipe: record.recipe,
        metrics: record.metrics,
        signature: record.signature,
        lineage: record.lineage,
        artifacts: record.artifacts,
        createdAt: createdAt.toISOString(),
        createdBy: record.createdBy,
        status: 'ready',
      });
      await tx.query(SQL.versionInsert, [project, name, next, record.task, record.recipe, metrics, signature, lineage, artifacts, cardMd, createdAt, record.createdBy]);
      return { name, version: next, created: true };
    });
  }

  /** The version a reference names: a number, an alias, or `latest` (the default). NOT_FOUND otherwise. */
  async resolve(projectId: string, nameValue: string, ref?: VersionRef | null): Promise<ModelVersion> {
    return this.resolveWith(this.sql, projectOf(projectId), modelName(nameValue), parseVersionRef(ref));
  }

  /** A version (by number, alias or latest) with its model's summary and the aliases pointing at it. */
  async get(projectId: string, nameValue: string, ref?: VersionRef | null): Promise<ModelVersionDetail> {
    const project = projectOf(projectId);
    const name = modelName(nameValue);
    const version = await this.resolveWith(this.sql, project, name, parseVersionRef(ref));
    const model = await this.model(project, name);
    const aliases = Object.entries(model.aliases)
      .filter(([, target]) => target === version.version)
      .map(([alias]) => alias)
      .sort();
    return { model, version, aliases };
  }

  /** A model's summary (latest version, aliases); NOT_FOUND when the project has no such model. */
  async model(projectId: string, nameValue: string): Promise<ModelSummary> {
    const project = projectOf(projectId);
    const name = modelName(nameValue);
    const row = (await this.sql.query<ModelRow>(SQL.modelGet, [project, name])).rows[0];
    if (!row) throw notFoundModel(project, name);
    return toSummary(row);
  }

  /** The project's models by name; with `name`, that model and a page of its versions, newest first. */
  async list(projectId: string, options: ListOptions = {}): Promise<ModelPage> {
    const project = projectOf(projectId);
    const limit = options.limit ?? LIMITS.listDefault;
    if (!Number.isInteger(limit) || limit < 1 || limit > LIMITS.listMax) throw invalid(`limit must be an integer from 1 to ${LIMITS.listMax}, got ${limit}`, { field: 'limit' });

    if (options.name !== undefined) {
      const name = modelName(options.name);
      const model = await this.model(project, name);
      const before = options.cursor === undefined ? null : decodeCursor(options.cursor, 'v', name);
      const rows = (await this.sql.query<VersionSummaryRow>(SQL.versionsList, [project, name, before, limit + 1])).rows;
      const page = rows.slice(0, limit).map(toVersionSummary);
      const last = page.at(-1);
      return { models: [model], versions: page, nextCursor: rows.length > limit && last ? encodeCursor('v', name, last.version) : null };
    }

    const after = options.cursor === undefined ? null : decodeCursor(options.cursor, 'm', '');
    const rows = (await this.sql.query<ModelRow>(SQL.modelsList, [project, after, limit + 1])).rows;
    const models = rows.slice(0, limit).map(toSummary);
    const last = models.at(-1);
    return { models, nextCursor: rows.length > limit && last ? encodeCursor('m', '', last.name) : null };
  }

  /**
   * Points `alias` at `version` (set, or move from where it pointed), or clears it with `null`. Each
   * change is one history row with who, when and why; setting an alias where it already points
   * changes nothing (`unchanged`), and so does clearing one that does not exist.
   */
  async setAlias(projectId: string, nameValue: string, aliasValue: string, version: number | null, by: string, reason?: string): Promise<SetAliasResult> {
    const project = projectOf(projectId);
    const name = modelName(nameValue);
    const alias = parseOrThrow(aliasNameSchema, aliasValue, 'alias');
    if (version !== null && (!Number.isSafeInteger(version) || version < 1)) throw invalid(`version must be a positive integer or null, got ${version}`, { field: 'version' });
    if (typeof by !== 'string' || by.length === 0 || by.length > 200) throw invalid('by must be a non-empty string of at most 200 characters', { field: 'by' });
    if (reason !== undefined && (typeof reason !== 'string' || reason.length > LIMITS.reasonMax)) {
      throw invalid(`reason must be a string of at most ${LIMITS.reasonMax} characters`, { field: 'reason' });
    }

    return this.sql.transaction(async (tx) => {
      const locked = (await tx.query(SQL.modelLock, [project, name])).rows[0];
      if (!locked) throw notFoundModel(project, name);
      if (version !== null) {
        const exists = (await tx.query<VersionRow>(SQL.versionGet, [project, name, version])).rows[0];
        if (!exists) throw new AnvilError(ErrorCodes.NOT_FOUND, `Model "${name}" has no version ${version}`, { details: { name, version } });
      }
      const current = (await tx.query<AliasRow>(SQL.aliasGet, [project, name, alias])).rows[0];
      const previous = current?.version ?? null;
      if (previous === version) return { alias, version, previous, action: 'unchanged' as const };

      const action: AliasAction = version === null ? 'clear' : previous === null ? 'set' : 'move';
      if (version === null) await tx.query(SQL.aliasDelete, [project, name, alias]);
      else await tx.query(SQL.aliasUpsert, [project, name, alias, version, by]);
      await tx.query(SQL.aliasHistoryInsert, [project, name, alias, action, previous, version, by, reason ?? null]);
      return { alias, version, previous, action };
    });
  }

  /** A model's alias changes, newest first (optionally of one alias). NOT_FOUND for an unknown model. */
  async aliasHistory(projectId: string, nameValue: string, options: { alias?: string; limit?: number } = {}): Promise<AliasChange[]> {
    return (await this.aliasHistoryPage(projectId, nameValue, options)).changes;
  }

  /** A page of a model's alias changes, newest first, and the cursor of the next page (null on the last). */
  async aliasHistoryPage(projectId: string, nameValue: string, options: { alias?: string; limit?: number; cursor?: string } = {}): Promise<{ changes: AliasChange[]; nextCursor: string | null }> {
    const project = projectOf(projectId);
    const name = modelName(nameValue);
    const alias = options.alias === undefined ? null : parseOrThrow(aliasNameSchema, options.alias, 'alias');
    const limit = options.limit ?? LIMITS.historyDefault;
    if (!Number.isInteger(limit) || limit < 1 || limit > LIMITS.historyMax) throw invalid(`limit must be an integer from 1 to ${LIMITS.historyMax}, got ${limit}`, { field: 'limit' });
    const before = options.cursor === undefined ? null : decodeCursor(options.cursor, 'h', name);
    await this.model(project, name);
    const rows = (await this.sql.query<HistoryRow>(SQL.aliasHistory, [project, name, alias, limit + 1, before])).rows;
    const changes = rows.slice(0, limit).map(toChange);
    const last = changes.at(-1);
    return { changes, nextCursor: rows.length > limit && last ? encodeCursor('h', name, last.id) : null };
  }

  private async resolveWith(db: SqlExecutor, project: string, name: string, ref: ParsedRef): Promise<ModelVersion> {
    let number: number | null = null;
    if (ref.kind === 'version') number = ref.version;
    if (ref.kind === 'alias') {
      const alias = (await db.query<AliasRow>(SQL.aliasGet, [project, name, ref.alias])).rows[0];
      if (!alias) {
        await this.model(project, name);
        throw new AnvilError(ErrorCodes.NOT_FOUND, `Model "${name}" has no alias "${ref.alias}"`, { details: { name, alias: ref.alias } });
      }
      number = alias.version;
    }
    const row = (await db.query<VersionRow>(SQL.versionGet, [project, name, number])).rows[0];
    if (!row) {
      await this.model(project, name);
      throw new AnvilError(ErrorCodes.NOT_FOUND, `Model "${name}" has no version ${number ?? ''}`.trim(), { details: { name, version: number } });
    }
    return toVersion(row);
  }
}

/** Whether a string is a valid model name (for callers that build URIs). */
export const isModelName = (value: string): boolean => MODEL_NAME.test(value);
