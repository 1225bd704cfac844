/**
 * The built-in train_evaluate_promote workflow end to end on a Banking77 slice, through real MCP,
 * real training jobs on the local worker, real evaluation and a real canary: a candidate trained on
 * the true labels beats a champion trained on shuffled labels and is canaried and promoted; a
 * candidate trained on shuffled labels does not beat that new champion and is never deployed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestHost } from 'anvil/testing';
import { championVersion, startShuffledChampion, stepStates, untilRun, type Row, type ShuffledChampion } from '../support/champion-workflow.ts';
import { banking77Missing, ok, writeSliceCsv, TRAIN_PARAMS } from '../deployments/support.ts';

const missing = banking77Missing();
if (missing) process.stderr.write(`train_evaluate_promote e2e skipped: ${missing}\n`);

describe('train_evaluate_promote', { skip: missing ?? false }, () => {
  let setup: ShuffledChampion | undefined;
  let host: TestHost;
  let champion: number;

  before(async () => {
    // The champion learned shuffled labels; the true-label data waits for the workflow.
    setup = await startShuffledChampion();
    ({ host, champion } = setup);
    ok(await host.call('datasets_import', { name: 'b77-good', path: writeSliceCsv(setup.data.dir, 'good.csv', setup.slice.train), labelColumn: 'category', split: { validation: 0.1, test: 0.1, seed: 7 } }));
  });
  after(async () => {
    await setup?.close();
  });

  test('a better candidate is canaried and promoted', async () => {
    const started = ok<Row>(
      await host.call('workflows_run', {
        name: 'train_evaluate_promote',
        params: { dataset: 'b77-good', model: 'intents', deployment: 'intents', trainingParams: TRAIN_PARAMS, canaryPercent: 10, watchSeconds: 10 },
      }),
    );
    // deployments_promote is annotated destructive: a person (not the requester) approves it.
    const waiting = await untilRun(host, started.runId as string);
    assert.equal(waiting.status, 'waiting_approval', JSON.stringify(stepStates(waiting)));
    const promote = (waiting.steps as Row[]).find((step) => step.id === 'promote') as Row;
    assert.equal(promote.state, 'waiting_approval');
    const person = await host.connect({ project: 'default', name: 'release-manager', scopes: ['approvals:write'] });
    const decided = (await person.callTool({ name: 'approvals_decide', arguments: { id: promote.approvalId, decision: 'approve' } })) as { isError?: boolean };
    assert.notEqual(decided.isError, true);
    const done = await untilRun(host, started.runId as string, ['running', 'waiting_approval']);
    assert.equal(done.status, 'succeeded', JSON.stringify(stepStates(done)));
    assert.deepEqual(stepStates(done), { train: 'succeeded', compare: 'succeeded', verdict: 'succeeded', canary: 'succeeded', promote: 'succeeded', rollback: 'skipped' });
    const steps = done.steps as Row[];
    assert.equal(((steps[2] as Row).result as Row).verdict, 'better');
    const candidate = (((steps[0] as Row).result as Row).wait as { result: { model: { version: number } } }).result.model.version;
    assert.equal(await championVersion(host), candidate);
    champion = candidate;
  });

  test('a worse candidate is not deployed', async () => {
    const started = ok<Row>(
      await host.call('workflows_run', {
        name: 'train_evaluate_promote',
        params: { dataset: 'b77-shuffled', evaluationDataset: 'b77-good', model: 'intents', deployment: 'intents', trainingParams: TRAIN_PARAMS, watchSeconds: 10 },
      }),
    );
    const done = await untilRun(host, started.runId as string);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.deepEqual(stepStates(done), { train: 'succeeded', compare: 'succeeded', verdict: 'succeeded', canary: 'skipped', promote: 'skipped', rollback: 'skipped' });
    assert.notEqual((((done.steps as Row[])[2] as Row).result as Row).verdict, 'better');
    assert.equal(await championVersion(host), champion);
    const deployment = ok<{ variants: Array<{ version: number; weight: number }>; rollout: unknown }>(await host.call('deployments_get', { name: 'intents' }));
    assert.deepEqual(deployment.variants.filter((variant) => variant.weight > 0).map((variant) => variant.version), [champion]);
  });
});
