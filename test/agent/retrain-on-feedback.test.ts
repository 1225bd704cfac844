/**
 * The built-in retrain_on_feedback workflow end to end on a Banking77 slice, through real MCP: a
 * deployment of a champion trained on shuffled labels logs its inputs; people label its
 * predictions with the true intents. Below minFeedback the run ends with every later step skipped
 * and the reason; past it the feedback becomes a new dataset version, a candidate is trained on it
 * and compared with the champion on held-out Banking77 rows, and the rest follows the verdict.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestHost } from 'anvil/testing';
import { championVersion, startShuffledChampion, stepOf, stepStates, untilRun, type Row, type ShuffledChampion } from '../support/champion-workflow.ts';
import { banking77Missing, ok, TRAIN_PARAMS, type Slice } from '../deployments/support.ts';

const missing = banking77Missing();
if (missing) process.stderr.write(`retrain_on_feedback e2e skipped: ${missing}\n`);

const FIRST_FEEDBACK = 12;
const MIN_FEEDBACK = 100;

describe('retrain_on_feedback', { skip: missing ?? false }, () => {
  let setup: ShuffledChampion | undefined;
  let host: TestHost;
  let slice: Slice;
  let champion: number;

  /** Predicts the texts on the deployment and labels each prediction with its true intent. */
  const labelPredictions = async (rows: Slice['train']) => {
    const predictions = ok<{ predictions: Array<{ requestId: string }> }>(await host.call('predict', { deployment: 'intents', inputs: rows.map((row) => row.text) })).predictions;
    assert.equal(predictions.length, rows.length);
    for (const [i, prediction] of predictions.entries()) ok(await host.call('feedback', { requestId: prediction.requestId, label: rows[i]?.category }));
  };
  const run = (extra: Row = {}) =>
    host.call('workflows_run', {
      name: 'retrain_on_feedback',
      params: { deployment: 'intents', model: 'intents', minFeedback: MIN_FEEDBACK, evaluationDataset: 'b77-heldout', trainingParams: TRAIN_PARAMS, watchSeconds: 10, ...extra },
    });

  before(async () => {
    setup = await startShuffledChampion({ logInputs: true });
    ({ host, slice, champion } = setup);
    // Held-out Banking77 rows, all in the test split: what candidate and champion are scored on.
    const heldout = path.join(setup.data.dir, 'heldout.csv');
    writeFileSync(heldout, ['text,category,split', ...slice.test.map((row) => `"${row.text.replaceAll('"', '""')}",${row.category},test`)].join('\n') + '\n');
    ok(await host.call('datasets_import', { name: 'b77-heldout', path: heldout, labelColumn: 'category' }));
  });
  after(async () => {
    await setup?.close();
  });

  test('listed beside train_evaluate_promote; bad params and another project’s deployment are refused', async () => {
    const listed = ok<{ workflows: Row[] }>(await host.call('workflows_list')).workflows;
    const names = listed.map((workflow) => workflow.name);
    assert.ok(names.includes('train_evaluate_promote') && names.includes('retrain_on_feedback'), names.join(', '));
    const params = (listed.find((workflow) => workflow.name === 'retrain_on_feedback') as Row).params as Row;
    assert.deepEqual((params.required as string[]).sort(), ['deployment', 'minFeedback']);
    assert.match((await run({ minFeedback: 0 })).text, /ANVIL_E_INVALID_INPUT.*params\.minFeedback/);
    assert.match((await run({ dataset: 'b77-shuffled' })).text, /ANVIL_E_INVALID_INPUT/);
    const hostile = await host.connect({ project: 'other' });
    const stats = await hostile.callTool({ name: 'deployments_feedback_stats', arguments: { name: 'intents' } });
    assert.equal(stats.isError, true, 'another project’s deployment looks like one that does not exist');
    assert.match(JSON.stringify(stats.content), /ANVIL_E_NOT_FOUND/);
    await hostile.close();
  });

  test('below minFeedback: no dataset version, every later step skipped with the reason', async () => {
    await labelPredictions(slice.train.slice(0, FIRST_FEEDBACK));
    const done = await untilRun(host, ok<Row>(await run()).runId as string);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.deepEqual(stepStates(done), { feedback: 'succeeded', dataset: 'skipped', train: 'skipped', compare: 'skipped', verdict: 'skipped', canary: 'skipped', promote: 'skipped', rollback: 'skipped' });
    assert.equal((stepOf(done, 'feedback').result as Row).usable, FIRST_FEEDBACK);
    assert.match((stepOf(done, 'dataset').error as Row).message as string, new RegExp(`condition did not hold: .*at least ${MIN_FEEDBACK} labelled feedback rows`));
    assert.match((stepOf(done, 'train').error as Row).message as string, /depends on step dataset, which was skipped/);
    assert.match((await host.call('datasets_get', { name: 'intents-feedback' })).text, /ANVIL_E_NOT_FOUND/);
    assert.equal(await championVersion(host), champion);
  });

  test('past minFeedback: a version of the feedback trains a candidate that is judged against the champion', async (t) => {
    await labelPredictions(slice.train.slice(FIRST_FEEDBACK));
    const started = ok<Row>(await run());
    let current = await untilRun(host, started.runId as string);
    const verdict = (stepOf(current, 'verdict').result as Row | undefined)?.verdict;
    assert.ok(typeof verdict === 'string', JSON.stringify(stepStates(current)));
    t.diagnostic(`verdict: ${verdict}`);

    // The new dataset version holds every labelled row, and the candidate was trained on exactly it.
    const made = stepOf(current, 'dataset').result as { dataset: string; version: number; rows: number; created: boolean };
    assert.deepEqual(made, { dataset: 'intents-feedback', version: 1, rows: slice.train.length, created: true });
    const trainWait = (stepOf(current, 'train').result as Row).wait as { result: { model: { version: number } } };
    const candidate = trainWait.result.model.version;
    const lineage = ok<{ lineage: { dataset: { name: string; version: number } } }>(await host.call('models_get', { name: 'intents', version: candidate }));
    assert.deepEqual([lineage.lineage.dataset.name, lineage.lineage.dataset.version], ['intents-feedback', 1]);

    if (verdict === 'better') {
      // Canaried, then deployments_promote (destructive) waits for a person.
      assert.equal(current.status, 'waiting_approval', JSON.stringify(stepStates(current)));
      const promote = stepOf(current, 'promote');
      assert.equal(promote.state, 'waiting_approval');
      const person = await host.connect({ project: 'default', name: 'release-manager', scopes: ['approvals:write'] });
      const decided = (await person.callTool({ name: 'approvals_decide', arguments: { id: promote.approvalId, decision: 'approve' } })) as { isError?: boolean };
      assert.notEqual(decided.isError, true);
      await person.close();
      current = await untilRun(host, started.runId as string, ['running', 'waiting_approval']);
      assert.equal(current.status, 'succeeded', JSON.stringify(stepStates(current)));
      assert.deepEqual(stepStates(current), { feedback: 'succeeded', dataset: 'succeeded', train: 'succeeded', compare: 'succeeded', verdict: 'succeeded', canary: 'succeeded', promote: 'succeeded', rollback: 'skipped' });
      assert.equal(await championVersion(host), candidate);
    } else {
      assert.equal(current.status, 'succeeded', JSON.stringify(current));
      assert.deepEqual(stepStates(current), { feedback: 'succeeded', dataset: 'succeeded', train: 'succeeded', compare: 'succeeded', verdict: 'succeeded', canary: 'skipped', promote: 'skipped', rollback: 'skipped' });
      assert.match((stepOf(current, 'canary').error as Row).message as string, /condition did not hold: the candidate beats the champion/);
      assert.equal(await championVersion(host), champion);
      const deployment = ok<{ variants: Array<{ version: number; weight: number }> }>(await host.call('deployments_get', { name: 'intents' }));
      assert.deepEqual(deployment.variants.filter((variant) => variant.weight > 0).map((variant) => variant.version), [champion]);
    }
  });
});
