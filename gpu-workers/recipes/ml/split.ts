/** Stratified train/validation splits and class weights. */
import { stratify } from '../../../contracts/stratify.ts';
import { Prng } from './prng.ts';

/**
 * Splits row indices `rows` (labels `labels[row]`) into train and validation, taking
 * round(fraction × count) rows of each class (at most count − 1) into validation, chosen with `seed`.
 * Both outputs keep the input order.
 */
export function stratifiedSplit(rows: readonly number[], labels: ArrayLike<number>, fraction: number, seed: number): { train: number[]; validation: number[] } {
  if (fraction <= 0) return { train: [...rows], validation: [] };
  const rng = Prng.fromSeed((seed ^ 0x5eed5eed) >>> 0);
  const parts = stratify(rows, (row) => labels[row] as number, [fraction], () => rng.next());
  return { train: rows.filter((_, position) => parts[position] === 0), validation: rows.filter((_, position) => parts[position] === 1) };
}

/** Per-class loss weights: all 1, or `n / (classes × count[c])` ("balanced", as scikit-learn). */
export function classWeights(labels: ArrayLike<number>, classes: number, mode: 'balanced' | 'none'): Float32Array {
  const weights = new Float32Array(classes).fill(1);
  if (mode === 'none') return weights;
  const counts = new Float64Array(classes);
  for (let i = 0; i < labels.length; i++) counts[labels[i] as number] = (counts[labels[i] as number] as number) + 1;
  for (let c = 0; c < classes; c++) weights[c] = (counts[c] as number) > 0 ? labels.length / (classes * (counts[c] as number)) : 1;
  return weights;
}
