/**
 * What a recipe run reported (logs, results, checkpoints, errors) and, once it is over, the
 * outcome that follows from that and from how the process ended. Kept apart from the process
 * control in runner.ts so that the rules for "succeeded, stopped or failed, and why" read in one place.
 */
import { errorMessage } from '../contracts/errors.ts';
import type { CheckpointRef, LogEvent, RecipeEvent, RecipeSpec } from './protocol.ts';

export type StopReason = 'cancelled' | 'preempted';
export type FailureReason = 'exit' | 'no-result' | 'timeout' | 'spawn' | 'signal';

interface OutcomeBase {
  /** The recipe's pid, which is also its process group id; null when it never started. */
  readonly pid: number | null;
  readonly durationMs: number;
  /**
   * Where the job resumes next: the last valid checkpoint this run reported (its file existed when
   * reported), else the checkpoint it was resumed from (`spec.resume`), else null.
   */
  readonly lastCheckpoint: CheckpointRef | null;
  /** Processes of the group still alive after SIGKILL and a wait; normally empty. */
  readonly leftoverPids: readonly number[];
}
export interface SucceededOutcome extends OutcomeBase {
  readonly status: 'succeeded';
  readonly result: Record<string, unknown>;
  readonly exitCode: 0;
}
export interface FailedOutcome extends OutcomeBase {
  readonly status: 'failed';
  readonly reason: FailureReason;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** One sentence for the job record; the recipe's own error message when it sent one. */
  readonly message: string;
  /** The last LAST_LOG_LINES log lines, each `[level] message`. */
  readonly lastLogs: readonly string[];
  /** The recipe said retrying will not help (`error {recoverable: false}`). */
  readonly unrecoverable: boolean;
}
export interface StoppedOutcome extends OutcomeBase {
  readonly status: 'stopped';
  readonly why: StopReason;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
}
export type RunOutcome = SucceededOutcome | FailedOutcome | StoppedOutcome;

/** How many log lines (recipe logs, stdout, stderr, runner notes) a failed outcome carries. */
export const LAST_LOG_LINES = 20;

export type Termination = { kind: 'stop'; why: StopReason } | { kind: 'timeout' } | { kind: 'internal' };

/** What the recipe has said so far. */
export class RunReport {
  readonly lastLogs: string[] = [];
  readonly results: Record<string, unknown>[] = [];
  unrecoverable = false;
  lastRecipeError: string | null = null;

  /** Where the job would resume next: what this run reported last, else what it was resumed from. */
  constructor(public lastCheckpoint: CheckpointRef | null) {}

  /** Takes note of one event, before it is delivered. */
  record(event: RecipeEvent): void {
    switch (event.type) {
      case 'log':
        this.remember(event);
        break;
      case 'checkpoint':
        this.lastCheckpoint = { step: event.step, path: event.path, ...(event.state === undefined ? {} : { state: event.state }) };
        break;
      case 'result':
        this.results.push(event.value);
        break;
      case 'error':
        this.lastRecipeError = event.message;
        if (!event.recoverable) this.unrecoverable = true;
        break;
      default:
        break;
    }
  }

  private remember(event: LogEvent): void {
    this.lastLogs.push(`[${event.level}] ${event.message}`);
    if (this.lastLogs.length > LAST_LOG_LINES) this.lastLogs.shift();
  }
}

export interface Ending {
  spec: RecipeSpec;
  command: string;
  timeoutMs: number;
  pid: number | null;
  durationMs: number;
  leftoverPids: number[];
  spawnError: Error | null;
  /** Null only when the recipe survived SIGKILL and the runner gave up on it (or never started). */
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  termination: Termination | null;
}

/** Exactly one result line and exit 0 is success, whatever else happened; then stop, timeout, signal, exit code. */
export function decideOutcome(report: RunReport, ending: Ending): RunOutcome {
  const { spec } = ending;
  const base = { pid: ending.pid, durationMs: ending.durationMs, lastCheckpoint: report.lastCheckpoint, leftoverPids: ending.leftoverPids };
  const failed = (reason: FailureReason, message: string, code: number | null, signal: NodeJS.Signals | null): FailedOutcome => ({
    ...base,
    status: 'failed',
    reason,
    exitCode: code,
    signal,
    message,
    lastLogs: [...report.lastLogs],
    unrecoverable: report.unrecoverable,
  });
  if (ending.spawnError !== null) return failed('spawn', `could not start recipe ${spec.recipe} (${ending.command}): ${errorMessage(ending.spawnError)}`, null, null);
  const { code, signal } = ending.exit ?? { code: null, signal: null };
  const withRecipeError = (text: string): string => (report.lastRecipeError === null ? text : `${text}: ${report.lastRecipeError}`);
  const { results } = report;
  if (code === 0 && results.length === 1 && results[0] !== undefined) return { ...base, status: 'succeeded', result: results[0], exitCode: 0 };
  if (ending.termination?.kind === 'stop') return { ...base, status: 'stopped', why: ending.termination.why, exitCode: code, signal };
  if (ending.termination?.kind === 'timeout') return failed('timeout', `recipe ${spec.recipe} exceeded its wall-clock limit of ${ending.timeoutMs} ms`, code, signal);
  if (signal !== null) return failed('signal', withRecipeError(`recipe ${spec.recipe} was killed by ${signal}`), code, signal);
  if (code !== 0) return failed('exit', withRecipeError(`recipe ${spec.recipe} exited with code ${code}`), code, signal);
  const what = results.length === 0 ? 'without writing a result line' : `after writing ${results.length} result lines (exactly one is required)`;
  return failed('no-result', withRecipeError(`recipe ${spec.recipe} exited 0 ${what}`), code, signal);
}
