/** The agent's own tables (runs, run_steps, threads) in the agent plugin's schema. */
import { loadSql, type CallerPrincipal, type PluginSql } from 'anvil/plugin';
import type { Plan, ThreadMemory } from '../plan.ts';
import { emptyMemory } from './memory.ts';

const sql = (name: string) => loadSql(import.meta.url, `./sql/${name}.sql`);
const SQL = {
  insert: sql('run-insert'),
  get: sql('run-get'),
  byId: sql('run-by-id'),
  list: sql('runs-list'),
  setStatus: sql('run-set-status'),
  cancel: sql('run-cancel'),
  leaseTake: sql('lease-take'),
  leaseRelease: sql('lease-release'),
  resumable: sql('runs-resumable'),
  steps: sql('steps-of'),
  stepUpsert: sql('step-upsert'),
  stepFinish: sql('step-finish'),
  stepSkip: sql('step-skip'),
  stepFail: sql('step-fail'),
  threadGet: sql('thread-get'),
  threadLock: sql('thread-lock'),
  threadPut: sql('thread-put'),
  expire: sql('checkpoints-expire'),
} as const;

export type RunStatus = 'planned' | 'running' | 'waiting_approval' | 'succeeded' | 'failed' | 'rejected' | 'canceled';
export const FINAL_STATUSES: ReadonlySet<RunStatus> = new Set(['planned', 'succeeded', 'failed', 'rejected', 'canceled']);
export type StepState = 'waiting_approval' | 'started' | 'succeeded' | 'skipped' | 'failed' | 'rejected';

export interface RunRow extends Record<string, unknown> {
  id: string;
  project: string;
  thread_id: string;
  command: string;
  planner: string;
  plan: Plan;
  status: RunStatus;
  dry_run: boolean;
  principal: CallerPrincipal;
  requested_by: string;
  approval_required: string[];
  error: { code: string; message: string; step?: string } | null;
  created_at: Date | string;
  updated_at: Date | string;
  finished_at: Date | string | null;
}

export interface StepRow extends Record<string, unknown> {
  run_id: string;
  step_id: string;
  state: StepState;
  args: Record<string, unknown>;
  args_hash: string | null;
  approval_id: string | null;
  idempotency_key: string | null;
  attempts: number;
  result: unknown;
  error: { code: string; message: string } | null;
  started_at: Date | string | null;
  finished_at: Date | string | null;
}

export interface NewRun {
  id: string;
  project: string;
  threadId: string;
  command: string;
  plan: Plan;
  status: RunStatus;
  dryRun: boolean;
  principal: CallerPrincipal;
  approvalRequired: string[];
}

const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);

export class AgentStore {
  constructor(readonly sql: PluginSql) {}

  async insert(run: NewRun): Promise<RunRow> {
    const values = [run.id, run.project, run.threadId, run.command, run.plan.planner, JSON.stringify(run.plan), run.status, run.dryRun, JSON.stringify(run.principal), run.principal.id, JSON.stringify(run.approvalRequired)];
    return (await this.sql.query<RunRow>(SQL.insert, values)).rows[0] as RunRow;
  }

  /** A run of `project`; another project's id is exactly like one that does not exist. */
  async get(project: string, id: string): Promise<RunRow | undefined> {
    if (!isUuid(id)) return undefined;
    return (await this.sql.query<RunRow>(SQL.get, [project, id])).rows[0];
  }

  async byId(id: string): Promise<RunRow | undefined> {
    return (await this.sql.query<RunRow>(SQL.byId, [id])).rows[0];
  }

  async list(project: string, filter: { threadId?: string; status?: RunStatus; after?: { at: string; id: string }; limit: number }): Promise<RunRow[]> {
    const values = [project, filter.threadId ?? null, filter.status ?? null, filter.after?.at ?? null, filter.after?.id ?? null, filter.limit];
    return (await this.sql.query<RunRow>(SQL.list, values)).rows;
  }

  /** Moves a run that is not finished to `status`; undefined when it had finished already. */
  async setStatus(id: string, status: RunStatus, error?: RunRow['error']): Promise<RunRow | undefined> {
    return (await this.sql.query<RunRow>(SQL.setStatus, [id, status, error ? JSON.stringify(error) : null])).rows[0];
  }

  async cancel(project: string, id: string): Promise<RunRow | undefined> {
    if (!isUuid(id)) return undefined;
    return (await this.sql.query<RunRow>(SQL.cancel, [project, id])).rows[0];
  }

  async takeLease(id: string, owner: string, ms: number): Promise<boolean> {
    return (await this.sql.query(SQL.leaseTake, [id, owner, Math.round(ms)])).rowCount > 0;
  }

  async releaseLease(id: string, owner: string): Promise<void> {
    await this.sql.query(SQL.leaseRelease, [id, owner]);
  }

  async resumable(limit: number): Promise<Array<{ id: string; status: RunStatus }>> {
    return (await this.sql.query<{ id: string; status: RunStatus }>(SQL.resumable, [limit])).rows;
  }

  async steps(runId: string): Promise<StepRow[]> {
    return (await this.sql.query<StepRow>(SQL.steps, [runId])).rows;
  }

  /** Records a step as waiting or started (attempts counts starts); a finished step is left alone (undefined). */
  async markStep(runId: string, stepId: string, state: 'waiting_approval' | 'started', args: Record<string, unknown>, hash: string, extra: { approvalId?: string; idempotencyKey?: string }): Promise<StepRow | undefined> {
    const values = [runId, stepId, state, JSON.stringify(args), hash, extra.approvalId ?? null, extra.idempotencyKey ?? null, state === 'started' ? 1 : 0];
    return (await this.sql.query<StepRow>(SQL.stepUpsert, values)).rows[0];
  }

  async finishStep(runId: string, stepId: string, state: 'succeeded' | 'failed' | 'rejected', result: unknown, error?: { code: string; message: string }): Promise<void> {
    await this.sql.query(SQL.stepFinish, [runId, stepId, state, result === undefined ? null : JSON.stringify(result), error ? JSON.stringify(error) : null]);
  }

  /** Records a step as failed, whether or not it had started. */
  async failStep(runId: string, stepId: string, error: { code: string; message: string }): Promise<void> {
    await this.sql.query(SQL.stepFail, [runId, stepId, JSON.stringify(error)]);
  }

  async skipStep(runId: string, stepId: string, why: string): Promise<void> {
    await this.sql.query(SQL.stepSkip, [runId, stepId, JSON.stringify({ code: 'skipped', message: why })]);
  }

  async memory(project: string, threadId: string): Promise<ThreadMemory> {
    const row = (await this.sql.query<{ memory: ThreadMemory }>(SQL.threadGet, [project, threadId])).rows[0];
    return row?.memory ?? emptyMemory();
  }

  /** Read-modify-write of a thread's memory in one transaction (steps of two runs may finish together). */
  async updateMemory(project: string, threadId: string, change: (memory: ThreadMemory) => ThreadMemory): Promise<void> {
    await this.sql.transaction(async (tx) => {
      const row = (await tx.query<{ memory: ThreadMemory }>(SQL.threadLock, [project, threadId])).rows[0];
      await tx.query(SQL.threadPut, [project, threadId, JSON.stringify(change(row?.memory ?? emptyMemory()))]);
    });
  }

  /** Deletes the checkpoints of runs finished more than `days` ago; returns how many checkpoints went. */
  async expireCheckpoints(days: number): Promise<number> {
    return (await this.sql.query(SQL.expire, [days])).rowCount;
  }
}
