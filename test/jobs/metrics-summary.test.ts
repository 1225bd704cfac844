import { test } from 'node:test';
import assert from 'node:assert/strict';
import { downsample, hasSpike, isPlateau, median, summarize, wireValue, type SeriesPoint } from '../../tools/jobs/metrics-summary.ts';

const series = (values: number[]): SeriesPoint[] => values.map((value, step) => ({ step, value }));

test('median of odd and even lists', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test('summarize: count, first/last as reported, finite min/max, last step', () => {
  const points: SeriesPoint[] = [
    { step: 0, value: 2.5 },
    { step: 10, value: Number.NaN },
    { step: 20, value: -1 },
    { step: 30, value: Number.POSITIVE_INFINITY },
    { step: 40, value: 0.75 },
  ];
  const summary = summarize(points);
  assert.equal(summary.count, 5);
  assert.equal(summary.first, 2.5);
  assert.equal(summary.last, 0.75);
  assert.equal(summary.min, -1);
  assert.equal(summary.max, 2.5);
  assert.equal(summary.lastStep, 40);
  assert.equal(summary.flags.nan, true);
});

test('summarize: empty and all-NaN series', () => {
  assert.deepEqual(summarize([]), { count: 0, first: null, last: null, min: null, max: null, lastStep: null, flags: { nan: false, spike: false, plateau: false } });
  const nan = summarize(series([Number.NaN, Number.NaN]));
  assert.equal(nan.min, null);
  assert.equal(nan.max, null);
  assert.equal(nan.flags.nan, true);
  assert.ok(Number.isNaN(nan.first as number));
});

test('spike: one outlier in a noisy decreasing loss is flagged, the clean curve is not', () => {
  // A decaying loss with deterministic ±2% wiggle.
  const clean = Array.from({ length: 100 }, (_, i) => 2 * Math.exp(-i / 40) * (1 + 0.02 * Math.sin(i * 1.7)));
  assert.equal(hasSpike(clean), false);
  const spiked = [...clean];
  spiked[60] = (spiked[60] as number) * 3; // loss jumps to 3x for one step
  assert.equal(hasSpike(spiked), true);
  assert.equal(summarize(series(spiked)).flags.spike, true);
});

test('spike: a step change (learning-rate drop) is not a spike; a jump in a flat series is', () => {
  const stepChange = [...Array.from({ length: 30 }, () => 2), ...Array.from({ length: 30 }, () => 1)];
  assert.equal(hasSpike(stepChange), false);
  const flat = Array.from({ length: 30 }, () => 1);
  flat[15] = 1.5;
  assert.equal(hasSpike(flat), true);
  // Rounding noise on a flat series is not a spike.
  assert.equal(hasSpike(Array.from({ length: 30 }, (_, i) => 1 + (i % 2) * 1e-7)), false);
});

test('spike: too few points to judge', () => {
  assert.equal(hasSpike([1, 1, 100]), false);
});

test('plateau: a converged tail is flagged, a still-falling one is not', () => {
  const converged = [...Array.from({ length: 80 }, (_, i) => 1 - i / 100), ...Array.from({ length: 20 }, () => 0.2 + 1e-6)];
  assert.equal(isPlateau(converged), true);
  const falling = Array.from({ length: 100 }, (_, i) => 1 - i / 200);
  assert.equal(isPlateau(falling), false);
  // Tail varying by 0.5% relative is not a plateau (threshold 0.1%).
  const wobbling = [...Array.from({ length: 80 }, () => 1), ...Array.from({ length: 20 }, (_, i) => 1 + (i % 2) * 0.005)];
  assert.equal(isPlateau(wobbling), false);
  assert.equal(isPlateau([1, 1, 1]), false, 'too short to call');
});

test('downsample: short series unchanged; long ones bounded, first and last kept, extremes survive', () => {
  const short = series([1, 2, 3]);
  assert.deepEqual(downsample(short, 10), short);

  const values = Array.from({ length: 10_000 }, (_, i) => Math.sin(i / 300));
  values[4321] = 50; // a spike
  values[7777] = -50; // a dip
  const points = series(values);
  const kept = downsample(points, 200);
  assert.ok(kept.length <= 200, `kept ${kept.length}`);
  assert.ok(kept.length >= 150, `kept only ${kept.length}`);
  assert.deepEqual(kept[0], points[0]);
  assert.deepEqual(kept[kept.length - 1], points[points.length - 1]);
  assert.ok(kept.some((point) => point.step === 4321 && point.value === 50));
  assert.ok(kept.some((point) => point.step === 7777 && point.value === -50));
  for (let i = 1; i < kept.length; i++) assert.ok((kept[i] as SeriesPoint).step > (kept[i - 1] as SeriesPoint).step, 'in step order, no duplicates');
});

test('downsample: a NaN in a bucket is kept', () => {
  const values = Array.from({ length: 1_000 }, (_, i) => i);
  values[500] = Number.NaN;
  const kept = downsample(series(values), 20);
  assert.ok(kept.length <= 20);
  assert.ok(kept.some((point) => point.step === 500 && Number.isNaN(point.value)));
});

test('downsample: uneven steps bucket by step, not by index', () => {
  // 900 points crowded in steps 0..899, then 100 points spread over 1000..100900.
  const points = [...Array.from({ length: 900 }, (_, i) => ({ step: i, value: 1 })), ...Array.from({ length: 100 }, (_, i) => ({ step: 1_000 + i * 1_000, value: 2 }))];
  const kept = downsample(points, 22); // 10 buckets of ~10,000 steps
  assert.ok(kept.length <= 22);
  assert.ok(kept.filter((point) => point.step < 1_000).length <= 3, 'the crowded start is one bucket (plus the first point)');
});

test('wireValue', () => {
  assert.equal(wireValue(1.5), 1.5);
  assert.equal(wireValue(Number.NaN), 'NaN');
  assert.equal(wireValue(Number.POSITIVE_INFINITY), 'Infinity');
  assert.equal(wireValue(Number.NEGATIVE_INFINITY), '-Infinity');
});
