/**
 * Train/validation/test assignment. Stratified by label: each label's rows are shuffled with a
 * seeded PRNG (mulberry32) and cut by the fractions, so every split keeps the label proportions and
 * the same file, options and seed always give the same split (and so the same content hash).
 */
import { mulberry32 } from '../../contracts/mulberry32.ts';
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

function shuffle(items: number[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    const swap = items[i] as number;
    items[i] = items[j] as number;
    items[j] = swap;
  }
}

export interface SplitFractions {
  validation: number;
  test: number;
  seed: number;
}

/**
 * Assigns each row a split. `groups[i]` is row i's stratum (its label's index; 0 for all rows when
 * there is no label). Each stratum gets round(n × fraction) validation and test rows, keeping at
 * least one training row when it has two or more.
 */
export function stratifiedSplit(groups: ArrayLike<number>, groupCount: number, fractions: SplitFractions): Uint8Array {
  const random = mulberry32(fractions.seed);
  const members: number[][] = Array.from({ length: groupCount }, () => []);
  for (let row = 0; row < groups.length; row += 1) members[groups[row] as number]?.push(row);
  const assigned = new Uint8Array(groups.length); // 0: train
  for (const rows of members) {
    if (rows.length === 0) continue;
    shuffle(rows, random);
    let test = Math.round(rows.length * fractions.test);
    let validation = Math.round(rows.length * fractions.validation);
    const maxHeldOut = rows.length >= 2 ? rows.length - 1 : 0;
    while (test + validation > maxHeldOut) {
      if (validation >= test && validation > 0) validation -= 1;
      else test -= 1;
    }
    for (let k = 0; k < test; k += 1) assigned[rows[k] as number] = 2;
    for (let k = test; k < test + validation; k += 1) assigned[rows[k] as number] = 1;
  }
  return assigned;
}
