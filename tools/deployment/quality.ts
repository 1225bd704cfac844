/**
 * Online quality from feedback: accuracy with a Wilson 95% interval, macro-F1 with a seeded
 * bootstrap 95% interval, and the population stability index of predicted classes.
 */
import { mulberry32 } from '../shared/mulberry32.ts';

export interface Interval {
  value: number;
  low: number;
  high: number;
}

export interface LabelledPair {
  label: string;
  /** What the deployment answered; null: it abstained. */
  predicted: string | null;
}

export function wilson(successes: number, n: number, z = 1.96): Interval | null {
  if (n === 0) return null;
  const p = successes / n;
  const denominator = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denominator;
  return { value: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Macro-F1 over the classes that occur as a true label (an abstention is a miss). */
export function macroF1(pairs: readonly LabelledPair[]): number {
  const classes = new Set(pairs.map((pair) => pair.label));
  let total = 0;
  for (const c of classes) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const pair of pairs) {
      if (pair.predicted === c && pair.label === c) tp++;
      else if (pair.predicted === c) fp++;
      else if (pair.label === c) fn++;
    }
    total += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  return classes.size === 0 ? 0 : total / classes.size;
}

export function macroF1Interval(pairs: readonly LabelledPair[], resamples = 200, seed = 17): Interval | null {
  if (pairs.length === 0) return null;
  const random = mulberry32(seed);
  const values: number[] = [];
  for (let b = 0; b < resamples; b++) {
    const sample = Array.from({ length: pairs.length }, () => pairs[Math.floor(random() * pairs.length)] as LabelledPair);
    values.push(macroF1(sample));
  }
  values.sort((a, b) => a - b);
  return { value: macroF1(pairs), low: values[Math.floor(0.025 * (resamples - 1))] as number, high: values[Math.ceil(0.975 * (resamples - 1))] as number };
}

/** PSI of `actual` against `expected` (counts per class); 0.1 is a small shift, above 0.25 a large one. */
export function psi(expected: ReadonlyMap<string, number>, actual: ReadonlyMap<string, number>): number | null {
  const e = [...expected.values()].reduce((a, b) => a + b, 0);
  const a = [...actual.values()].reduce((x, y) => x + y, 0);
  if (e === 0 || a === 0) return null;
  const floor = 1e-4;
  let total = 0;
  for (const c of new Set([...expected.keys(), ...actual.keys()])) {
    const pe = Math.max(floor, (expected.get(c) ?? 0) / e);
    const pa = Math.max(floor, (actual.get(c) ?? 0) / a);
    total += (pa - pe) * Math.log(pa / pe);
  }
  return total;
}
