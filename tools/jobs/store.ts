/**
 * The job system's source of truth in SQL (schema `plugin_jobs`, Postgres or embedded PGlite).
 * BullMQ carries job ids; every state, event, log line, metric and worker lease lives here.
 *
 * Rules every method keeps:
 * - Each state change is one transaction that updates the job only if it is still in an expected
 *   state (`where id = $1 and state = any($from)`) and writes exactly one `job_events` row.
 * - Transitions outside the state machine (states.ts) are refused before any SQL runs.
 * - Project-scoped reads (`get`, `list`, `logs`, `metrics`, `events`, `requestCancel`) answer
 *   NOT_FOUND for another project's job, so ids never reveal what exists elsewhere.
 * - Worker-side calls (`claim`, `transition`, `requeue`, `appendLogs`, `appendMetrics`) take a job
 *   id only: they come from the dispatcher and workers, not from a caller's project.
 */
import { randomUUID } from 'node:crypto';
import { AnvilError, ErrorCodes, type PluginSql, type SqlExecutor, loadSql } from 'anvil/plugin';
import { resourceClassOf } from './resources.ts';
import {
  type EventRow,
  type Job,
  type JobError,
  type JobEvent,
  type JobRow,
  type LogLevel,
  type LogLine,
  type LogRow,
  type MetricPoint,
  type MetricRow,
  type Worker,
  type WorkerRow,
  type WorkerState,
  type WorkerWithJobs,
  toEvent,
  toJob,
  toMetricPoint,
  toWorker,
  toWorkerWithJobs,
} from './rows.ts';
import type {
  SubmitInput,
  SubmitResult,
  TransitionInput,
  ClaimResult,
  RequeueOptions,
  RequeueResult,
  CancelResult,
  ListOptions,
  JobPage,
  LogLineInput,
  AppendLogsResult,
  LogsOptions,
  LogPage,
  MetricPointInput,
  DependencyStatus,
  RegisterWorkerInput,
  MarkLostResult,
} from './store-types.ts';
import { canTransition, isJobState, isTerminal, JOB_STATES, type JobState } from './states.ts';
import { cleanText, cutUtf8, decodeCursor, encodeCursor, int, invalid, jsonText, parseResources, plainObject, text, uuid } from './validate.ts';

export * from './rows.ts';
export * from './store-types.ts';

/** The migrations this store needs in the plugin's schema (`ctx.migrations(jobsMigrations)`). */
export const jobsMigrations = new URL('./migrations/', import.meta.url);

const sql = (name: string) => loadSql(import.meta.url, `./sql/${name}.sql`);
const SQL = {
  submit: sql('submit'),
  submitExisting: sql('submit-existing'),
  jobsInProject: sql('jobs-in-project'),
  transition: sql('transition'),
  lockJob: sql('lock-job'),
  cancelRequest: sql('cancel-request'),
  get: sql('get'),
  list: sql('list'),
  events: sql('events'),
  logHead: sql('log-head'),
  logsAppend: sql('logs-append'),
  logsAfter: sql('logs-after'),
  logsTail: sql('logs-tail'),
  metricsUpsert: sql('metrics-upsert'),
  metrics: sql('metrics'),
  dependencies: sql('dependencies'),
  dependents: sql('dependents'),
  workerRegister: sql('worker-register'),
  workerHeartbeat: sql('worker-heartbeat'),
  workersExpired: sql('workers-expired'),
  workerMarkLost: sql('worker-mark-lost'),
  workerRetire: sql('worker-retire'),
  workersList: sql('workers-list'),
  workerState: sql('worker-state'),
} as const;

export const LIMITS = {
  listDefault: 20,
  listMax: 100,
  maxAttemptsDefault: 3,
  maxAttemptsMax: 100,
  priorityMin: -1_000_000,
  priorityMax: 1_000_000,
  dependsOnMax: 100,
  /** params, checkpoint, result and error, each as JSON. */
  jsonBytesMax: 1_048_576,
  /** A longer log line is cut (and ends with …) when appended. */
  logLineBytesMax: 16_384,
  logBatchMax: 10_000,
  logPageLinesMax: 1_000,
  logPageBytesDefault: 16_384,
  logPageBytesMax: 1_048_576,
  metricBatchMax: 10_000,
  leaseMsMax: 86_400_000,
  timeoutMsDefault: 86_400_000,
  timeoutMsMax: 7 * 86_400_000,
  slotsMax: 256,
  recipesMax: 1_000,
} as const;

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const RESOURCE_CLASS = /^(cpu|gpu-any|gpu-[a-z0-9][a-z0-9._-]{0,39})$/;
const REASON_MAX = 1_000;
const NAME_MAX = 200;

// -------------------------------------------------------------------------------------------------

interface MoveSpec extends TransitionInput {
  attemptDelta?: number;
  notBeforeMs?: number;
}

type MoveOutcome = { moved: true; job: Job } | { moved: false; state: JobState; worker: string | null; attempt: number };

/** A state change checked against the state machine, its inputs encoded for SQL. */
interface PreparedMove {
  id: string;
  from: JobState[];
  to: JobState;
  worker: string | null;
  reason: string;
  expectWorker: string | null;
  expectAttempt: number | null;
  project: string | null;
  checkpoint: string | null;
  result: string | null;
  error: string | null;
  attemptDelta: number;
  notBeforeMs: number | null;
  details: string;
}

type LockRow = { id: string; state: string; worker: string | null; attempt: number; max_attempts: number; cancel_requested: boolean };

type SubmitExistingRow = JobRow & {
  same_recipe: boolean;
  same_params: boolean;
  same_resources: boolean;
  same_priority: boolean;
  same_max_attempts: boolean;
  same_depends_on: boolean;
};

function notFound(jobId: string, project?: string): AnvilError {
  return new AnvilError(ErrorCodes.NOT_FOUND, project === undefined ? `No job ${jobId}` : `No job ${jobId} in project ${project}`, {
    details: { jobId },
  });
}

function conflict(message: string, details: Record<string, unknown>): AnvilError {
  return new AnvilError(ErrorCodes.CONFLICT, message, { details });
}

const INPUT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function jobInputs(inputs: ReadonlyArray<{ name: string; sha256: string }>): Array<{ name: string; sha256: string }> {
  if (inputs.length > 100) throw invalid(`a job takes at most 100 inputs, got ${inputs.length}`);
  const names = new Set<string>();
  return inputs.map((item, index) => {
    if (typeof item.name !== 'string' || !INPUT_NAME.test(item.name)) throw invalid(`inputs[${index}].name must be a file name (letters, digits, ".", "_", "-")`);
    if (names.has(item.name)) throw invalid(`inputs[${index}].name ${item.name} is given twice`);
    names.add(item.name);
    if (typeof item.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(item.sha256)) throw invalid(`inputs[${index}].sha256 must be 64 lower-case hex digits`);
    return { name: item.name, sha256: item.sha256 };
  });
}

function reasonText(reason: unknown): string {
  return text(reason, 'reason', REASON_MAX);
}

function project(value: unknown): string {
  return text(value, 'project', NAME_MAX);
}

function workerId(value: unknown): string {
  return text(value, 'worker id', NAME_MAX);
}

function jobError(error: JobError | undefined): string | null {
  if (error === undefined) return null;
  const checked = plainObject(error, 'error');
  if (typeof checked.message !== 'string') throw invalid('error.message must be a string');
  return jsonText(checked, 'error', LIMITS.jsonBytesMax);
}

export class JobStore {
  /** `sql` resolves `{{schema}}` to the schema the jobs migrations ran in (the plugin's `ctx.sql`). */
  constructor(private readonly sql: PluginSql) {}

  // -----------------------------------------------------------------------------------------------
  // Submission

  /**
   * Queues a job. With an idempotency key, the same submission again (or concurrently) yields the
   * one job, `created: false`; the same key with different content is a CONFLICT naming the key.
   * `dependsOn` ids must be jobs of the same project (NOT_FOUND naming the missing ones).
   */
  async submit(projectId: string, input: SubmitInput): Promise<SubmitResult> {
    const inProject = project(projectId);
    const recipe = text(input.recipe, 'recipe', NAME_MAX);
    const params = jsonText(plainObject(input.params ?? {}, 'params'), 'params', LIMITS.jsonBytesMax) ?? '{}';
    const resources = parseResources(input.resources);
    const priority = int(input.priority ?? 0, 'priority', LIMITS.priorityMin, LIMITS.priorityMax);
    const maxAttempts = int(input.maxAttempts ?? LIMITS.maxAttemptsDefault, 'maxAttempts', 1, LIMITS.maxAttemptsMax);
    const key = input.idempotencyKey === undefined ? null : text(input.idempotencyKey, 'idempotencyKey', NAME_MAX);
    const dependsOn = [...new Set((input.dependsOn ?? []).map((id) => uuid(id, 'dependsOn id')))].sort();
    if (dependsOn.length > LIMITS.dependsOnMax) throw invalid(`dependsOn lists ${dependsOn.length} jobs; at most ${LIMITS.dependsOnMax}`);
    const resourcesJson = JSON.stringify(resources);
    const timeoutMs = int(input.timeoutMs ?? LIMITS.timeoutMsDefault, 'timeoutMs', 1_000, LIMITS.timeoutMsMax);
    const inputs = jobInputs(input.inputs ?? []);

    return this.sql.transaction(async (tx) => {
      if (dependsOn.length > 0) {
        const found = new Set((await tx.query<{ id: string }>(SQL.jobsInProject, [inProject, dependsOn])).rows.map((row) => row.id));
        const missing = dependsOn.filter((id) => !found.has(id));
        if (missing.length > 0) {
          throw new AnvilError(ErrorCodes.NOT_FOUND, `dependsOn names no job in project ${inProject}: ${missing.join(', ')}`, { details: { missing } });
        }
      }
      const inserted = await tx.query<JobRow>(SQL.submit, [
        randomUUID(),
        inProject,
        recipe,
        params,
        resourcesJson,
        resourceClassOf(resources),
        priority,
        maxAttempts,
        key,
        dependsOn,
        timeoutMs,
        JSON.stringify(inputs),
      ]);
      const row = inserted.rows[0];
      if (row) return { job: toJob(row), created: true };

      // Only a taken idempotency key inserts nothing; the job holding it has committed by now.
      const existing = (await tx.query<SubmitExistingRow>(SQL.submitExisting, [inProject, key, recipe, params, resourcesJson, priority, maxAttempts, dependsOn]))
        .rows[0];
      if (!existing) throw conflict(`Idempotency key "${key}" is being used by a submission that did not finish; retry`, { idempotencyKey: key });
      const differs = (
        [
          ['recipe', existing.same_recipe],
          ['params', existing.same_params],
          ['resources', existing.same_resources],
          ['priority', existing.same_priority],
          ['maxAttempts', existing.same_max_attempts],
          ['dependsOn', existing.same_depends_on],
        ] as const
      )
        .filter(([, same]) => !same)
        .map(([field]) => field);
      if (differs.length > 0) {
        throw conflict(
          `Idempotency key "${key}" already submitted job ${existing.id} in project ${inProject} with a different ${differs.join(', ')}; use a new key for a different job`,
          { idempotencyKey: key, jobId: existing.id, differs },
        );
      }
      return { job: toJob(existing), created: false };
    });
  }

  // -----------------------------------------------------------------------------------------------
  // State changes

  /**
   * Moves a job `from` one of the given states `to` another, with its event, in one transaction.
   * A pair outside the state machine is INVALID_INPUT (no SQL runs); a job not in a `from` state
   * (or not held by `expect`) is CONFLICT naming its current state and the attempted transition.
   */
  async transition(jobId: string, input: TransitionInput): Promise<Job> {
    const move = this.prepare(uuid(jobId), input);
    const outcome = await this.sql.transaction((tx) => this.move(tx, move));
    if (outcome.moved) return outcome.job;
    throw this.refusal(move, outcome);
  }

  /**
   * queued → running for `worker`. Of several concurrent claimers exactly one gets `claimed`; the
   * others get `lost` with the state the job is in (not an exception).
   */
  async claim(jobId: string, worker: string): Promise<ClaimResult> {
    const move = this.prepare(uuid(jobId), { from: ['queued'], to: 'running', reason: 'claimed', worker });
    const outcome = await this.sql.transaction((tx) => this.move(tx, move));
    if (outcome.moved) return { outcome: 'claimed', job: outcome.job };
    return { outcome: 'lost', state: outcome.state, worker: outcome.worker };
  }

  /**
   * running → queued for another attempt (retry, preemption, a lost worker), keeping the last
   * checkpoint unless a newer one is given. With no attempt left it goes to failed instead
   * (error code `attempts_exhausted`); with a cancel pending, to cancelled.
   */
  async requeue(jobId: string, reason: string, checkpoint?: unknown, options: RequeueOptions = {}): Promise<RequeueResult> {
    const id = uuid(jobId);
    const why = reasonText(reason);
    const expectWorker = options.worker === undefined ? undefined : workerId(options.worker);
    const countAttempt = options.countAttempt ?? true;
    jsonText(checkpoint, 'checkpoint', LIMITS.jsonBytesMax);
    return this.sql.transaction(async (tx) => {
      const row = await this.lock(tx, id, null);
      if (row.state !== 'running') {
        throw conflict(`Job ${id} is ${row.state}; only a running job can be requeued (running → queued)`, {
          jobId: id,
          state: row.state,
          attempted: { from: ['running'], to: 'queued' },
        });
      }
      if (expectWorker !== undefined && row.worker !== expectWorker) {
        throw conflict(`Job ${id} is running on ${row.worker ?? 'no worker'}, not ${expectWorker}; not requeued`, {
          jobId: id,
          worker: row.worker,
          expectedWorker: expectWorker,
        });
      }
      const common = { from: ['running'] as const, checkpoint, details: options.details };
      let outcome: MoveOutcome;
      let result: RequeueResult['outcome'];
      if (row.cancel_requested) {
        result = 'cancelled';
        outcome = await this.move(tx, this.prepare(id, { ...common, to: 'cancelled', reason: `${why}; a cancel was requested, so it is not requeued` }), row);
      } else if (countAttempt && row.attempt >= row.max_attempts) {
        result = 'failed';
        // The last failure's details (its last log lines, exit code) stay on the record.
        const error: JobError = { ...options.error, code: 'attempts_exhausted', message: `${why}; no attempts left (${row.attempt} of ${row.max_attempts} used)` };
        outcome = await this.move(tx, this.prepare(id, { ...common, to: 'failed', reason: error.message, error }), row);
      } else {
        result = 'requeued';
        outcome = await this.move(
          tx,
          this.prepare(id, { ...common, to: 'queued', reason: why, attemptDelta: countAttempt ? 1 : 0, ...(options.notBeforeMs === undefined ? {} : { notBeforeMs: options.notBeforeMs }) }),
          row,
        );
      }
      if (!outcome.moved) throw new AnvilError(ErrorCodes.INTERNAL, `Job ${id} changed while locked for requeue`);
      return { outcome: result, job: outcome.job };
    });
  }

  /**
   * Cancels a project's job: a queued one at once; a running one is flagged (`cancelRequested`,
   * with an event) for its worker to stop; a finished one is a CONFLICT.
   */
  async requestCancel(projectId: string, jobId: string, reason = 'cancel requested'): Promise<CancelResult> {
    const inProject = project(projectId);
    const id = uuid(jobId);
    const why = reasonText(reason);
    return this.sql.transaction(async (tx) => {
      const row = await this.lock(tx, id, inProject);
      const state = row.state as JobState;
      if (isTerminal(state)) {
        throw conflict(`Job ${id} is already ${state}; there is nothing to cancel`, { jobId: id, state, attempted: { from: [state], to: 'cancelled' } });
      }
      if (state === 'queued') {
        const outcome = await this.move(tx, this.prepare(id, { from: ['queued'], to: 'cancelled', reason: why }), row);
        if (!outcome.moved) throw new AnvilError(ErrorCodes.INTERNAL, `Job ${id} changed while locked for cancel`);
        return { outcome: 'cancelled', job: outcome.job };
      }
      if (row.cancel_requested) {
        const current = (await tx.query<JobRow>(SQL.get, [id, inProject])).rows[0];
        if (!current) throw notFound(id, inProject);
        return { outcome: 'already-requested', job: toJob(current) };
      }
      const flagged = (await tx.query<JobRow>(SQL.cancelRequest, [id, why])).rows[0];
      if (!flagged) throw new AnvilError(ErrorCodes.INTERNAL, `Job ${id} changed while locked for cancel`);
      return { outcome: 'cancel-requested', job: toJob(flagged) };
    });
  }

  /** Checks a state change against the state machine and encodes its inputs; throws before any SQL. */
  private prepare(id: string, spec: MoveSpec): PreparedMove {
    const from = [...new Set(spec.from)];
    if (from.length === 0) throw invalid('from must name at least one state');
    for (const state of [...from, spec.to]) {
      if (!isJobState(state)) throw invalid(`${JSON.stringify(state)} is not a job state (${JOB_STATES.join(', ')})`);
    }
    const illegal = from.filter((state) => !canTransition(state, spec.to));
    if (illegal.length > 0) {
      throw invalid(`${illegal.map((state) => `${state} → ${spec.to}`).join(', ')} is not a transition of the job state machine`, {
        jobId: id,
        attempted: { from, to: spec.to },
      });
    }
    const worker = spec.worker === undefined ? null : workerId(spec.worker);
    if (spec.to === 'running' && worker === null) throw invalid('moving a job to running needs the worker that runs it');
    return {
      id,
      from,
      to: spec.to,
      worker,
      reason: reasonText(spec.reason),
      expectWorker: spec.expect?.worker === undefined ? null : workerId(spec.expect.worker),
      expectAttempt: spec.expect?.attempt === undefined ? null : int(spec.expect.attempt, 'expect.attempt', 1, LIMITS.maxAttemptsMax),
      project: spec.project === undefined ? null : project(spec.project),
      checkpoint: jsonText(spec.checkpoint, 'checkpoint', LIMITS.jsonBytesMax),
      result: jsonText(spec.result, 'result', LIMITS.jsonBytesMax),
      error: jobError(spec.error),
      attemptDelta: spec.attemptDelta ?? 0,
      notBeforeMs: spec.notBeforeMs === undefined ? null : int(Math.round(spec.notBeforeMs), 'notBeforeMs', 0, LIMITS.leaseMsMax),
      details: jsonText(spec.details === undefined ? {} : plainObject(spec.details, 'details'), 'details', LIMITS.jsonBytesMax) ?? '{}',
    };
  }

  /** Locks a job's row until the transaction ends (NOT_FOUND when absent, or not in `inProject`). */
  private async lock(tx: SqlExecutor, id: string, inProject: string | null): Promise<LockRow> {
    const row = (await tx.query<LockRow>(SQL.lockJob, [id, inProject])).rows[0];
    if (!row) throw notFound(id, inProject ?? undefined);
    return row;
  }

  /**
   * Within a transaction: locks the job (or takes the row the caller locked) and moves it if it is
   * in a `from` state and held as expected; otherwise reports where it is, changing nothing.
   */
  private async move(tx: SqlExecutor, move: PreparedMove, locked?: LockRow): Promise<MoveOutcome> {
    const row = locked ?? (await this.lock(tx, move.id, move.project));
    const state = row.state as JobState;
    const held = (move.expectWorker === null || row.worker === move.expectWorker) && (move.expectAttempt === null || row.attempt === move.expectAttempt);
    if (!move.from.includes(state) || !held) return { moved: false, state, worker: row.worker, attempt: row.attempt };
    const { rows } = await tx.query<JobRow>(SQL.transition, [
      move.id,
      state,
      move.to,
      move.worker,
      move.checkpoint,
      move.result,
      move.error,
      move.attemptDelta,
      move.reason,
      move.details,
      move.notBeforeMs,
    ]);
    const job = rows[0];
    if (!job) throw new AnvilError(ErrorCodes.INTERNAL, `Job ${move.id} changed while locked (${state} → ${move.to})`);
    return { moved: true, job: toJob(job) };
  }

  private refusal(move: PreparedMove, found: { state: JobState; worker: string | null; attempt: number }): AnvilError {
    const attempted = `${move.from.join('|')} → ${move.to}`;
    const details = { jobId: move.id, state: found.state, worker: found.worker, attempt: found.attempt, attempted: { from: move.from, to: move.to } };
    if (!move.from.includes(found.state)) return conflict(`Job ${move.id} is ${found.state}, so it cannot move ${attempted}`, details);
    return conflict(
      `Job ${move.id} is ${found.state} on ${found.worker ?? 'no worker'} (attempt ${found.attempt}), not on ${move.expectWorker ?? 'that worker'}` +
        `${move.expectAttempt === null ? '' : ` (attempt ${move.expectAttempt})`}; refused ${attempted}`,
      details,
    );
  }

  // -----------------------------------------------------------------------------------------------
  // Reads

  async get(projectId: string, jobId: string): Promise<Job> {
    const inProject = project(projectId);
    const id = uuid(jobId);
    const row = (await this.sql.query<JobRow>(SQL.get, [id, inProject])).rows[0];
    if (!row) throw notFound(id, inProject);
    return toJob(row);
  }

  /** A project's jobs, newest first; `nextCursor` pages on (stable while new jobs arrive). */
  async list(projectId: string, options: ListOptions = {}): Promise<JobPage> {
    const inProject = project(projectId);
    const limit = int(options.limit ?? LIMITS.listDefault, 'limit', 1, LIMITS.listMax);
    const states = options.states === undefined ? null : [...new Set(options.states)];
    for (const state of states ?? []) if (!isJobState(state)) throw invalid(`${JSON.stringify(state)} is not a job state (${JOB_STATES.join(', ')})`);
    const recipe = options.recipe === undefined ? null : text(options.recipe, 'recipe', NAME_MAX);
    const before = options.cursor === undefined ? null : decodeCursor(options.cursor);
    const { rows } = await this.sql.query<JobRow>(SQL.list, [inProject, states, recipe, before, limit + 1]);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { jobs: page.map(toJob), nextCursor: rows.length > limit && last ? encodeCursor(Number(last.seq)) : null };
  }

  /** A project's job's state changes, oldest first. */
  async events(projectId: string, jobId: string): Promise<JobEvent[]> {
    const inProject = project(projectId);
    const id = uuid(jobId);
    const { rows } = await this.sql.query<EventRow>(SQL.events, [id, inProject]);
    if (rows.length === 0) throw notFound(id, inProject); // every job has its submission event
    return rows.map(toEvent);
  }

  // -----------------------------------------------------------------------------------------------
  // Logs

  /**
   * Appends lines with consecutive seq numbers (unique and gap-free under concurrent writers).
   * NUL becomes U+FFFD; a line over 16 KiB is cut and ends with "…".
   */
  async appendLogs(jobId: string, lines: readonly LogLineInput[]): Promise<AppendLogsResult> {
    const id = uuid(jobId);
    if (lines.length > LIMITS.logBatchMax) throw invalid(`a log batch holds at most ${LIMITS.logBatchMax} lines, got ${lines.length}`);
    if (lines.length === 0) return { count: 0, firstSeq: null, lastSeq: null };
    const levels: string[] = [];
    const messages: string[] = [];
    const times: Array<Date | null> = [];
    for (const [index, line] of lines.entries()) {
      if (typeof line.message !== 'string') throw invalid(`lines[${index}].message must be a string`);
      const level = line.level ?? 'info';
      if (!LOG_LEVELS.includes(level)) throw invalid(`lines[${index}].level must be one of ${LOG_LEVELS.join(', ')}`);
      if (line.at !== undefined && !(line.at instanceof Date && Number.isFinite(line.at.getTime()))) throw invalid(`lines[${index}].at must be a valid Date`);
      const message = cleanText(line.message);
      levels.push(level);
      messages.push(Buffer.byteLength(message) > LIMITS.logLineBytesMax ? `${cutUtf8(message, LIMITS.logLineBytesMax - 3)}…` : message);
      times.push(line.at ?? null);
    }
    const row = (await this.sql.query<{ base: string; count: string }>(SQL.logsAppend, [id, lines.length, levels, messages, times])).rows[0];
    if (!row) throw notFound(id);
    const first = Number(row.base) + 1;
    return { count: Number(row.count), firstSeq: first, lastSeq: first + lines.length - 1 };
  }

  /**
   * A page of a project's job's log within a byte budget for message text (never exceeded: a
   * single line over the budget comes back cut, marked `cut`). Page on with `afterSeq: nextSeq`.
   */
  async logs(projectId: string, jobId: string, options: LogsOptions = {}): Promise<LogPage> {
    const inProject = project(projectId);
    const id = uuid(jobId);
    const maxBytes = int(options.maxBytes ?? LIMITS.logPageBytesDefault, 'maxBytes', 1, LIMITS.logPageBytesMax);
    const maxLines = int(options.maxLines ?? LIMITS.logPageLinesMax, 'maxLines', 1, LIMITS.logPageLinesMax);
    if (options.tail !== undefined && options.afterSeq !== undefined) throw invalid('give afterSeq or tail, not both');
    const head = (await this.sql.query<{ log_seq: string }>(SQL.logHead, [id, inProject])).rows[0];
    if (!head) throw notFound(id, inProject);
    const lastSeq = Number(head.log_seq);

    if (options.tail !== undefined) {
      const tail = Math.min(int(options.tail, 'tail', 1, LIMITS.logPageLinesMax), maxLines);
      const rows = (await this.sql.query<LogRow>(SQL.logsTail, [id, tail, maxBytes])).rows;
      const lines = rows.map((row) => this.logLine(row, maxBytes));
      const first = lines[0];
      const last = lines[lines.length - 1];
      return { lines, nextSeq: last?.seq ?? lastSeq, lastSeq: Math.max(lastSeq, last?.seq ?? 0), truncated: first !== undefined && first.seq > 1 };
    }

    const afterSeq = int(options.afterSeq ?? 0, 'afterSeq', 0, Number.MAX_SAFE_INTEGER);
    const rows = (await this.sql.query<LogRow>(SQL.logsAfter, [id, afterSeq, maxLines, maxBytes])).rows;
    const lines = rows.map((row) => this.logLine(row, maxBytes));
    const nextSeq = lines[lines.length - 1]?.seq ?? afterSeq;
    const seen = Math.max(lastSeq, nextSeq);
    return { lines, nextSeq, lastSeq: seen, truncated: nextSeq < seen };
  }

  private logLine(row: LogRow, maxBytes: number): LogLine {
    const line: LogLine = { seq: Number(row.seq), at: row.at, level: row.level as LogLevel, message: row.message };
    if (Number(row.running) > maxBytes) {
      // Only the page's first line can be over budget (the query keeps it so paging moves on).
      line.message = cutUtf8(row.message, maxBytes);
      line.cut = true;
    }
    return line;
  }

  // -----------------------------------------------------------------------------------------------
  // Metrics

  /** Records points; sending a (name, step) again replaces its value, so retried batches are harmless. */
  async appendMetrics(jobId: string, points: readonly MetricPointInput[]): Promise<{ count: number }> {
    const id = uuid(jobId);
    if (points.length > LIMITS.metricBatchMax) throw invalid(`a metric batch holds at most ${LIMITS.metricBatchMax} points, got ${points.length}`);
    // One row per (name, step) in a batch: Postgres refuses to upsert a row twice in one statement. Last wins.
    const unique = new Map<string, MetricPointInput>();
    for (const [index, point] of points.entries()) {
      text(point.name, `points[${index}].name`, NAME_MAX);
      int(point.step, `points[${index}].step`, 0, Number.MAX_SAFE_INTEGER);
      if (typeof point.value !== 'number') throw invalid(`points[${index}].value must be a number (NaN and Infinity are kept)`);
      if (point.at !== undefined && !(point.at instanceof Date && Number.isFinite(point.at.getTime()))) throw invalid(`points[${index}].at must be a valid Date`);
      unique.set(`${point.step}\u0000${point.name}`, point);
    }
    if (unique.size === 0) return { count: 0 };
    const batch = [...unique.values()];
    try {
      await this.sql.query(SQL.metricsUpsert, [
        id,
        batch.map((point) => point.step),
        batch.map((point) => point.name),
        batch.map((point) => point.value),
        batch.map((point) => point.at ?? null),
      ]);
    } catch (error) {
      if ((error as { code?: unknown }).code === '23503') throw notFound(id); // foreign key: no such job
      throw error;
    }
    return { count: batch.length };
  }

  /** A project's job's metric points (one name, or all), by name then step. */
  async metrics(projectId: string, jobId: string, name?: string): Promise<MetricPoint[]> {
    const inProject = project(projectId);
    const id = uuid(jobId);
    const metric = name === undefined ? null : text(name, 'name', NAME_MAX);
    if (!(await this.sql.query(SQL.logHead, [id, inProject])).rows[0]) throw notFound(id, inProject);
    return (await this.sql.query<MetricRow>(SQL.metrics, [id, metric])).rows.map(toMetricPoint);
  }

  // -----------------------------------------------------------------------------------------------
  // Dependencies

  /** Whether a job may run: all dependencies succeeded, some still pending, or one can never succeed. */
  async dependenciesSatisfied(jobId: string): Promise<DependencyStatus> {
    const id = uuid(jobId);
    const { rows } = await this.sql.query<{ dependency: string | null; state: string | null }>(SQL.dependencies, [id]);
    if (rows.length === 0) throw notFound(id);
    const failed: Array<{ id: string; state: JobState | 'missing' }> = [];
    const waitingOn: string[] = [];
    for (const row of rows) {
      if (row.dependency === null) continue;
      if (row.state === null) failed.push({ id: row.dependency, state: 'missing' });
      else if (row.state === 'failed' || row.state === 'cancelled') failed.push({ id: row.dependency, state: row.state });
      else if (row.state !== 'succeeded') waitingOn.push(row.dependency);
    }
    if (failed.length > 0) return { status: 'failed', failed };
    if (waitingOn.length > 0) return { status: 'waiting', waitingOn };
    return { status: 'satisfied' };
  }

  /** Queued jobs waiting on `jobId`, in dispatch order (to release or fail when it finishes). */
  async dependents(jobId: string): Promise<string[]> {
    const id = uuid(jobId);
    return (await this.sql.query<{ id: string }>(SQL.dependents, [id])).rows.map((row) => row.id);
  }

  // -----------------------------------------------------------------------------------------------
  // Workers

  /**
   * Registers (or re-registers) a worker with a lease of `leaseMs` from now. `runningJobs` lists
   * jobs still running under this id from a previous process: the caller requeues them.
   */
  async registerWorker(input: RegisterWorkerInput): Promise<WorkerWithJobs> {
    const id = workerId(input.id);
    const name = text(input.name, 'worker name', NAME_MAX);
    const capabilities = jsonText(plainObject(input.capabilities, 'capabilities'), 'capabilities', LIMITS.jsonBytesMax);
    const classes = [...new Set(input.resourceClasses)];
    for (const resourceClass of classes) {
      if (typeof resourceClass !== 'string' || !RESOURCE_CLASS.test(resourceClass)) {
        throw invalid(`resource class ${JSON.stringify(resourceClass)} must be cpu, gpu-any or gpu-<type>`);
      }
    }
    const leaseMs = int(input.leaseMs, 'leaseMs', 1, LIMITS.leaseMsMax);
    const slots = int(input.slots ?? 1, 'slots', 1, LIMITS.slotsMax);
    const recipes = [...new Set(input.recipes ?? [])].map((recipe, index) => text(recipe, `recipes[${index}]`, NAME_MAX));
    if (recipes.length > LIMITS.recipesMax) throw invalid(`a worker lists at most ${LIMITS.recipesMax} recipes`);
    const row = (await this.sql.query<WorkerRow>(SQL.workerRegister, [id, name, capabilities, classes, leaseMs, slots, recipes])).rows[0];
    if (!row) throw new AnvilError(ErrorCodes.INTERNAL, `Registering worker ${id} returned nothing`);
    return toWorkerWithJobs(row);
  }

  /**
   * Extends an active worker's lease by `leaseMs` from now and records its telemetry. A worker
   * marked lost (or gone) is a CONFLICT: its jobs went elsewhere, so it must stop them and register again.
   */
  async heartbeat(id: string, telemetry: unknown, leaseMs: number): Promise<Worker> {
    const worker = workerId(id);
    const lease = int(leaseMs, 'leaseMs', 1, LIMITS.leaseMsMax);
    const row = (await this.sql.query<WorkerRow>(SQL.workerHeartbeat, [worker, jsonText(telemetry ?? null, 'telemetry', LIMITS.jsonBytesMax), lease])).rows[0];
    if (row) return toWorker(row);
    const state = await this.workerState(worker, 'register it first');
    throw conflict(`Worker ${worker} is ${state}: its lease ran out or it left, and its jobs were handed back; register again`, {
      workerId: worker,
      state,
    });
  }

  /** Active workers whose lease ran out before `now` (default: the database's clock), with their running jobs. */
  async expiredWorkers(now?: Date): Promise<WorkerWithJobs[]> {
    return (await this.sql.query<WorkerRow>(SQL.workersExpired, [now ?? null])).rows.map(toWorkerWithJobs);
  }

  /**
   * Marks a worker lost if it is active and its lease ran out before `now` (default: the database's
   * clock); of several sweepers exactly one gets `marked`, with the jobs to requeue.
   */
  async markLost(id: string, now?: Date): Promise<MarkLostResult> {
    const worker = workerId(id);
    const row = (await this.sql.query<WorkerRow>(SQL.workerMarkLost, [worker, now ?? null])).rows[0];
    if (row) return { marked: true, worker: toWorkerWithJobs(row) };
    return { marked: false, state: await this.workerState(worker) };
  }

  /** A worker leaving on purpose: gone, with the jobs still running under it (to requeue). */
  async retireWorker(id: string): Promise<WorkerWithJobs> {
    const worker = workerId(id);
    const row = (await this.sql.query<WorkerRow>(SQL.workerRetire, [worker])).rows[0];
    if (!row) throw new AnvilError(ErrorCodes.NOT_FOUND, `No worker ${worker}`, { details: { workerId: worker } });
    return toWorkerWithJobs(row);
  }

  /** A worker's state as of now (NOT_FOUND for an unknown worker). */
  private async workerState(id: string, hint?: string): Promise<WorkerState> {
    const row = (await this.sql.query<{ state: string }>(SQL.workerState, [id])).rows[0];
    if (!row) throw new AnvilError(ErrorCodes.NOT_FOUND, `No worker ${id}${hint ? `; ${hint}` : ''}`, { details: { workerId: id } });
    return row.state as WorkerState;
  }

  async listWorkers(states?: readonly WorkerState[]): Promise<WorkerWithJobs[]> {
    return (await this.sql.query<WorkerRow>(SQL.workersList, [states === undefined ? null : [...states]])).rows.map(toWorkerWithJobs);
  }
}
