/**
 * Serving through real MCP clients on an in-process Anvil (embedded PGlite, the local worker): a
 * Banking77 slice trained by the training plugin and deployed; predict equals the recipe's own
 * inference on the registered artifacts; A/B split and sticky keys; the operating point moved
 * without retraining; bad input and a hostile tenant change nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestHost, type TestHost } from 'anvil/testing';
import { TextClassifier } from '../../gpu-workers/recipes/text-classifier/predict.ts';
import { jobsPlugin } from '../../tools/jobs/index.ts';
import { banking77Missing, banking77Slice, ok, trainVersion, writeSliceCsv, type Slice } from './support.ts';

const missing = banking77Missing();

interface Prediction {
  requestId: string;
  label: string | null;
  abstained: boolean;
  topK: Array<{ label: string; probability: number }>;
  variant: string;
  modelVersion: number;
  threshold: number;
}

describe('deployments: serving', { skip: missing ?? false }, () => {
  let host: TestHost;
  let slice: Slice;
  let good: number;
  let bad: number;

  before(async () => {
    host = await createTestHost({ plugins: [] });
    slice = banking77Slice();
    good = await trainVersion(host.call.bind(host), writeSliceCsv(host.home, 'good.csv', slice.train), 'b77-good', 'intents');
    bad = await trainVersion(host.call.bind(host), writeSliceCsv(host.home, 'bad.csv', slice.train, 99), 'b77-shuffled', 'intents');
  });
  after(async () => {
    await host?.close();
  });

  test('predict equals the recipe’s inference on the registered artifacts', async () => {
    const created = ok<{ name: string; variants: Array<{ version: number; weight: number }>; created: boolean }>(await host.call('deployments_create', { name: 'intents', model: 'intents', version: good }));
    assert.equal(created.created, true);
    assert.deepEqual(created.variants.map((v) => [v.version, v.weight]), [[good, 100]]);
    const again = ok<{ created: boolean }>(await host.call('deployments_create', { name: 'intents', model: 'intents', version: good }));
    assert.equal(again.created, false, 'the same spec again changes nothing');

    const texts = slice.test.map((row) => row.text);
    const served = ok<{ predictions: Prediction[] }>(await host.call('predict', { deployment: 'intents', inputs: texts, topK: 4 }));
    assert.equal(served.predictions.length, texts.length);

    const model = ok<{ artifacts: Array<{ name: string; sha256: string }> }>(await host.call('models_get', { name: 'intents', version: good }));
    const blobs = host.server.plugins.exportsOf(jobsPlugin)?.jobs().blobs;
    assert.ok(blobs);
    const file = async (name: string) => (await blobs.get(model.artifacts.find((a) => a.name === name)?.sha256 ?? '')).file;
    const reference = await TextClassifier.load(await file('featurizer.json'), await file('model.onnx'));
    const expected = await reference.predict(texts);
    const probabilities = await reference.probabilities(texts);
    await reference.release();
    served.predictions.forEach((p, i) => {
      const want = expected[i];
      assert.ok(want);
      assert.equal(p.label, want.label, `input ${i}`);
      assert.equal(p.abstained, want.abstained);
      assert.equal(p.topK[0]?.label, want.topLabel);
      assert.ok(Math.abs((p.topK[0]?.probability ?? 0) - want.probability) < 1e-6);
      const c = reference.labels.indexOf(p.topK[1]?.label ?? '');
      assert.ok(Math.abs((p.topK[1]?.probability ?? 0) - (probabilities[i * reference.labels.length + c] as number)) < 1e-6);
      assert.equal(p.variant, `v${good}`);
      assert.equal(p.modelVersion, good);
    });
    const accuracy = served.predictions.filter((p, i) => p.topK[0]?.label === slice.test[i]?.category).length / texts.length;
    assert.ok(accuracy > 0.6, `held-out accuracy ${accuracy}`);
  });

  test('A/B 50/50 over 2,000 keys is within ±5%, and a key never switches variant', async () => {
    ok(await host.call('deployments_set_traffic', { name: 'intents', weights: { [`v${good}`]: 50, [`v${bad}`]: 50 } }));
    const counts = new Map<string, number>();
    const first = new Map<string, string>();
    const keys = Array.from({ length: 2000 }, (_, i) => `user-${i}`);
    for (let from = 0; from < keys.length; from += 50) {
      await Promise.all(
        keys.slice(from, from + 50).map(async (key) => {
          const p = ok<{ predictions: Prediction[] }>(await host.call('predict', { deployment: 'intents', inputs: ['card arrived?'], requestKey: key })).predictions[0];
          assert.ok(p);
          counts.set(p.variant, (counts.get(p.variant) ?? 0) + 1);
          first.set(key, p.variant);
        }),
      );
    }
    const share = (counts.get(`v${good}`) ?? 0) / keys.length;
    assert.ok(share >= 0.45 && share <= 0.55, `v${good} got ${share}`);
    for (const key of keys.slice(0, 200)) {
      const p = ok<{ predictions: Prediction[] }>(await host.call('predict', { deployment: 'intents', inputs: ['where is my card'], requestKey: key })).predictions[0];
      assert.equal(p?.variant, first.get(key), key);
    }
    ok(await host.call('deployments_set_traffic', { name: 'intents', weights: { [`v${good}`]: 100 } }));
  });

  test('the threshold moves without retraining and each prediction says which served it', async () => {
    ok(await host.call('deployments_update', { name: 'intents', threshold: 0.999 }));
    const high = ok<{ predictions: Prediction[] }>(await host.call('predict', { deployment: 'intents', inputs: slice.test.slice(0, 5).map((r) => r.text) })).predictions;
    assert.ok(high.every((p) => p.threshold === 0.999 && p.abstained && p.label === null), JSON.stringify(high));
    ok(await host.call('deployments_update', { name: 'intents', threshold: 0 }));
    const low = ok<{ predictions: Prediction[] }>(await host.call('predict', { deployment: 'intents', inputs: slice.test.slice(0, 5).map((r) => r.text) })).predictions;
    assert.ok(low.every((p) => p.threshold === 0 && !p.abstained && p.label !== null));
    const view = ok<{ history: Array<{ action: string }> }>(await host.call('deployments_get', { name: 'intents' }));
    assert.ok(view.history.filter((h) => h.action === 'threshold').length >= 2);
  });

  test('bad input names the field and changes nothing', async () => {
    const before = ok<{ generation: number }>(await host.call('deployments_get', { name: 'intents' }));
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['predict', { deployment: 'nope', inputs: ['x'] }, /ANVIL_E_NOT_FOUND.*nope/],
      ['predict', { deployment: 'intents', inputs: [{ amount: 3 }] }, /ANVIL_E_INVALID_INPUT.*inputs\[0\].*string/],
      ['predict', { deployment: 'intents', inputs: Array.from({ length: 257 }, () => 'x') }, /inputs/],
      ['predict', { deployment: 'intents', inputs: [] }, /inputs/],
      ['deployments_set_traffic', { name: 'intents', weights: { [`v${good}`]: 60, [`v${bad}`]: 30 } }, /ANVIL_E_INVALID_INPUT.*weights.*sum to 90/],
      ['deployments_set_traffic', { name: 'intents', weights: { v999: 100 } }, /ANVIL_E_NOT_FOUND.*999/],
      ['deployments_create', { name: 'Bad Name', model: 'intents' }, /name/],
      ['deployments_create', { name: 'x', model: 'intents', version: 1, alias: 'champion' }, /version, alias/],
    ];
    for (const [tool, args, pattern] of cases) {
      const outcome = await host.call(tool, args);
      assert.equal(outcome.isError, true, `${tool} ${JSON.stringify(args).slice(0, 80)}`);
      assert.match(outcome.text, pattern);
    }
    const afterView = ok<{ generation: number }>(await host.call('deployments_get', { name: 'intents' }));
    assert.equal(afterView.generation, before.generation);
  });

  test('another project sees nothing and cannot predict', async () => {
    const hostile = await host.connect({ project: 'other', scopes: ['*'] });
    const got = await hostile.callTool({ name: 'deployments_get', arguments: { name: 'intents' } });
    assert.equal(got.isError, true);
    const predicted = await hostile.callTool({ name: 'predict', arguments: { deployment: 'intents', inputs: ['x'] } });
    assert.equal(predicted.isError, true);
    assert.match(JSON.stringify(predicted.content), /NOT_FOUND/);
    const listed = await hostile.callTool({ name: 'deployments_list', arguments: {} });
    assert.deepEqual((listed.structuredContent as { deployments: unknown[] }).deployments, []);
    const created = await hostile.callTool({ name: 'deployments_create', arguments: { name: 'steal', model: 'intents', version: 1 } });
    assert.equal(created.isError, true, 'the other project has no model "intents"');
    const predictOnly = await host.connect({ scopes: ['deployments:predict'] });
    const denied = await predictOnly.callTool({ name: 'deployments_set_traffic', arguments: { name: 'intents', weights: { v1: 100 } } });
    assert.equal(denied.isError, true);
    const allowed = await predictOnly.callTool({ name: 'predict', arguments: { deployment: 'intents', inputs: ['x'] } });
    assert.notEqual(allowed.isError, true, JSON.stringify(allowed.content));
    await hostile.close();
    await predictOnly.close();
  });
});
