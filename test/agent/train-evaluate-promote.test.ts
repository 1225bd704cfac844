/**
 * The built-in train_evaluate_promote workflow end to end on a Banking77 slice, through real MCP,
 * real training jobs on the local worker, real evaluation and a real canary: a candidate trained on
 * the true labels beats a champion trained on shuffled labels and is canaried and promoted; a
 * candidate trained on shuffled labels does not beat that new champion and is never deployed.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { createTestHost, type TestHost } from 'anvil/testing';
import { createDatasetRoot, type DatasetRoot } from '../support/dataset-root.ts';
import { banking77Missing, banking77Slice, ok, trainVersion, writeSliceCsv, TRAIN_PARAMS } from '../deployments/support.ts';

type Row = Record<string, unknown>;
const missing = banking77Missing();
if (missing) process.stderr.write(`train_evaluate_promote e2e skipped: ${missing}\n`);

describe('train_evaluate_promote', { skip: missing ?? false }, () => {
  let host: TestHost;
  let data: DatasetRoot;
  let champion: number;

  const until = async (runId: string, waitWhile: string[] = ['running'], timeoutMs = 150_000): Promise<Row> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = ok<Row>(await host.call('ops_get', { runId }));
      if (!waitWhile.includes(run.status as string)) return run;
      assert.ok(Date.now() < deadline, `run still ${String(run.status)}: ${JSON.stringify(run.steps)}`);
      await sleep(500);
    }
  };
  const stepState = (run: Row) => Object.fromEntries((run.steps as Row[]).map((step) => [step.id, step.state]));
  const championVersion = async () => ok<{ version: number }>(await host.call('models_get', { name: 'intents', version: 'champion' })).version;

  before(async () => {
    data = createDatasetRoot();
    host = await createTestHost({ plugins: [], env: data.env, config: { plugins: [{ id: 'agent', config: { settleMs: 0, resumeEveryMs: 1_000 } }] } });
    const slice = banking77Slice();
    // The champion learned shuffled labels; the true-label data waits for the workflow.
    champion = await trainVersion(host.call.bind(host), writeSliceCsv(data.dir, 'shuffled.csv', slice.train, 99), 'b77-shuffled', 'intents');
    ok(await host.call('models_set_alias', { name: 'intents', alias: 'champion', version: champion, reason: 'first model' }));
    ok(await host.call('deployments_create', { name: 'intents', model: 'intents', version: champion }));
    ok(await host.call('datasets_import', { name: 'b77-good', path: writeSliceCsv(data.dir, 'good.csv', slice.train), labelColumn: 'category', split: { validation: 0.1, test: 0.1, seed: 7 } }));
  });
  after(async () => {
    await host?.close();
    data?.remove();
  });

  test('a better candidate is canaried and promoted', async () => {
    const started = ok<Row>(
      await host.call('workflows_run', {
        name: 'train_evaluate_promote',
        params: { dataset: 'b77-good', model: 'intents', deployment: 'intents', trainingParams: TRAIN_PARAMS, canaryPercent: 10, watchSeconds: 10 },
      }),
    );
    // deployments_promote is annotated destructive: a person (not the requester) approves it.
    const waiting = await until(started.runId as string);
    assert.equal(waiting.status, 'waiting_approval', JSON.stringify(stepState(waiting)));
    const promote = (waiting.steps as Row[]).find((step) => step.id === 'promote') as Row;
    assert.equal(promote.state, 'waiting_approval');
    const person = await host.connect({ project: 'default', name: 'release-manager', scopes: ['approvals:write'] });
    const decided = (await person.callTool({ name: 'approvals_decide', arguments: { id: promote.approvalId, decision: 'approve' } })) as { isError?: boolean };
    assert.notEqual(decided.isError, true);
    const done = await until(started.runId as string, ['running', 'waiting_approval']);
    assert.equal(done.status, 'succeeded', JSON.stringify(stepState(done)));
    assert.deepEqual(stepState(done), { train: 'succeeded', compare: 'succeeded', verdict: 'succeeded', canary: 'succeeded', promote: 'succeeded', rollback: 'skipped' });
    const steps = done.steps as Row[];
    assert.equal(((steps[2] as Row).result as Row).verdict, 'better');
    const candidate = (((steps[0] as Row).result as Row).wait as { result: { model: { version: number } } }).result.model.version;
    assert.equal(await championVersion(), candidate);
    champion = candidate;
  });

  test('a worse candidate is not deployed', async () => {
    const started = ok<Row>(
      await host.call('workflows_run', {
        name: 'train_evaluate_promote',
        params: { dataset: 'b77-shuffled', evaluationDataset: 'b77-good', model: 'intents', deployment: 'intents', trainingParams: TRAIN_PARAMS, watchSeconds: 10 },
      }),
    );
    const done = await until(started.runId as string);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.deepEqual(stepState(done), { train: 'succeeded', compare: 'succeeded', verdict: 'succeeded', canary: 'skipped', promote: 'skipped', rollback: 'skipped' });
    assert.notEqual((((done.steps as Row[])[2] as Row).result as Row).verdict, 'better');
    assert.equal(await championVersion(), champion);
    const deployment = ok<{ variants: Array<{ version: number; weight: number }>; rollout: unknown }>(await host.call('deployments_get', { name: 'intents' }));
    assert.deepEqual(deployment.variants.filter((variant) => variant.weight > 0).map((variant) => variant.version), [champion]);
  });
});
