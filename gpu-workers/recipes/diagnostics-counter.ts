/**
 * Recipe `diagnostics.counter` (run as a child process by the runner; see ../PROTOCOL.md).
 *
 * Counts from the resumed checkpoint's `state.count` (else 0) to `params.steps`; each step sleeps
 * `stepMs`, adds one, writes `<workDir>/checkpoint-<count>.json` atomically and reports a checkpoint
 * and a `count` metric. On SIGTERM it checkpoints the current count and exits 143. At the end it
 * reports `result {count, resumedFrom}` and exits 0. Bad params or spec: `error {recoverable: false}`, exit 2.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RecipeSpec } from '../protocol.ts';
import { emit, exitAfterFlush, readSpec, writeFileAtomic } from '../recipe-io.ts';
import { checkCounterParams } from './counter-params.ts';

async function main(): Promise<void> {
  let spec: RecipeSpec;
  try {
    spec = await readSpec();
  } catch (error) {
    return refuse(messageOf(error));
  }
  const params = checkCounterParams(spec.params);
  if (!params.ok) return refuse(`invalid params for diagnostics.counter: ${params.issues.join('; ')}`);
  const { steps, stepMs } = params.params;
  const start = startingCount(spec);
  if (typeof start === 'string') return refuse(start);

  const workDir = spec.workDir;
  mkdirSync(workDir, { recursive: true });
  let count = start;
  let stopping = false;

  const checkpoint = (): void => {
    const file = path.join(workDir, `checkpoint-${count}.json`);
    writeFileAtomic(file, `${JSON.stringify({ count })}\n`);
    emit({ type: 'checkpoint', step: count, path: file, state: { count } });
  };
  process.once('SIGTERM', () => {
    stopping = true;
    checkpoint();
    emit({ type: 'log', level: 'info', message: `SIGTERM: checkpointed at count ${count}; exiting` });
    void exitAfterFlush(143);
  });

  emit({
    type: 'log',
    level: 'info',
    message: start > 0 ? `resuming at count ${start}, counting to ${steps}` : `counting to ${steps}, ${stepMs} ms per step`,
  });
  while (count < steps) {
    await pause(stepMs);
    if (stopping) return;
    count += 1;
    checkpoint();
    emit({ type: 'metric', step: count, name: 'count', value: count });
  }
  if (stopping) return;
  emit({ type: 'result', value: { count, resumedFrom: start } });
  await exitAfterFlush(0);
}

/** The count to start from: the checkpoint's `state.count`, else the count in its file, else 0. */
function startingCount(spec: RecipeSpec): number | string {
  const checkpoint = spec.resume?.checkpoint;
  if (!checkpoint) return 0;
  const fromState = checkpoint.state?.count;
  if (fromState !== undefined) {
    return isCount(fromState) ? fromState : `checkpoint state.count must be a whole number ≥ 0, got ${JSON.stringify(fromState)}`;
  }
  try {
    const fromFile = (JSON.parse(readFileSync(checkpoint.path, 'utf8')) as { count?: unknown }).count;
    return isCount(fromFile) ? fromFile : `checkpoint file ${checkpoint.path} has no whole-number count`;
  } catch (error) {
    return `cannot read checkpoint ${checkpoint.path}: ${messageOf(error)}`;
  }
}

/**
 * Waits `ms`; 0 only yields to the event loop (so a SIGTERM is still seen between steps) instead
 * of a timer, which would round it up to 1 ms.
 */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));
}

/** contracts/errors.ts `errorMessage`, without loading the error taxonomy into every start. */
function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

async function refuse(message: string): Promise<void> {
  emit({ type: 'error', message, recoverable: false });
  await exitAfterFlush(2);
}

await main();
