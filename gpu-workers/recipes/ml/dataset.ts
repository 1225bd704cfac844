/**
 * Reading a recipe's dataset: a JSONL file, one JSON object per line (blank lines are skipped).
 * Every problem is a `DataError` whose message names the file, line and column, for the recipe to
 * report as `error {recoverable: false}`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';

export class DataError extends Error {
  override readonly name = 'DataError';
}

export interface DatasetRow {
  /** 1-based line number in the file. */
  readonly line: number;
  readonly values: Readonly<Record<string, unknown>>;
}

export type SplitName = 'train' | 'validation' | 'test';

export function readJsonl(file: string): DatasetRow[] {
  if (!existsSync(file) || !statSync(file).isFile()) throw new DataError(`dataset.file ${file} does not exist or is not a file`);
  const text = readFileSync(file, 'utf8');
  const rows: DatasetRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line) as unknown;
    } catch {
      throw new DataError(`dataset ${file} line ${i + 1} is not valid JSON`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new DataError(`dataset ${file} line ${i + 1} is not a JSON object`);
    rows.push({ line: i + 1, values: parsed as Record<string, unknown> });
  }
  if (rows.length === 0) throw new DataError(`dataset ${file} is empty: it has no rows`);
  return rows;
}

/** A row's label as a string (numbers and booleans are stringified); missing or empty is an error. */
export function labelOf(row: DatasetRow, column: string): string {
  const value = row.values[column];
  if (value === undefined || value === null || value === '') throw new DataError(`line ${row.line} has no value in the label column '${column}'`);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new DataError(`line ${row.line}: the label column '${column}' holds ${JSON.stringify(value)}, not a string or number`);
}

/** A row's split from `column` (train, validation — also `val`/`dev` — or test); no column means train. */
export function splitOf(row: DatasetRow, column: string | undefined): SplitName {
  if (column === undefined) return 'train';
  const value = row.values[column];
  if (value === 'train' || value === 'validation' || value === 'test') return value;
  if (value === 'val' || value === 'dev' || value === 'valid') return 'validation';
  throw new DataError(`line ${row.line}: the split column '${column}' must be 'train', 'validation' or 'test', got ${JSON.stringify(value)}`);
}
