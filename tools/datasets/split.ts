/**
 * Train/validation/test assignment. Stratified by label: each label's rows are shuffled with a
 * seeded PRNG (mulberry32) and cut by the fractions, so every split keeps the label proportions and
 * the same file, options and seed always give the same split (and so the same content hash).
 */
import { mulberry32 } from '../../contracts/mulberry32.ts';
import { stratify } from '../../contracts/stratify.ts';
export const SPLITS = ['train', 'validation', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];
/** 0 train, 1 validation, 2 test: the index into SPLITS. */
export type SplitCode = 0 | 1 | 2;

const ALIASES: Readonly<Record<string, SplitCode>> = {
  train: 0,
  training: 0,
  validation: 1,
  valid: 1,
  val: 1,
  dev: 1,
  test: 2,
  testing: 2,
  eval: 2,
};

/** The split a split column's value names (case-insensitive; train/training, validation/valid/val/dev, test/testing/eval). */
export function splitCode(value: string): SplitCode | undefined {
  return ALIASES[value.trim().toLowerCase()];
}

export interface SplitFractions {
  validation: number;
  test: number;
  seed: number;
}

/**
 * Assigns each row a split. `groups[i]` is row i's stratum (its label's index; 0 for all rows when
 * there is no label). Each stratum gets round(n × fraction) test and validation rows (test dealt
 * first), keeping at least one training row when it has two or more (contracts/stratify.ts).
 */
export function stratifiedSplit(groups: ArrayLike<number>, fractions: SplitFractions): Uint8Array {
  const rows = Uint32Array.from({ length: groups.length }, (_, row) => row);
  const parts = stratify(rows, (row) => groups[row] as number, [fractions.test, fractions.validation], mulberry32(fractions.seed));
  // Part 1 is test (code 2), part 2 validation (code 1).
  for (let row = 0; row < parts.length; row += 1) parts[row] = parts[row] === 1 ? 2 : parts[row] === 2 ? 1 : 0;
  return parts;
}
