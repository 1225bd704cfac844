/**
 * Rollouts through real MCP clients on an in-process Anvil: a canary of a bad candidate (trained on
 * shuffled labels) pauses while feedback is thin and rolls back by itself once feedback shows the
 * accuracy drop — in the deployment's history and the registry's alias history; feedback joined to
 * predictions (online accuracy per variant, a feedback dataset version); shadow traffic logged on
 * both sides without slowing the caller; promote and rollback through the champion alias history.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { createTestHost, type TestHost } from 'anvil/testing';
import { modelsPlugin } from '../../tools/models/index.ts';
import { banking77Missing, banking77Slice, ok, trainVersion, writeSliceCsv, type Slice } from './support.ts';

const missing = banking77Missing();

interface Prediction {
  requestId: string;
  label: string | null;
  topK: Array<{ label: string; probability: number }>;
  variant: string;
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

describe('deployments: rollouts, feedback, shadow', { skip: missing ?? false }, () => {
  let host: TestHost;
  let slice: Slice;
  let good: number;
  let bad: number;

  before(async () => {
    host = await createTestHost({ plugins: [] });
    slice = banking77Slice();
    good = await trainVersion(host.call.bind(host), writeSliceCsv(host.home, 'good.csv', slice.train), 'b77-good', 'intents');
    bad = await trainVersion(host.call.bind(host), writeSliceCsv(host.home, 'bad.csv', slice.train, 99), 'b77-shuffled', 'intents');
    ok(await host.call('deployments_create', { name: 'intents', model: 'intents', version: good, logging: { inputs: true } }));
  });
  after(async () => {
    await host?.close();
  });

  test('feedback joins predictions; errors name the field; the same feedback twice changes nothing', async () => {
    const [p] = ok<{ predictions: Prediction[] }>(await host.call('predict', { deployment: 'intents', inputs: [slice.test[0]?.text] })).predictions;
    assert.ok(p);
    const truth = slice.test[0]?.category as string;
    const first = ok<{ correct: boolean; created: boolean; predicted: string }>(await host.call('feedback', { requestId: p.requestId, label: truth }));
    assert.equal(first.created, true);
    assert.equal(first.correct, p.label === truth);
    assert.equal(ok<{ created: boolean }>(await host.call('feedback', { requestId: p.requestId, label: truth })).created, false);
    const other = slice.categories.find((c) => c !== truth) as string;
    assert.match((await host.call('feedback', { requestId: p.requestId, label: other })).text, /ANVIL_E_CONFLICT/);
    assert.match((await host.call('feedback', { requestId: '00000000-0000-0000-0000-000000000000', label: truth })).text, /ANVIL_E_NOT_FOUND.*requestId/);
    const [q] = ok<{ predictions: Prediction[] }>(await host.call('predict', { deployment: 'intents', inputs: ['hello'] })).predictions;
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
        name: 'intents',
        candidate: bad,
        steps: [
          { percent: 50, pauseSeconds: 1 },
          { percent: 100, pauseSeconds: 1 },
        ],
        guardrails: [{ metric: 'accuracy', op: '>=', threshold: 0.6, minSamples: 15 }],
      }),
    );
    const paused = await waitFor(host, 'intents', (v) => v.rollout?.state === 'paused');
    assert.match(paused.rollout?.reason ?? '', /too few samples.*accuracy has \d+ of 15/);
    assert.deepEqual(paused.variants.map((v) => [v.version, v.weight]), [[good, 50], [bad, 50]], 'paused, not advanced and not rolled back');

    // Feedback arrives: the true labels of held-out texts, for predictions of both variants.
    let candidateLabels = 0;
    for (let round = 0; candidateLabels < 20 && round < 6; round++) {
      for (const [i, row] of slice.test.entries()) {
        const [p] = ok<{ predictions: Prediction[] }>(await host.call('predict', { deployment: 'intents', inputs: [row.text], requestKey: `r${round}-${i}` })).predictions;
        assert.ok(p);
        ok(await host.call('feedback', { requestId: p.requestId, label: row.category }));
        if (p.variant === `v${bad}`) candidateLabels++;
      }
    }
    const rolledBack = await waitFor(host, 'intents', (v) => v.rollout?.state === 'rolled-back');
    assert.match(rolledBack.rollout?.reason ?? '', /guardrail failed: accuracy .* is not >= 0.6/);
    assert.deepEqual(rolledBack.variants.map((v) => [v.version, v.weight]), [[good, 100]]);
    assert.ok(rolledBack.history.some((h) => h.action === 'canary_rolled_back'));
    assert.ok(rolledBack.history.some((h) => h.action === 'canary_paused'));
    const registry = host.server.plugins.exportsOf(modelsPlugin)?.registry();
    assert.ok(registry);
    const canaryAlias = await registry.aliasHistory('default', 'intents', { alias: 'canary' });
    assert.deepEqual(canaryAlias.map((c) => [c.action, c.fromVersion, c.toVersion]), [['clear', bad, null], ['set', null, bad]]);
    assert.match(canaryAlias[0]?.reason ?? '', /rolled back.*accuracy/);

    const monitor = ok<{ variants: Array<{ variant: string; feedback: number; accuracy: { value: number } | null; requests: number }> }>(await host.call('deployments_monitor', { name: 'intents', window: 600 }));
    const goodStats = monitor.variants.find((v) => v.variant === `v${good}`);
    const badStats = monitor.variants.find((v) => v.variant === `v${bad}`);
    assert.ok(goodStats && badStats, JSON.stringify(monitor));
    assert.ok((goodStats.accuracy?.value ?? 0) > (badStats.accuracy?.value ?? 1) + 0.2, JSON.stringify(monitor.variants));

    const dataset = ok<{ dataset: string; version: number; rows: number }>(await host.call('deployments_feedback_dataset', { name: 'intents' }));
    assert.equal(dataset.dataset, 'intents-feedback');
    assert.ok(dataset.rows >= 40, `${dataset.rows} feedback rows`);
    const sample = ok<{ sample: { rows: Array<Record<string, unknown>> } }>(await host.call('datasets_get', { name: 'intents-feedback', sampleRows: 2 }));
    assert.equal(sample.sample.rows[0]?.source_deployment, 'intents');
  });

  test('shadow runs off the response path and logs both outputs', async () => {
    const texts = slice.test.map((row) => row.text);
    const timed = async (text: string) => {
      const started = performance.now();
      const [p] = ok<{ predictions: Prediction[] }>(await host.call('predict', { deployment: 'intents', inputs: [text] })).predictions;
      assert.equal(p?.variant, `v${good}`, 'the caller is answered by the primary');
      return performance.now() - started;
    };
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
    const without: number[] = [];
    for (const text of texts.slice(0, 20)) without.push(await timed(text));
    ok(await host.call('deployments_shadow', { name: 'intents', candidate: bad, percent: 100 }));
    const withShadow: number[] = [];
    for (const text of texts.slice(0, 20)) withShadow.push(await timed(text));
    // The shadow runs after the answer is sent; a generous bound tolerates a loaded machine.
    assert.ok(median(withShadow) <= median(without) * 2 + 5, `median ${median(withShadow)} ms with shadow, ${median(without)} ms without`);
    await sleep(500);
    const monitor = ok<{ shadow: { pairs: number; agreement: number | null } | null; variants: Array<{ variant: string; shadow: boolean; requests: number }> }>(await host.call('deployments_monitor', { name: 'intents', window: 600 }));
    assert.ok((monitor.shadow?.pairs ?? 0) >= 20, JSON.stringify(monitor.shadow));
    assert.ok(monitor.variants.some((v) => v.shadow && v.variant === `v${bad}` && v.requests >= 20));
    ok(await host.call('deployments_shadow', { name: 'intents', candidate: bad, percent: 0 }));
  });

  test('promote moves champion; rollback returns to the previous champion from the alias history', async () => {
    ok(await host.call('deployments_promote', { name: 'intents', version: good }));
    const promoted = ok<View>(await host.call('deployments_promote', { name: 'intents', version: bad, reason: 'test' }));
    assert.deepEqual(promoted.variants.map((v) => v.version), [bad]);
    assert.equal(ok<{ version: number }>(await host.call('models_get', { name: 'intents', version: 'champion' })).version, bad);
    const back = ok<View>(await host.call('deployments_rollback', { name: 'intents', reason: 'bad intent accuracy' }));
    assert.deepEqual(back.variants.map((v) => v.version), [good]);
    assert.equal(ok<{ version: number }>(await host.call('models_get', { name: 'intents', version: 'champion' })).version, good);
  });
});
