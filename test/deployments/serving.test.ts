/**
 * Serving through real MCP clients on an in-process Anvil (embedded PGlite, the local worker): a
 * Banking77 slice trained by the training plugin and deployed; predict equals the recipe's own
 * inference on the registered artifacts; A/B split and sticky keys; the operating point moved
 * without retraining; bad input and a hostile tenant change nothing. Then, on a second deployment
 * of the same models: feedback joined to predictions; a canary of the bad candidate (trained on
 * shuffled labels) pauses while feedback is thin and rolls back by itself once it shows the
 * accuracy drop (deployment history and registry alias history); a feedback dataset version;
 * shadow traffic logged on both sides without slowing the caller; promote and rollback through the
 * champion alias history.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestHost, type TestHost } from 'anvil/testing';
import { createDatasetRoot, type DatasetRoot } from '../support/dataset-root.ts';
import { TextClassifier } from '../../gpu-workers/recipes/text-classifier/predict.ts';
import { jobsPlugin } from '../../tools/jobs/index.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { modelsPlugin } from '../../tools/models/index.ts';
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

interface View {
  variants: Array<{ name: string; version: number; weight: number }>;
  rollout: { state: string; reason: string | null; readings: Array<{ metric: string; status: string; samples: number }> } | null;
  shadow: { variant: string; percent: number } | null;
  history: Array<{ action: string; detail: Record<string, unknown> }>;
}

async function waitFor(host: TestHost, name: string, until: (view: View) => boolean, limitMs = 30_000): Promise<View> {
  const end = Date.now() + limitMs;
  for (;;) {
    const view = ok<View>(await host.call('deployments_get', { name }));
    if (until(view)) return view;
    assert.ok(Date.now() < end, `timed out; last: ${JSON.stringify(view.rollout)}`);
    await sleep(250);
  }
}

describe('deployments: serving', { skip: missing ?? false }, () => {
  let host: TestHost;
  let data: DatasetRoot | undefined;
  let slice: Slice;
  let good: number;
  let bad: number;

  before(async () => {
    data = createDatasetRoot();
    host = await createTestHost({ plugins: [], env: data.env });
    slice = banking77Slice();
    good = await trainVersion(host.call.bind(host), writeSliceCsv(data.dir, 'good.csv', slice.train), 'b77-good', 'intents');
    bad = await trainVersion(host.call.bind(host), writeSliceCsv(data.dir, 'bad.csv', slice.train, 99), 'b77-shuffled', 'intents');
  });
  after(async () => {
    await host?.close();
    data?.remove();
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

  test('a deployment logging its inputs for the rollout tests', async () => {
    ok(await host.call('deployments_create', { name: 'canary', model: 'intents', version: good, logging: { inputs: true } }));
  });

  test('feedback joins predictions; errors name the field; the same feedback twice changes nothing', async () => {
    const [p] = ok<{ predictions: Prediction[] }>(await host.call('predict', { deployment: 'canary', inputs: [slice.test[0]?.text] })).predictions;
    assert.ok(p);
    const truth = slice.test[0]?.category as string;
    const first = ok<{ correct: boolean; created: boolean; predicted: string }>(await host.call('feedback', { requestId: p.requestId, label: truth }));
    assert.equal(first.created, true);
    assert.equal(first.correct, p.label === truth);
    assert.equal(ok<{ created: boolean }>(await host.call('feedback', { requestId: p.requestId, label: truth })).created, false);
    const other = slice.categories.find((c) => c !== truth) as string;
    assert.match((await host.call('feedback', { requestId: p.requestId, label: other })).text, /ANVIL_E_CONFLICT/);
    assert.match((await host.call('feedback', { requestId: '00000000-0000-0000-0000-000000000000', label: truth })).text, /ANVIL_E_NOT_FOUND.*requestId/);
    const [q] = ok<{ predictions: Prediction[] }>(await host.call('predict', { deployment: 'canary', inputs: ['hello'] })).predictions;
    assert.match((await host.call('feedback', { requestId: q?.requestId, label: 'not_a_label' })).text, /ANVIL_E_INVALID_INPUT.*label/);
    assert.match((await host.call('feedback', { requestId: q?.requestId })).text, /label, reward/);
    const hostile = await host.connect({ project: 'other' });
    const stolen = await hostile.callTool({ name: 'feedback', arguments: { requestId: q?.requestId, label: truth } });
    assert.equal(stolen.isError, true, 'another project cannot label this project’s predictions');
    await hostile.close();
  });

  test('a canary of the shuffled-labels model pauses on thin feedback, then rolls back by itself', async () => {
    ok(
      await host.call('deployments_canary', {
        name: 'canary',
        candidate: bad,
        steps: [
          { percent: 50, pauseSeconds: 1 },
          { percent: 100, pauseSeconds: 1 },
        ],
        guardrails: [{ metric: 'accuracy', op: '>=', threshold: 0.6, minSamples: 15 }],
      }),
    );
    const paused = await waitFor(host, 'canary', (v) => v.rollout?.state === 'paused');
    assert.match(paused.rollout?.reason ?? '', /too few samples.*accuracy has \d+ of 15/);
    assert.deepEqual(paused.variants.map((v) => [v.version, v.weight]), [[good, 50], [bad, 50]], 'paused, not advanced and not rolled back');

    // Feedback arrives: the true labels of held-out texts, for predictions of both variants.
    let candidateLabels = 0;
    for (let round = 0; candidateLabels < 20 && round < 6; round++) {
      for (const [i, row] of slice.test.entries()) {
        const [p] = ok<{ predictions: Prediction[] }>(await host.call('predict', { deployment: 'canary', inputs: [row.text], requestKey: `r${round}-${i}` })).predictions;
        assert.ok(p);
        ok(await host.call('feedback', { requestId: p.requestId, label: row.category }));
        if (p.variant === `v${bad}`) candidateLabels++;
      }
    }
    const rolledBack = await waitFor(host, 'canary', (v) => v.rollout?.state === 'rolled-back');
    assert.match(rolledBack.rollout?.reason ?? '', /guardrail failed: accuracy .* is not >= 0.6/);
    assert.deepEqual(rolledBack.variants.map((v) => [v.version, v.weight]), [[good, 100]]);
    assert.ok(rolledBack.history.some((h) => h.action === 'canary_rolled_back'));
    assert.ok(rolledBack.history.some((h) => h.action === 'canary_paused'));
    const registry = host.server.plugins.exportsOf(modelsPlugin)?.registry();
    assert.ok(registry);
    const canaryAlias = await registry.aliasHistory('default', 'intents', { alias: 'canary' });
    assert.deepEqual(canaryAlias.map((c) => [c.action, c.fromVersion, c.toVersion]), [['clear', bad, null], ['set', null, bad]]);
    assert.match(canaryAlias[0]?.reason ?? '', /rolled back.*accuracy/);

    const monitor = ok<{ variants: Array<{ variant: string; feedback: number; accuracy: { value: number } | null; requests: number }> }>(await host.call('deployments_monitor', { name: 'canary', window: 600 }));
    const goodStats = monitor.variants.find((v) => v.variant === `v${good}`);
    const badStats = monitor.variants.find((v) => v.variant === `v${bad}`);
    assert.ok(goodStats && badStats, JSON.stringify(monitor));
    assert.ok((goodStats.accuracy?.value ?? 0) > (badStats.accuracy?.value ?? 1) + 0.2, JSON.stringify(monitor.variants));

    const dataset = ok<{ dataset: string; version: number; rows: number }>(await host.call('deployments_feedback_dataset', { name: 'canary' }));
    assert.equal(dataset.dataset, 'canary-feedback');
    assert.ok(dataset.rows >= 40, `${dataset.rows} feedback rows`);
    const sample = ok<{ sample: { rows: Array<Record<string, unknown>> } }>(await host.call('datasets_get', { name: 'canary-feedback', sampleRows: 2 }));
    assert.equal(sample.sample.rows[0]?.source_deployment, 'canary');
  });

  test('shadow runs off the response path and logs both outputs', async () => {
    const texts = slice.test.map((row) => row.text);
    const timed = async (text: string) => {
      const started = performance.now();
      const [p] = ok<{ predictions: Prediction[] }>(await host.call('predict', { deployment: 'canary', inputs: [text] })).predictions;
      assert.equal(p?.variant, `v${good}`, 'the caller is answered by the primary');
      return performance.now() - started;
    };
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
    const without: number[] = [];
    for (const text of texts.slice(0, 20)) without.push(await timed(text));
    ok(await host.call('deployments_shadow', { name: 'canary', candidate: bad, percent: 100 }));
    const withShadow: number[] = [];
    for (const text of texts.slice(0, 20)) withShadow.push(await timed(text));
    // The shadow runs after the answer is sent; a generous bound tolerates a loaded machine.
    assert.ok(median(withShadow) <= median(without) * 3 + 10, `median ${median(withShadow)} ms with shadow, ${median(without)} ms without`);
    // Both outputs reach the log (written off the request path): poll until the mirrors are there.
    type ShadowReport = { shadow: { pairs: number; agreement: number | null } | null; variants: Array<{ variant: string; shadow: boolean; requests: number }> };
    // The monitor reads its parts in one snapshot: once an answer counts the 20 pairs, the same
    // answer counts every shadow row they join (a log flush between its queries no longer shows the
    // pairs complete and the shadow variant one short).
    let monitor: ShadowReport;
    const until = Date.now() + 20_000;
    do {
      monitor = ok<ShadowReport>(await host.call('deployments_monitor', { name: 'canary', window: 600 }));
      if ((monitor.shadow?.pairs ?? 0) >= 20) break;
      await sleep(250);
    } while (Date.now() < until);
    const pairs = monitor.shadow?.pairs ?? 0;
    assert.ok(pairs >= 20, JSON.stringify(monitor.shadow));
    const mirrors = monitor.variants.find((v) => v.shadow && v.variant === `v${bad}`)?.requests ?? 0;
    assert.ok(mirrors >= pairs, `${pairs} pairs, ${mirrors} shadow requests: ${JSON.stringify(monitor.variants)}`);
    ok(await host.call('deployments_shadow', { name: 'canary', candidate: bad, percent: 0 }));
  });

  test('promote moves champion; rollback returns to the previous champion from the alias history', async () => {
    ok(await host.call('deployments_promote', { name: 'canary', version: good }));
    const promoted = ok<View>(await host.call('deployments_promote', { name: 'canary', version: bad, reason: 'test' }));
    assert.deepEqual(promoted.variants.map((v) => v.version), [bad]);
    assert.equal(ok<{ version: number }>(await host.call('models_get', { name: 'intents', version: 'champion' })).version, bad);
    const back = ok<View>(await host.call('deployments_rollback', { name: 'canary', reason: 'bad intent accuracy' }));
    assert.deepEqual(back.variants.map((v) => v.version), [good]);
    assert.equal(ok<{ version: number }>(await host.call('models_get', { name: 'intents', version: 'champion' })).version, good);
  });
});
