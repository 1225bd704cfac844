/**
 * Bootstrap percentile intervals for accuracy and macro F1: resample row indices with replacement
 * (seeded), recount, recompute. Paired: both models scored on the same resampled rows, the interval
 * is of the difference.
 *
 * Fast path: accuracy and F1 depend on a row only through its (true, predicted) pair, so rows are
 * grouped by pair once; a resample only counts how often each pair was drawn (one increment per
 * draw), then the per-class counts are rebuilt from the few distinct pairs.
 */
import { accuracyOf, emptyCounts, macroF1Of, resetCounts, type Counts, type EncodedRows } from './classification.ts';
import { indexSampler, percentileInterval } from './rng.ts';
import type { BootstrapIntervals, BootstrapOptions, Interval } from './types.ts';

export const BOOTSTRAP_DEFAULTS = { resamples: 1000, seed: 1, confidence: 0.95 } as const;

export interface ResolvedBootstrap {
  resamples: number;
  seed: number;
  confidence: number;
}

export function resolveBootstrap(options: BootstrapOptions | undefined): ResolvedBootstrap {
  return {
    resamples: options?.resamples ?? BOOTSTRAP_DEFAULTS.resamples,
    seed: options?.seed ?? BOOTSTRAP_DEFAULTS.seed,
    confidence: options?.confidence ?? BOOTSTRAP_DEFAULTS.confidence,
  };
}

/** Rows grouped by their (true, predicted) pair. */
interface PairedRows {
  /** pair of each row */
  pairOf: Int32Array;
  truth: Int32Array;
  pred: Int32Array;
  /** draws of each pair in the current resample */
  drawn: Int32Array;
  counts: Counts;
}

function groupPairs(rows: EncodedRows): PairedRows {
  const k = rows.classes.length;
  const index = new Map<number, number>();
  const truth: number[] = [];
  const pred: number[] = [];
  const pairOf = new Int32Array(rows.truth.length);
  for (let i = 0; i < rows.truth.length; i += 1) {
    const t = rows.truth[i] as number;
    const p = rows.pred[i] as number;
    const key = t * k + p;
    let pair = index.get(key);
    if (pair === undefined) {
      pair = truth.length;
      index.set(key, pair);
      truth.push(t);
      pred.push(p);
    }
    pairOf[i] = pair;
  }
  return { pairOf, truth: Int32Array.from(truth), pred: Int32Array.from(pred), drawn: new Int32Array(truth.length), counts: emptyCounts(k) };
}

/** Counts of the resample given by `draws` (row indices). */
function recount(grouped: PairedRows, draws: Int32Array): Counts {
  const { pairOf, drawn, counts, truth, pred } = grouped;
  drawn.fill(0);
  for (let j = 0; j < draws.length; j += 1) (drawn[pairOf[draws[j] as number] as number] as number) += 1;
  resetCounts(counts);
  for (let q = 0; q < drawn.length; q += 1) {
    const c = drawn[q] as number;
    if (c === 0) continue;
    const t = truth[q] as number;
    const p = pred[q] as number;
    counts.rows += c;
    if (t === p) {
      counts.correct += c;
      (counts.tp[t] as number) += c;
    } else {
      (counts.fp[p] as number) += c;
      (counts.fn[t] as number) += c;
    }
  }
  return counts;
}

/** Intervals of accuracy and macro F1 for one model; null when resamples is 0 or there are no rows. */
export function bootstrapIntervals(rows: EncodedRows, options: ResolvedBootstrap): BootstrapIntervals | null {
  const n = rows.truth.length;
  if (options.resamples === 0 || n === 0) return null;
  const sampler = indexSampler(options.seed);
  const grouped = groupPairs(rows);
  const draws = new Int32Array(n);
  const accuracy = new Float64Array(options.resamples);
  const macroF1 = new Float64Array(options.resamples);
  for (let r = 0; r < options.resamples; r += 1) {
    sampler.next(draws);
    const counts = recount(grouped, draws);
    accuracy[r] = accuracyOf(counts);
    macroF1[r] = macroF1Of(counts);
  }
  return {
    accuracy: percentileInterval(accuracy, options.confidence),
    macroF1: percentileInterval(macroF1, options.confidence),
    resamples: options.resamples,
    seed: options.seed,
    confidence: options.confidence,
  };
}

/** Paired intervals of (candidate − champion) for accuracy and macro F1, on the same resampled rows. */
export function pairedBootstrap(candidate: EncodedRows, champion: EncodedRows, options: ResolvedBootstrap): { accuracy: Interval; macroF1: Interval } | null {
  const n = candidate.truth.length;
  if (options.resamples === 0 || n === 0) return null;
  const sampler = indexSampler(options.seed);
  const a = groupPairs(candidate);
  const b = groupPairs(champion);
  const draws = new Int32Array(n);
  const accuracy = new Float64Array(options.resamples);
  const macroF1 = new Float64Array(options.resamples);
  for (let r = 0; r < options.resamples; r += 1) {
    sampler.next(draws);
    const countsA = recount(a, draws);
    const accuracyA = accuracyOf(countsA);
    const macroA = macroF1Of(countsA);
    const countsB = recount(b, draws);
    accuracy[r] = accuracyA - accuracyOf(countsB);
    macroF1[r] = macroA - macroF1Of(countsB);
  }
  return { accuracy: percentileInterval(accuracy, options.confidence), macroF1: percentileInterval(macroF1, options.confidence) };
}
