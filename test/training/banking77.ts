/** Banking77 for the training tests and the bench: reading its CSV and preparing JSONL. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { csvObjects, parseCsvText } from '../../tools/datasets/csv.ts';
import { missingSharedData, sharedDatasetsDir } from '../support/shared-datasets.ts';

export const banking77Dir = path.join(sharedDatasetsDir, 'banking77');

/** Why Banking77 cannot be used here (a skip reason), or null when it can; in CI its absence throws (shared-datasets.ts). */
export function banking77Missing(): string | null {
  return missingSharedData(['banking77/train.csv', 'banking77/test.csv']);
}

/** A CSV file's rows keyed by its header, read by the datasets' own CSV reader (tools/datasets/csv.ts). */
export function readCsvRows(file: string): Record<string, string>[] {
  return csvObjects(parseCsvText(readFileSync(file, 'utf8'), { maxFieldChars: 100_000, maxFields: 100 }));
}

export interface Banking77Row {
  text: string;
  category: string;
}

export function loadBanking77(split: 'train' | 'test'): Banking77Row[] {
  return readCsvRows(path.join(banking77Dir, `${split}.csv`)).map((row) => ({ text: row.text ?? '', category: row.category ?? '' }));
}

/**
 * Writes a JSONL file the recipe reads: train rows then test rows, each `{text, category, split}`.
 * `classes` keeps only the first n categories (sorted by name), for fast tests.
 */
export function writeBanking77Jsonl(file: string, options: { classes?: number; trainPerClass?: number } = {}): { train: Banking77Row[]; test: Banking77Row[] } {
  let train = loadBanking77('train');
  let test = loadBanking77('test');
  if (options.classes !== undefined) {
    const keep = new Set([...new Set(train.map((row) => row.category))].sort().slice(0, options.classes));
    train = train.filter((row) => keep.has(row.category));
    test = test.filter((row) => keep.has(row.category));
  }
  if (options.trainPerClass !== undefined) {
    const seen = new Map<string, number>();
    train = train.filter((row) => {
      const count = (seen.get(row.category) ?? 0) + 1;
      seen.set(row.category, count);
      return count <= (options.trainPerClass as number);
    });
  }
  const lines = [...train.map((row) => ({ ...row, split: 'train' })), ...test.map((row) => ({ ...row, split: 'test' }))].map((row) => JSON.stringify(row));
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { train, test };
}
