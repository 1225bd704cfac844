/**
 * Deployment state in SQL (Postgres or embedded PGlite): the deployment rows, their history, and
 * the controller's lock. Every read and write is keyed by project; a change runs under the
 * deployment row's lock, bumps its generation and writes one history row in the same transaction.
 */
import { AnvilError, ErrorCodes, type PluginSql, type SqlExecutor } from 'anvil/plugin';
import { notFound, type Batching, type Deployment, type Logging, type Rollout, type Shadow, type Variant } from './schema.ts';
import { loadSql } from './sql.ts';

export const deploymentsMigrations = new URL('./migrations/', import.meta.url);

const SQL = {
  insert: loadSql('deployment-insert'),
  get: loadSql('deployment-get'),
  lock: loadSql('deployment-lock'),
  generations: loadSql('deployment-generations'),
  delete: loadSql('deployment-delete'),
  lastServed: loadSql('deployment-last-served'),
  list: loadSql('deployments-list'),
  update: loadSql('deployment-update'),
  historyInsert: loadSql('history-insert'),
  historyList: loadSql('history-list'),
  controlled: loadSql('controlled'),
  controllerLock: loadSql('controller-lock'),
} as const;

type Timestamp = Date | string;
type DeploymentRow = {
  project: string;
  name: string;
  model: string;
  alias: string | null;
  follow_alias: boolean;
  variants: Variant[];
  batching: Batching;
  logging: Logging;
  threshold: number | null;
  rollout: Rollout | null;
  shadow: Shadow | null;
  generation: number;
  created_at: Timestamp;
  created_by: string;
  updated_at: Timestamp;
};

export interface HistoryEntry {
  id: number;
  at: string;
  by: string;
  action: string;
  detail: Record<string, unknown>;
}

const iso = (value: Timestamp): string => (value instanceof Date ? value : new Date(value)).toISOString();

function toDeployment(row: DeploymentRow): Deployment {
  return {
    project: row.project,
    name: row.name,
    model: row.model,
    alias: row.alias,
    followAlias: row.follow_alias,
    variants: row.variants,
    batching: row.batching,
    logging: row.logging,
    threshold: row.threshold === null ? null : Number(row.threshold),
    rollout: row.rollout,
    shadow: row.shadow,
    generation: row.generation,
    createdAt: iso(row.created_at),
    createdBy: row.created_by,
    updatedAt: iso(row.updated_at),
  };
}

export interface NewDeployment {
  project: string;
  name: string;
  model: string;
  alias: string | null;
  followAlias: boolean;
  variants: Variant[];
  batching: Batching;
  logging: Logging;
  threshold: number | null;
  createdBy: string;
}

/** What a change may set; omitted fields keep their value. */
export type DeploymentChange = Partial<Pick<Deployment, 'variants' | 'batching' | 'logging' | 'threshold' | 'rollout' | 'shadow' | 'followAlias'>>;

/** A change decided under the row lock: what to set and how the history records it (null: nothing changes). */
export type ChangeDecision = { change: DeploymentChange; action: string; detail: Record<string, unknown> } | null;

/** The advisory lock key of the canary controller (any constant; shared by every server). */
const CONTROLLER_LOCK = 7_202_612_010;

export class DeploymentStore {
  constructor(private readonly sql: PluginSql) {}

  /** Creates it; `created: false` with the existing row when the name is taken. */
  async create(input: NewDeployment): Promise<{ deployment: Deployment; created: boolean }> {
    return this.sql.transaction(async (tx) => {
      const row = (
        await tx.query<DeploymentRow>(SQL.insert, [
          input.project,
          input.name,
          input.model,
          input.alias,
          input.followAlias,
          JSON.stringify(input.variants),
          JSON.stringify(input.batching),
          JSON.stringify(input.logging),
          input.threshold,
          input.createdBy,
        ])
      ).rows[0];
      if (!row) {
        const existing = (await tx.query<DeploymentRow>(SQL.get, [input.project, input.name])).rows[0];
        if (!existing) throw new AnvilError(ErrorCodes.CONFLICT, `deployment "${input.name}" was deleted while being created; retry`);
        return { deployment: toDeployment(existing), created: false };
      }
      await tx.query(SQL.historyInsert, [input.project, input.name, input.createdBy, 'created', JSON.stringify({ model: input.model, alias: input.alias, variants: input.variants })]);
      return { deployment: toDeployment(row), created: true };
    });
  }

  /** `db`: another executor to read through (a snapshot transaction); the plugin's pool by default. */
  async find(project: string, name: string, db: SqlExecutor = this.sql): Promise<Deployment | undefined> {
    const row = (await db.query<DeploymentRow>(SQL.get, [project, name])).rows[0];
    return row ? toDeployment(row) : undefined;
  }

  async get(project: string, name: string, db: SqlExecutor = this.sql): Promise<Deployment> {
    const found = await this.find(project, name, db);
    if (!found) throw notFound(project, name);
    return found;
  }

  /** Generations by `project\0name` of those that exist. */
  async generations(keys: ReadonlyArray<{ project: string; name: string }>): Promise<Map<string, number>> {
    const rows = (await this.sql.query<{ project: string; name: string; generation: number }>(SQL.generations, [keys.map((k) => k.project), keys.map((k) => k.name)])).rows;
    return new Map(rows.map((row) => [`${row.project}\0${row.name}`, row.generation]));
  }

  async list(project: string, after: string | null, limit: number): Promise<Deployment[]> {
    return (await this.sql.query<DeploymentRow>(SQL.list, [project, after, limit])).rows.map(toDeployment);
  }

  async history(project: string, name: string, limit: number, db: SqlExecutor = this.sql): Promise<HistoryEntry[]> {
    const rows = (await db.query<{ id: string | number; at: Timestamp; by: string; action: string; detail: Record<string, unknown> }>(SQL.historyList, [project, name, limit])).rows;
    return rows.map((row) => ({ id: Number(row.id), at: iso(row.at), by: row.by, action: row.action, detail: row.detail }));
  }

  /**
   * Reads the deployment under its row lock, lets `decide` choose a change from what it finds, and
   * writes it with a history row; all in one transaction (or in `tx` when given).
   */
  async change(project: string, name: string, by: string, decide: (current: Deployment, tx: SqlExecutor) => Promise<ChangeDecision> | ChangeDecision, tx?: SqlExecutor): Promise<{ deployment: Deployment; changed: boolean }> {
    const work = async (db: SqlExecutor) => {
      const row = (await db.query<DeploymentRow>(SQL.lock, [project, name])).rows[0];
      if (!row) throw notFound(project, name);
      const current = toDeployment(row);
      const decision = await decide(current, db);
      if (decision === null) return { deployment: current, changed: false };
      const next = { ...current, ...decision.change };
      const updated = (
        await db.query<DeploymentRow>(SQL.update, [
          project,
          name,
          JSON.stringify(next.variants),
          JSON.stringify(next.batching),
          JSON.stringify(next.logging),
          next.threshold,
          next.rollout === null ? null : JSON.stringify(next.rollout),
          next.shadow === null ? null : JSON.stringify(next.shadow),
          next.followAlias,
        ])
      ).rows[0] as DeploymentRow;
      // An empty action refreshes state (e.g. guardrail readings) without a history row.
      if (decision.action !== '') await db.query(SQL.historyInsert, [project, name, by, decision.action, JSON.stringify(decision.detail)]);
      return { deployment: toDeployment(updated), changed: true };
    };
    return tx ? work(tx) : this.sql.transaction(work);
  }

  /**
   * Deletes it under its row lock after `check` (which may refuse by throwing) saw the row; the
   * history keeps a `deleted` row with what it served. Undefined when there is no such deployment.
   */
  async delete(project: string, name: string, by: string, check: (current: Deployment) => Record<string, unknown>): Promise<Deployment | undefined> {
    return this.sql.transaction(async (tx) => {
      const row = (await tx.query<DeploymentRow>(SQL.lock, [project, name])).rows[0];
      if (!row) return undefined;
      const current = toDeployment(row);
      const detail = check(current);
      await tx.query(SQL.historyInsert, [project, name, by, 'deleted', JSON.stringify(detail)]);
      await tx.query(SQL.delete, [project, name]);
      return current;
    });
  }

  /** When the deployment last answered a request according to the prediction log (any server), within `withinSeconds`. */
  async lastLogged(project: string, name: string, withinSeconds: number): Promise<Date | undefined> {
    const at = (await this.sql.query<{ at: Timestamp | null }>(SQL.lastServed, [project, name, withinSeconds])).rows[0]?.at;
    return at ? new Date(at) : undefined;
  }

  /** Deployments with a rollout under way or an alias to follow, in every project. */
  async controlled(): Promise<Array<{ project: string; name: string }>> {
    return (await this.sql.query<{ project: string; name: string }>(SQL.controlled)).rows;
  }

  /**
   * Runs `work` only if this server holds the controller lock for the length of one transaction;
   * false when another server holds it.
   */
  async asController(work: (tx: SqlExecutor) => Promise<void>): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const locked = (await tx.query<{ locked: boolean }>(SQL.controllerLock, [CONTROLLER_LOCK])).rows[0]?.locked === true;
      if (locked) await work(tx);
      return locked;
    });
  }
}
