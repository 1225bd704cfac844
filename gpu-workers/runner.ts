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
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AnvilError, ErrorCodes, errorMessage } from '../contracts/errors.ts';
import { builtEntry } from './built-entry.ts';
import { GroupReaper } from './group-reaper.ts';
import { OrderedDelivery, RecipeOutput } from './recipe-output.ts';
import { decideOutcome, RunReport, type RunOutcome, type StopReason, type Termination } from './run-outcome.ts';
import { recipeSpecSchema, type RecipeEvent, type RecipeSpec } from './protocol.ts';


export { LAST_LOG_LINES, type FailedOutcome, type FailureReason, type RunOutcome, type StopReason, type StoppedOutcome, type SucceededOutcome } from './run-outcome.ts';
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

export function startRecipe(options: RunOptions): RecipeRun {
  const spec = validate(options);
  const startedAt = performance.now();
  // A run stopped before its first checkpoint must not send the job back to the start.
  const report = new RunReport(spec.resume?.checkpoint ?? null);

  let resolveOutcome!: (outcome: RunOutcome) => void;
  let rejectOutcome!: (error: unknown) => void;
  const outcome = new Promise<RunOutcome>((resolve, reject) => {
    resolveOutcome = resolve;
    rejectOutcome = reject;
  });

  if (options.signal?.aborted) {
    resolveOutcome({ status: 'stopped', why: 'cancelled', pid: null, durationMs: 0, lastCheckpoint: report.lastCheckpoint, leftoverPids: [], exitCode: null, signal: null });
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
  let finished = false;

  const delivery = new OrderedDelivery(report, options.onEvent, () => terminate({ kind: 'internal' }));
  const output = new RecipeOutput(child, spec.workDir, delivery, () => check());
  const reaper =
    pgid === undefined
      ? undefined
      : new GroupReaper(pgid, options.graceMs, {
          leaderExited: () => exit !== null,
          outputClosed: () => output.closed,
          note: (message) => delivery.note(message),
          gone: (leftovers) => finish(leftovers),
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
    reaper?.onLeaderExit();
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
    if (finished || exit !== null || termination !== null || reaper === undefined) return;
    termination = kind;
    reaper.stop(kind.kind === 'stop' ? kind.why : kind.kind === 'timeout' ? `wall-clock limit of ${options.timeoutMs} ms reached` : 'event consumer failed');
  }

  function check(): void {
    if (finished) return;
    if (spawnError !== null) return finish([]);
    reaper?.check();
  }

  function finish(leftoverPids: number[]): void {
    if (finished) return;
    finished = true;
    reaper?.dispose();
    clearTimeout(timeoutTimer);
    options.signal?.removeEventListener('abort', onAbort);
    output.close();
    parentPipe?.destroy();

    const failure = delivery.consumerFailure;
    if (failure !== null) {
      rejectOutcome(new AnvilError(ErrorCodes.INTERNAL, `recipe event consumer threw: ${errorMessage(failure.error)}`, { cause: failure.error }));
      return;
    }
    resolveOutcome(
      decideOutcome(report, {
        spec,
        command: options.command,
        timeoutMs: options.timeoutMs,
        pid: pgid ?? null,
        durationMs: Math.round(performance.now() - startedAt),
        leftoverPids,
        spawnError,
        exit,
        termination,
      }),
    );
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
