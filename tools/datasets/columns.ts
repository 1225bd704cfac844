/**
 * Column statistics gathered while reading, and the type each column gets: `number` when every
 * non-empty value parses as a finite number, `category` when few short values repeat, `text`
 * otherwise; the label column is `label`, the text column `text`; `columnTypes` overrides any of it.
 */
import { AnvilError, ErrorCodes } from 'anvil/plugin';
import { LIMITS } from './limits.ts';
import type { Scalar } from './readers.ts';

export const COLUMN_TYPES = ['text', 'number', 'category', 'label'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface ColumnInfo {
  name: string;
  type: ColumnType;
  /** What the values alone suggest, before roles and overrides. */
  inferred: 'text' | 'number' | 'category';
  /** Rows where the value is empty (CSV `""`, JSON null or missing). */
  empty: number;
  /** Distinct non-empty values; a lower bound when `distinctCapped`. */
  distinct: number;
  distinctCapped: boolean;
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The number a value stands for, or undefined (booleans and non-numeric text are not numbers). */
export function asNumber(value: Scalar): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (!NUMBER.test(trimmed)) return undefined;
  const parsed = Number(trimmed);
  return Number.isFinite(parsed) ? parsed : undefined;
}

export function isEmpty(value: Scalar | undefined): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim().length === 0);
}

export class ColumnStats {
  empty = 0;
  nonEmpty = 0;
  numeric = 0;
  maxChars = 0;
  readonly distinct = new Set<string>();
  distinctCapped = false;
  /** Where the first non-numeric value is, for `columnTypes: number` errors. */
  firstNonNumeric: { at: number } | undefined;

  constructor(readonly name: string) {}

  add(value: Scalar | undefined, at: number): void {
    if (isEmpty(value)) {
      this.empty += 1;
      return;
    }
    this.nonEmpty += 1;
    const text = String(value);
    if (text.length > this.maxChars) this.maxChars = text.length;
    if (asNumber(value ?? null) !== undefined) this.numeric += 1;
    else this.firstNonNumeric ??= { at };
    if (!this.distinctCapped) {
      this.distinct.add(text);
      if (this.distinct.size > LIMITS.distinctTrackMax) this.distinctCapped = true;
    }
  }

  /** Rows read before this column first appeared (JSON, JSONL) count as empty. */
  padTo(rows: number): void {
    const missing = rows - (this.empty + this.nonEmpty);
    if (missing > 0) this.empty += missing;
  }

  inferred(): ColumnInfo['inferred'] {
    if (this.nonEmpty > 0 && this.numeric === this.nonEmpty) return 'number';
    const distinct = this.distinct.size;
    if (!this.distinctCapped && distinct > 0 && distinct <= LIMITS.categoryMaxDistinct && distinct * 2 <= this.nonEmpty && this.maxChars <= LIMITS.categoryMaxChars) {
      return 'category';
    }
    return 'text';
  }
}

/**
 * The final type of each column. `roles` are the text and label columns; `overrides` the caller's
 * `columnTypes`. A `number` override on a column holding non-numbers is refused, naming the value.
 */
export function resolveColumns(
  stats: readonly ColumnStats[],
  roles: { text?: string | undefined; label?: string | undefined },
  overrides: Readonly<Record<string, ColumnType>>,
  unit: 'line' | 'row',
): ColumnInfo[] {
  return stats.map((column) => {
    const inferred = column.inferred();
    let type: ColumnType = column.name === roles.label ? 'label' : column.name === roles.text ? 'text' : inferred;
    const override = overrides[column.name];
    if (override) type = override;
    if (type === 'number' && column.firstNonNumeric) {
      // The caller named this column in columnTypes; the value itself is file content and is not echoed.
      throw new AnvilError(ErrorCodes.INVALID_INPUT, `${unit} ${column.firstNonNumeric.at}: column "${column.name}" holds a value that is not a number (columnTypes says number)`);
    }
    return { name: column.name, type, inferred, empty: column.empty, distinct: column.distinct.size, distinctCapped: column.distinctCapped };
  });
}

/** A value as written to the normalised JSONL: numbers for number columns, strings otherwise, null when empty. */
export function normalise(value: Scalar | undefined, type: ColumnType): Scalar {
  if (isEmpty(value)) return null;
  if (type === 'number') return asNumber(value ?? null) ?? null;
  // Labels are compared trimmed (the label distribution counts them so): store them the same way.
  if (type === 'label') return String(value).trim();
  return typeof value === 'string' ? value : String(value);
}
