/** Banking77 for the training tests and the bench: CSV parsing and JSONL preparation. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { missingSharedData, sharedDatasetsDir } from '../support/shared-datasets.ts';

export const banking77Dir = path.join(sharedDatasetsDir, 'banking77');

/** Why Banking77 cannot be used here (a skip reason), or null when it can; in CI its absence throws (shared-datasets.ts). */
export function banking77Missing(): string | null {
  return missingSharedData(['banking77/train.csv', 'banking77/test.csv']);
}

/** RFC 4180 CSV: quoted fields may hold commas, newlines and doubled quotes. First row is the header. */
export function parseCsv(text: string): Record<string, string>[] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      record.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += char;
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  const [header, ...rows] = records;
  if (!header) return [];
  return rows.filter((row) => row.length > 1 || row[0] !== '').map((row) => Object.fromEntries(header.map((name, i) => [name, row[i] ?? ''])));
}

export interface Banking77Row {
  text: string;
  category: string;
}

export function loadBanking77(split: 'train' | 'test'): Banking77Row[] {
  return parseCsv(readFileSync(path.join(banking77Dir, `${split}.csv`), 'utf8')).map((row) => ({ text: row.text ?? '', category: row.category ?? '' }));
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
