/**
 * A labelled dataset split three ways: rows come from the JSONL file with their split column (or all
 * as training rows); when there are no validation rows, a stratified `validationFraction` of the
 * training rows (chosen with `seed`) becomes validation. Classes are the training rows' labels, sorted.
 */
import { DataError, type DatasetRow, labelOf, readJsonl, splitOf } from './dataset.ts';
import { stratifiedSplit } from './split.ts';

export interface LabelledItem<T> {
  readonly line: number;
  readonly label: string;
  readonly input: T;
}

export interface LabelledSplits<T> {
  readonly labels: string[];
  readonly train: LabelledItem<T>[];
  readonly validation: LabelledItem<T>[];
  readonly test: LabelledItem<T>[];
  /** The class index of a label, or -1 when it is not a training class. */
  labelIndex(label: string): number;
  /** All rows as read (for recipes that look at columns across rows). */
  readonly rows: DatasetRow[];
}

export function loadLabelledRows<T>(
  dataset: { file: string; labelColumn: string; splitColumn?: string | undefined },
  validationFraction: number,
  seed: number,
  inputOf: (row: DatasetRow) => T,
): LabelledSplits<T> {
  const rows = readJsonl(dataset.file);
  const bySplit: Record<'train' | 'validation' | 'test', LabelledItem<T>[]> = { train: [], validation: [], test: [] };
  for (const row of rows) {
    const split = splitOf(row, dataset.splitColumn);
    bySplit[split].push({ line: row.line, label: labelOf(row, dataset.labelColumn), input: inputOf(row) });
  }
  if (bySplit.train.length === 0) throw new DataError(`dataset ${dataset.file} has no training rows${dataset.splitColumn ? ` (split column '${dataset.splitColumn}')` : ''}`);
  const labels = [...new Set(bySplit.train.map((item) => item.label))].sort();
  if (labels.length < 2) {
    throw new DataError(`the label column '${dataset.labelColumn}' has a single class (${JSON.stringify(labels[0])}) in the training rows; a classifier needs at least 2`);
  }
  const index = new Map(labels.map((label, i) => [label, i]));
  const labelIndex = (label: string): number => index.get(label) ?? -1;
  let { train, validation } = bySplit;
  if (validation.length === 0 && validationFraction > 0) {
    const classOf = Int32Array.from(train, (item) => labelIndex(item.label));
    const split = stratifiedSplit(Array.from(train.keys()), classOf, validationFraction, seed);
    const all = train;
    train = split.train.map((i) => all[i] as LabelledItem<T>);
    validation = split.validation.map((i) => all[i] as LabelledItem<T>);
  }
  return { labels, train, validation, test: bySplit.test, labelIndex, rows };
}
