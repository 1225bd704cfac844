/**
 * State changes of jobs. Each one is a transaction that locks the job row, checks its state (and,
 * for fencing, the worker and attempt it expects) and writes exactly one `job_events` row with the
 * update. Transitions outside the state machine (states.ts) are refused before any SQL runs.
 * Worker-side calls (`claim`, `transition`, `requeue`) take a job id only: they come from the
 * dispatcher and workers, not from a caller's project; `requestCancel` is project-scoped.
 */
import { AnvilError, ErrorCodes, loadSql, type PluginSql, type SqlExecutor } from 'anvil/plugin';
import { type Job, type JobError, type JobRow, toJob } from '../rows.ts';
import type { CancelResult, ClaimResult, RequeueOptions, RequeueResult, TransitionInput } from '../store-types.ts';
import { canTransition, isJobState, isTerminal, JOB_STATES, type JobState } from '../states.ts';
import { int, invalid, jsonText, plainObject, uuid } from '../validate.ts';
import { conflict, jobError, LIMITS, notFound, project, reasonText, workerId } from './checks.ts';

const sql = (name: string) => loadSql(import.meta.url, `../sql/${name}.sql`);
const SQL = {
  move: sql('move-job'),
  claim: sql('claim-job'),
  lockJob: sql('lock-job'),
  cancelRequest: sql('cancel-request'),
  get: sql('get'),
} as const;

interface MoveSpec extends TransitionInput {
  attemptDelta?: number;
  notBeforeMs?: number;
}

type MoveOutcome = { moved: true; job: Job; dependents: string[] } | { moved: false; state: JobState; worker: string | null; attempt: number };

/** What move-job.sql returns (one row; none when the job does not exist). */
type MoveRow = { moved: boolean; now_state: string; now_worker: string | null; now_attempt: number; job: Record<string, unknown> | null; dependents: string[] | null };

const JOB_TIMES = ['dispatched_at', 'not_before', 'created_at', 'queued_at', 'started_at', 'finished_at', 'updated_at'] as const;

/** A job row as `to_jsonb` wrote it: timestamps come back as text. */
function jobRowFromJson(json: Record<string, unknown>): JobRow {
  const row: Record<string, unknown> = { ...json };
  for (const column of JOB_TIMES) row[column] = typeof json[column] === 'string' ? new Date(json[column]) : null;
  return row as JobRow;
}

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

export class JobTransitions {
  constructor(private readonly sql: PluginSql) {}

  /**
   * Moves a job `from` one of the given states `to` another, with its event, in one transaction.
   * A pair outside the state machine is INVALID_INPUT (no SQL runs); a job not in a `from` state
   * (or not held by `expect`) is CONFLICT naming its current state and the attempted transition.
   */
  async transition(jobId: string, input: TransitionInput): Promise<Job> {
    return (await this.transitionWithDependents(jobId, input)).job;
  }

  /** `transition`, also answering the queued jobs waiting on the job when it ended (else none). */
  async transitionWithDependents(jobId: string, input: TransitionInput): Promise<{ job: Job; dependents: string[] }> {
    const move = this.prepare(uuid(jobId), input);
    const outcome = await this.move(this.sql, move);
    if (outcome.moved) return { job: outcome.job, dependents: outcome.dependents };
    throw this.refusal(move, outcome);
  }

  /**
   * queued → running for `worker`. Of several concurrent claimers exactly one gets `claimed`; the
   * others get `lost` with the state the job is in (not an exception).
   */
  async claim(jobId: string, worker: string): Promise<ClaimResult> {
    const move = this.prepare(uuid(jobId), { from: ['queued'], to: 'running', reason: 'claimed', worker });
    const outcome = await this.move(this.sql, move, SQL.claim);
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
        outcome = await this.move(tx, this.prepare(id, { ...common, to: 'cancelled', reason: `${why}; a cancel was requested, so it is not requeued` }));
      } else if (countAttempt && row.attempt >= row.max_attempts) {
        result = 'failed';
        // The last failure's details (its last log lines, exit code) stay on the record.
        const error: JobError = { ...options.error, code: 'attempts_exhausted', message: `${why}; no attempts left (${row.attempt} of ${row.max_attempts} used)` };
        outcome = await this.move(tx, this.prepare(id, { ...common, to: 'failed', reason: error.message, error }));
      } else {
        result = 'requeued';
        outcome = await this.move(
          tx,
          this.prepare(id, { ...common, to: 'queued', reason: why, attemptDelta: countAttempt ? 1 : 0, ...(options.notBeforeMs === undefined ? {} : { notBeforeMs: options.notBeforeMs }) }),
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
        const outcome = await this.move(tx, this.prepare(id, { from: ['queued'], to: 'cancelled', reason: why }));
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
   * Locks the job, moves it if it is in a `from` state and held as expected, and writes its event,
   * in one round trip (move_job, migrations/0006); otherwise reports where it is, changing nothing.
   * On its own it is one statement's transaction; inside the caller's it keeps the caller's lock.
   */
  private async move(executor: SqlExecutor, move: PreparedMove, statement: string = SQL.move): Promise<MoveOutcome> {
    const { rows } = await executor.query<MoveRow>(statement, [
      move.id,
      move.from,
      move.to,
      move.worker,
      move.checkpoint,
      move.result,
      move.error,
      move.attemptDelta,
      move.reason,
      move.details,
      move.notBeforeMs,
      move.expectWorker,
      move.expectAttempt,
      move.project,
    ]);
    const row = rows[0];
    if (!row) throw notFound(move.id, move.project ?? undefined);
    if (!row.moved || row.job === null) return { moved: false, state: row.now_state as JobState, worker: row.now_worker, attempt: row.now_attempt };
    return { moved: true, job: toJob(jobRowFromJson(row.job)), dependents: row.dependents ?? [] };
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
}
