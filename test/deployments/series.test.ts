/**
 * deployments_monitor's `series`: the window over time, bucketed by the database from the stored
 * prediction log. Rows are written by the plugin's own log writer (PredictionLog) at known times
 * over the last hour, for two variants, another deployment and another project; the answer is
 * checked bucket by bucket against a recount of those rows (requests, errors, abstain rate,
 * latency p50/p99 by the same interpolation as percentile_cont), with at most `points` buckets.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestHost, flatten, type TestHost } from 'anvil/testing';
import { mulberry32 } from '../../contracts/mulberry32.ts';
import type { PredictionRow } from '../../tools/deployment/prediction-log.ts';
import type { MonitorSeries as Series } from '../../tools/deployment/series.ts';
import { deployBareModel } from '../support/deployed-model.ts';

const ROWS = 900;
const WINDOW = 3600;

/** percentile_cont: linear interpolation between the two nearest ranks. */
function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = fraction * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (rank - low);
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

describe('deployments_monitor series', () => {
  let host: TestHost;
  const rows: PredictionRow[] = [];

  before(async () => {
    host = await createTestHost({ plugins: [], config: { jobs: { localWorker: 'off' } } });
    const runtime = await deployBareModel(host, { model: 'series-model', deployment: 'watched' });

    const random = mulberry32(12);
    const now = Date.now();
    for (let index = 0; index < ROWS; index += 1) {
      // Whole milliseconds over the last 70 minutes (some before the window), latencies exact in float4.
      const at = new Date(now - 5_000 - Math.floor(random() * 4_200_000)).toISOString();
      const error = random() < 0.1 ? 'boom' : null;
      const where = random();
      rows.push({
        project: where < 0.05 ? 'other-project' : 'default',
        request_id: `r-${index}`,
        shadow: false,
        deployment: where > 0.95 ? 'elsewhere' : 'watched',
        variant: random() < 0.7 ? 'v1' : 'v2',
        model_version: 1,
        at,
        latency_ms: Math.round(random() * 400) / 4,
        batch_size: 1,
        label: null,
        top_label: 'a',
        probability: 0.9,
        abstained: error === null && random() < 0.2,
        threshold: 0.5,
        error,
        input: null,
      });
    }
    for (const row of rows) runtime.log.push(row);
  });
  after(() => host?.close());

  it('buckets requests, errors, abstain rate and latency p50/p99 per variant, as a recount of the log rows gives them', async () => {
    const points = 24;
    const answer = flatten(await host.client.callTool({ name: 'deployments_monitor', arguments: { name: 'watched', window: WINDOW, series: { points } } }));
    assert.equal(answer.isError, false, answer.text);
    const series = (answer.structured as { series: Series }).series;
    const bucket = series.bucketSeconds;
    assert.equal(bucket, Math.ceil(WINDOW / (points - 1)));
    const from = Date.parse(series.from);
    assert.ok(from <= Date.parse(series.to) - WINDOW * 1000 && from > Date.parse(series.to) - WINDOW * 1000 - bucket * 1000, 'the first bucket holds the window start');
    assert.deepEqual(series.variants.map((one) => one.variant).sort(), ['v1', 'v2']);

    const mine = rows.filter((row) => row.project === 'default' && row.deployment === 'watched' && Date.parse(row.at) >= from);
    let counted = 0;
    for (const { variant, points: got } of series.variants) {
      assert.ok(got.length <= points, `${got.length} buckets, at most ${points}`);
      assert.equal(got.length, Math.floor(Date.parse(series.to) / 1000 / bucket) - Math.floor(from / 1000 / bucket) + 1, 'every bucket, idle ones too');
      for (const point of got) {
        const start = Date.parse(point.at);
        assert.equal(start % (bucket * 1000), 0, 'aligned to the bucket length');
        const inBucket = mine.filter((row) => row.variant === variant && Math.floor(Date.parse(row.at) / 1000 / bucket) * bucket * 1000 === start);
        const errors = inBucket.filter((row) => row.error !== null).length;
        const served = inBucket.length - errors;
        const latencies = inBucket.map((row) => row.latency_ms);
        assert.deepEqual(point, {
          at: point.at,
          requests: inBucket.length,
          errors,
          errorRate: inBucket.length ? round(errors / inBucket.length, 4) : null,
          abstainRate: served ? round(inBucket.filter((row) => row.abstained).length / served, 4) : null,
          p50Ms: latencies.length ? round(percentile(latencies, 0.5), 3) : null,
          p99Ms: latencies.length ? round(percentile(latencies, 0.99), 3) : null,
        }, `${variant} at ${point.at}`);
        counted += point.requests;
      }
    }
    assert.equal(counted, mine.length, 'every row of the window in exactly one bucket');
    assert.ok(counted > ROWS / 2, `most rows fall in the window (${counted})`);
  });

  it('is bounded, optional and scoped to the project', async () => {
    const plain = flatten(await host.client.callTool({ name: 'deployments_monitor', arguments: { name: 'watched' } }));
    assert.equal(plain.isError, false, plain.text);
    assert.equal((plain.structured as { series?: unknown }).series, undefined, 'no series unless asked');
    const tooMany = flatten(await host.client.callTool({ name: 'deployments_monitor', arguments: { name: 'watched', series: { points: 501 } } }));
    assert.equal(tooMany.isError, true);
    assert.match(tooMany.text, /ANVIL_E_INVALID_INPUT/);
    const month = flatten(await host.client.callTool({ name: 'deployments_monitor', arguments: { name: 'watched', window: 30 * 24 * 3600, series: { points: 500 } } }));
    assert.equal(month.isError, false, month.text);
    for (const one of (month.structured as { series: Series }).series.variants) assert.ok(one.points.length <= 500);

    const stranger = await host.connect({ name: 'mallory', project: 'other-project', scopes: ['deployments:read'] });
    const refused = flatten(await stranger.callTool({ name: 'deployments_monitor', arguments: { name: 'watched', series: { points: 10 } } }));
    assert.equal(refused.isError, true);
    assert.match(refused.text, /ANVIL_E_NOT_FOUND/);
  });
});
