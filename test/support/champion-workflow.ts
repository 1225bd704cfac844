/**
 * What the end-to-end tests of the built-in model workflows (train_evaluate_promote,
 * retrain_on_feedback) share: a test host with the agent plugin (no settling, quick resumes) on a
 * dataset root, a champion `intents` model trained on shuffled Banking77 labels, aliased `champion`
 * and deployed as `intents`; and how to wait for a workflow run and read its steps.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestHost, type TestHost } from 'anvil/testing';
import { createDatasetRoot, type DatasetRoot } from './dataset-root.ts';
import { banking77Slice, ok, trainVersion, writeSliceCsv, type Slice } from '../deployments/support.ts';

export type Row = Record<string, unknown>;

export interface ShuffledChampion {
  readonly host: TestHost;
  readonly data: DatasetRoot;
  readonly slice: Slice;
  /** The version trained on shuffled labels: alias `champion`, deployment `intents`. */
  readonly champion: number;
  /** Closes the host and removes the dataset root. */
  close(): Promise<void>;
}

/** `logInputs`: the deployment logs its inputs (what feedback is joined to). */
export async function startShuffledChampion(options: { logInputs?: boolean } = {}): Promise<ShuffledChampion> {
  const data = createDatasetRoot();
  let host: TestHost | undefined;
  try {
    host = await createTestHost({ plugins: [], env: data.env, config: { plugins: [{ id: 'agent', config: { settleMs: 0, resumeEveryMs: 1_000 } }] } });
    const slice = banking77Slice();
    const champion = await trainVersion(host.call.bind(host), writeSliceCsv(data.dir, 'shuffled.csv', slice.train, 99), 'b77-shuffled', 'intents');
    ok(await host.call('models_set_alias', { name: 'intents', alias: 'champion', version: champion, reason: 'first model' }));
    ok(await host.call('deployments_create', { name: 'intents', model: 'intents', version: champion, ...(options.logInputs ? { logging: { inputs: true } } : {}) }));
    const running = host;
    return {
      host: running,
      data,
      slice,
      champion,
      async close() {
        await running.close();
        data.remove();
      },
    };
  } catch (error) {
    await host?.close();
    data.remove();
    throw error;
  }
}

/** Polls `ops_get` until the run's status is none of `waitWhile`; resolves with the run. */
export async function untilRun(host: TestHost, runId: string, waitWhile: string[] = ['running'], timeoutMs = 150_000): Promise<Row> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = ok<Row>(await host.call('ops_get', { runId }));
    if (!waitWhile.includes(run.status as string)) return run;
    assert.ok(Date.now() < deadline, `run still ${String(run.status)}: ${JSON.stringify(run.steps)}`);
    await sleep(500);
  }
}

/** Each step's state by step id. */
export function stepStates(run: Row): Record<string, unknown> {
  return Object.fromEntries((run.steps as Row[]).map((step) => [step.id, step.state]));
}

export function stepOf(run: Row, id: string): Row {
  return (run.steps as Row[]).find((each) => each.id === id) as Row;
}

/** The version the `champion` alias of `intents` points at now. */
export async function championVersion(host: TestHost): Promise<number> {
  return ok<{ version: number }>(await host.call('models_get', { name: 'intents', version: 'champion' })).version;
}
