/**
 * The recipe runner: starts a recipe as a child process in its own process group, hands it its spec
 * on stdin, turns its stdout/stderr into events, enforces a wall-clock limit, and stops it (SIGTERM
 * to the group, a grace period to checkpoint, then SIGKILL) on request. Whatever happens, no process
 * of the group outlives the outcome (see `leftoverPids` for the one exception: a process the kernel
 * will not kill, e.g. one stuck in a GPU driver).
 *
 *     const run = startRecipe({ command, args, spec, cwd, timeoutMs, graceMs, onEvent });
 *     run.stop('preempted');
 *     const outcome = await run.outcome;
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AnvilError, ErrorCodes, errorMessage } from '../server/errors.ts';
import { builtEntry } from './built-entry.ts';
import { capUtf8, LineSplitter, type SplitLine } from './lines.ts';
import { liveGroupMembers, signalGroup } from './process-group.ts';
import {
  MAX_LINE_BYTES,
  MAX_LOG_BYTES,
  parseRecipeLine,
  recipeSpecSchema,
  type CheckpointRef,
  type LogEvent,
  type RecipeEvent,
  type RecipeSpec,
} from './protocol.ts';

export type StopReason = 'cancelled' | 'preempted';
export type FailureReason = 'exit' | 'no-result' | 'timeout' | 'spawn' | 'signal';

/** How many log lines (recipe logs, stdout, stderr, runner notes) a failed outcome carries. */
export const LAST_LOG_LINES = 20;
/** How often the runner looks whether the group is gone once the leader has exited. */
const POLL_MS = 25;
/** After SIGKILL, how long to wait for the kernel to take the group down before reporting leftovers. */
const AFTER_KILL_WAIT_MS = 5_000;
/** After the group is gone, how long a process that left the group (setsid) may keep our pipes open. */
const ESCAPED_PIPE_WAIT_MS = 1_000;
const MAX_TIMER_MS = 2 ** 31 - 1;
/** The descriptor a recipe watches for its worker's death (see recipe-io `exitWhenParentDies`). */
const PARENT_FD = 3;

export interface RunOptions {
  readonly command: string;
  readonly args?: readonly string[];
  readonly spec: RecipeSpec;
  /**
   * The child's whole environment. Default: `baseRecipeEnv()` (PATH, HOME, locale, CUDA paths; not
   * the worker's secrets). ANVIL_JOB_ID, ANVIL_WORK_DIR and ANVIL_ATTEMPT are always added.
   */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Wall-clock limit from spawn; when it passes the recipe is stopped and the run fails with `timeout`. */
  readonly timeoutMs: number;
  /** Time between SIGTERM and SIGKILL for the recipe to checkpoint and exit. */
  readonly graceMs: number;
  /** Aborting it is `stop('cancelled')`. */
  readonly signal?: AbortSignal;
  /**
   * Called synchronously, in order, for each event (stdout and stderr are separate pipes, so their
   * relative order is only as good as the OS delivers it). Must not block: batch and persist
   * asynchronously. If it throws, the recipe is stopped and `outcome` rejects (ANVIL_E_INTERNAL).
   */
  readonly onEvent: (event: RecipeEvent) => void;
}

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

export interface RecipeRun {
  /** The recipe's pid and process group id; undefined when it could not be spawned. */
  readonly pid: number | undefined;
  /**
   * SIGTERM to the group, `graceMs` to exit, then SIGKILL. Idempotent; `cancelled` overrides an
   * earlier `preempted` (the job is not to be requeued). No effect once the recipe has exited or
   * timed out. A recipe that still exits 0 with its result during the grace period has succeeded.
   */
  stop(why: StopReason): void;
  readonly outcome: Promise<RunOutcome>;
}

/** `startRecipe(options).outcome`. */
export function runRecipe(options: RunOptions): Promise<RunOutcome> {
  return startRecipe(options).outcome;
}

type Termination = { kind: 'stop'; why: StopReason } | { kind: 'timeout' } | { kind: 'internal' };

export function startRecipe(options: RunOptions): RecipeRun {
  const spec = validate(options);
  const startedAt = performance.now();
  const lastLogs: string[] = [];
  const results: Record<string, unknown>[] = [];
  // Where the job would resume next: what this run reported last, else what it was resumed from
  // (a run stopped before its first checkpoint must not send the job back to the start).
  let lastCheckpoint: CheckpointRef | null = spec.resume?.checkpoint ?? null;
  let unrecoverable = false;
  let lastRecipeError: string | null = null;
  let consumerError: unknown = null;

  let resolveOutcome!: (outcome: RunOutcome) => void;
  let rejectOutcome!: (error: unknown) => void;
  const outcome = new Promise<RunOutcome>((resolve, reject) => {
    resolveOutcome = resolve;
    rejectOutcome = reject;
  });

  if (options.signal?.aborted) {
    resolveOutcome({ status: 'stopped', why: 'cancelled', pid: null, durationMs: 0, lastCheckpoint, leftoverPids: [], exitCode: null, signal: null });
    return { pid: undefined, stop: () => undefined, outcome };
  }

  const env: NodeJS.ProcessEnv = {
    ...(options.env ?? baseRecipeEnv()),
    ANVIL_JOB_ID: spec.jobId,
    ANVIL_WORK_DIR: spec.workDir,
    ANVIL_ATTEMPT: String(spec.attempt),
    ANVIL_PARENT_FD: String(PARENT_FD),
  };
  // fd 3 is a pipe nobody writes to: it reaches end-of-file when this process is gone, however it
  // went (even SIGKILL), so a recipe that watches it does not outlive its worker.
  const child = spawn(options.command, [...(options.args ?? [])], {
    cwd: options.cwd,
    env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  }) as ChildProcessWithoutNullStreams;
  const pgid = child.pid;
  const parentPipe = child.stdio[PARENT_FD] as unknown as { destroy(): void; on(event: 'error', listener: () => void): void } | null;
  parentPipe?.on('error', () => undefined);

  let termination: Termination | null = null;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let spawnError: Error | null = null;
  let stdoutClosed = false;
  let stderrClosed = false;
  let groupGoneAt: number | null = null;
  let sigkillAt: number | null = null;
  let leftoverPids: number[] = [];
  let finished = false;
  let killTimer: NodeJS.Timeout | undefined;
  let pollTimer: NodeJS.Timeout | undefined;

  const remember = (event: LogEvent): void => {
    lastLogs.push(`[${event.level}] ${event.message}`);
    if (lastLogs.length > LAST_LOG_LINES) lastLogs.shift();
  };
  // Events reach onEvent one at a time, in order, even when onEvent itself causes one (a stop()
  // called from onEvent logs a runner line): those are queued, never delivered re-entrantly.
  const queue: RecipeEvent[] = [];
  let delivering = false;
  const deliver = (event: RecipeEvent): void => {
    if (event.type === 'log') remember(event);
    queue.push(event);
    if (delivering) return;
    delivering = true;
    try {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        if (consumerError !== null) continue;
        try {
          options.onEvent(next);
        } catch (error) {
          consumerError = error;
          terminate({ kind: 'internal' });
        }
      }
    } finally {
      delivering = false;
    }
  };
  const note = (message: string): void => deliver({ type: 'log', level: 'runner', message });

  const onStdoutLine = (line: SplitLine): void => {
    let event = parseRecipeLine(line.text, { workDir: spec.workDir, truncated: line.truncated, bytes: line.bytes });
    if (event === null) return;
    if (event.type === 'checkpoint' || event.type === 'artifact') {
      const problem = fileProblem(event.path, event.type === 'artifact' ? event.size : undefined);
      if (problem !== null) event = { type: 'invalid', messageType: event.type, message: `${event.type} ${problem}`, line: capUtf8(line.text, MAX_LOG_BYTES).text };
    }
    switch (event.type) {
      case 'checkpoint':
        lastCheckpoint = { step: event.step, path: event.path, ...(event.state === undefined ? {} : { state: event.state }) };
        break;
      case 'result':
        results.push(event.value);
        break;
      case 'error':
        lastRecipeError = event.message;
        if (!event.recoverable) unrecoverable = true;
        break;
      default:
        break;
    }
    deliver(event);
    if (event.type === 'invalid') {
      note(`protocol violation${event.messageType === undefined ? '' : ` in a ${event.messageType} line`}: ${event.message}; line: ${event.line}`);
    }
  };
  const stdout = new LineSplitter(MAX_LINE_BYTES, onStdoutLine);
  const stderr = new LineSplitter(MAX_LOG_BYTES, (line) => {
    if (line.text.trim() === '') return;
    deliver({ type: 'log', level: 'stderr', message: line.text, ...(line.truncated ? { truncated: true as const } : {}) });
  });

  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdout.on('close', () => {
    stdout.end();
    stdoutClosed = true;
    check();
  });
  child.stderr.on('close', () => {
    stderr.end();
    stderrClosed = true;
    check();
  });
  // A recipe may exit without reading its spec; the EPIPE that follows is not an error of ours.
  child.stdin.on('error', () => undefined);
  child.on('error', (error) => {
    if (child.pid === undefined && spawnError === null) {
      spawnError = error;
      check();
    }
  });
  child.on('exit', (code, signal) => {
    exit = { code, signal };
    clearTimeout(timeoutTimer);
    if (pgid !== undefined && killTimer === undefined) {
      const left = liveGroupMembers(pgid);
      if (left.length > 0) {
        note(`recipe exited; ${left.length} process(es) left in its group (${left.join(', ')}): SIGTERM, SIGKILL in ${options.graceMs} ms`);
        signalGroup(pgid, 'SIGTERM');
        scheduleKill();
      }
    }
    pollTimer ??= setInterval(check, POLL_MS);
    check();
  });

  const timeoutTimer = setTimeout(() => terminate({ kind: 'timeout' }), options.timeoutMs);
  const onAbort = (): void => stop('cancelled');
  options.signal?.addEventListener('abort', onAbort, { once: true });

  if (pgid !== undefined) child.stdin.end(`${JSON.stringify(spec)}\n`);

  function stop(why: StopReason): void {
    if (termination?.kind === 'stop' && why === 'cancelled') termination = { kind: 'stop', why };
    terminate({ kind: 'stop', why });
  }

  function terminate(kind: Termination): void {
    if (finished || exit !== null || termination !== null || pgid === undefined) return;
    termination = kind;
    const what = kind.kind === 'stop' ? kind.why : kind.kind === 'timeout' ? `wall-clock limit of ${options.timeoutMs} ms reached` : 'event consumer failed';
    note(`stopping (${what}): SIGTERM to process group ${pgid}, SIGKILL in ${options.graceMs} ms if it has not exited`);
    signalGroup(pgid, 'SIGTERM');
    scheduleKill();
  }

  function scheduleKill(): void {
    if (killTimer !== undefined || pgid === undefined) return;
    killTimer = setTimeout(() => {
      const left = liveGroupMembers(pgid);
      if (left.length > 0) {
        note(`grace period of ${options.graceMs} ms over: SIGKILL to process group ${pgid} (${left.join(', ')})`);
        signalGroup(pgid, 'SIGKILL');
      }
      sigkillAt = performance.now();
      // Keep looking even if the leader never reports its exit (stuck in the kernel).
      pollTimer ??= setInterval(check, POLL_MS);
      check();
    }, options.graceMs);
  }

  function check(): void {
    if (finished) return;
    if (spawnError !== null) return finish();
    if (pgid === undefined) return;
    const now = performance.now();
    if (exit === null) {
      if (sigkillAt !== null && now - sigkillAt > AFTER_KILL_WAIT_MS) {
        leftoverPids = liveGroupMembers(pgid);
        note(`the recipe did not exit ${AFTER_KILL_WAIT_MS} ms after SIGKILL (uninterruptible?); giving up on ${leftoverPids.join(', ')}`);
        finish();
      }
      return;
    }
    const live = liveGroupMembers(pgid);
    if (live.length === 0) {
      groupGoneAt ??= now;
      if (stdoutClosed && stderrClosed) return finish();
      if (now - groupGoneAt > ESCAPED_PIPE_WAIT_MS) {
        note('the process group is gone but a process outside it still holds the output pipes; no longer reading them');
        return finish();
      }
      return;
    }
    groupGoneAt = null;
    if (sigkillAt !== null && now - sigkillAt > AFTER_KILL_WAIT_MS) {
      leftoverPids = live;
      note(`processes ${live.join(', ')} survived SIGKILL for ${AFTER_KILL_WAIT_MS} ms (uninterruptible?); giving up on them`);
      finish();
    }
  }

  function finish(): void {
    if (finished) return;
    finished = true;
    clearTimeout(timeoutTimer);
    clearTimeout(killTimer);
    clearInterval(pollTimer);
    options.signal?.removeEventListener('abort', onAbort);
    if (!stdoutClosed) child.stdout.destroy();
    if (!stderrClosed) child.stderr.destroy();
    parentPipe?.destroy();
    stdout.end();
    stderr.end();

    if (consumerError !== null) {
      rejectOutcome(new AnvilError(ErrorCodes.INTERNAL, `recipe event consumer threw: ${errorMessage(consumerError)}`, { cause: consumerError }));
      return;
    }
    const base = {
      pid: pgid ?? null,
      durationMs: Math.round(performance.now() - startedAt),
      lastCheckpoint,
      leftoverPids,
    };
    const failed = (reason: FailureReason, message: string, code: number | null, signal: NodeJS.Signals | null): FailedOutcome => ({
      ...base,
      status: 'failed',
      reason,
      exitCode: code,
      signal,
      message,
      lastLogs: [...lastLogs],
      unrecoverable,
    });
    if (spawnError !== null) {
      resolveOutcome(failed('spawn', `could not start recipe ${spec.recipe} (${options.command}): ${errorMessage(spawnError)}`, null, null));
      return;
    }
    // exit is null only when the recipe survived SIGKILL and the runner gave up on it.
    const { code, signal } = exit ?? { code: null, signal: null };
    const withRecipeError = (text: string): string => (lastRecipeError === null ? text : `${text}: ${lastRecipeError}`);
    if (code === 0 && results.length === 1 && results[0] !== undefined) {
      resolveOutcome({ ...base, status: 'succeeded', result: results[0], exitCode: 0 });
    } else if (termination?.kind === 'stop') {
      resolveOutcome({ ...base, status: 'stopped', why: termination.why, exitCode: code, signal });
    } else if (termination?.kind === 'timeout') {
      resolveOutcome(failed('timeout', `recipe ${spec.recipe} exceeded its wall-clock limit of ${options.timeoutMs} ms`, code, signal));
    } else if (signal !== null) {
      resolveOutcome(failed('signal', withRecipeError(`recipe ${spec.recipe} was killed by ${signal}`), code, signal));
    } else if (code !== 0) {
      resolveOutcome(failed('exit', withRecipeError(`recipe ${spec.recipe} exited with code ${code}`), code, signal));
    } else {
      const what = results.length === 0 ? 'without writing a result line' : `after writing ${results.length} result lines (exactly one is required)`;
      resolveOutcome(failed('no-result', withRecipeError(`recipe ${spec.recipe} exited 0 ${what}`), code, signal));
    }
  }

  return { pid: pgid, stop, outcome };
}

/**
 * How to start a recipe entry: TypeScript as its JavaScript build when there is a fresh one
 * (built-entry.ts), else through node with tsx's loader (resolved to an absolute URL, so it works
 * from any cwd), JavaScript through node, anything else as an executable (a bare
 * name is looked up on PATH, a path is resolved against the current directory).
 */
export function entryCommand(entry: string | URL): { command: string; args: string[] } {
  const file = entry instanceof URL || entry.startsWith('file:') ? fileURLToPath(entry) : entry.includes('/') ? path.resolve(entry) : entry;
  const extension = path.extname(file).toLowerCase();
  if (extension === '.ts' || extension === '.mts' || extension === '.cts') {
    const built = builtEntry(file);
    if (built) return { command: process.execPath, args: [built] };
    return { command: process.execPath, args: ['--import', import.meta.resolve('tsx'), file] };
  }
  if (extension === '.js' || extension === '.mjs' || extension === '.cjs') return { command: process.execPath, args: [file] };
  return { command: file, args: [] };
}

const INHERITED_ENV = /^(PATH|HOME|USER|LOGNAME|LANG|LANGUAGE|LC_[A-Z]+|TZ|TMPDIR|LD_LIBRARY_PATH|CUDA_HOME|CUDA_PATH|VIRTUAL_ENV|CONDA_PREFIX|ANVIL_PYTHON)$/;

/**
 * The part of the worker's environment a recipe gets by default: what programs need to run, not the
 * worker's credentials (tokens, database and Redis URLs stay out). A worker that assigns GPUs adds
 * CUDA_VISIBLE_DEVICES on top.
 */
export function baseRecipeEnv(source: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(source)) {
    if (value !== undefined && INHERITED_ENV.test(key)) env[key] = value;
  }
  return env;
}

function validate(options: RunOptions): RecipeSpec {
  const parsed = recipeSpecSchema.safeParse(options.spec);
  if (!parsed.success) {
    throw new AnvilError(ErrorCodes.INVALID_INPUT, `invalid recipe spec: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}`);
  }
  for (const [name, value, min] of [
    ['timeoutMs', options.timeoutMs, 1],
    ['graceMs', options.graceMs, 0],
  ] as const) {
    if (!Number.isInteger(value) || value < min || value > MAX_TIMER_MS) {
      throw new AnvilError(ErrorCodes.INVALID_INPUT, `${name} must be a whole number of milliseconds from ${min} to ${MAX_TIMER_MS}, got ${value}`);
    }
  }
  if (options.command === '') throw new AnvilError(ErrorCodes.INVALID_INPUT, 'command must not be empty');
  return parsed.data;
}

/** Null when `file` is a regular file (of `size` bytes, when given); else what is wrong. */
function fileProblem(file: string, size: number | undefined): string | null {
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return `path ${file} is not a regular file`;
    if (size !== undefined && stat.size !== size) return `file ${file} has ${stat.size} bytes, the line says ${size}`;
    return null;
  } catch {
    return `file ${file} does not exist (write the file before reporting it)`;
  }
}
