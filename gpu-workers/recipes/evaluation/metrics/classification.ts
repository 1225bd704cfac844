/**
 * Label metrics on encoded rows: accuracy, precision/recall/F1 per class, macro/micro/weighted F1 and
 * the confusion matrix. Definitions follow scikit-learn's defaults: per-class metrics and macro
 * averages are over every label that occurs as a true or a predicted label, and a zero division
 * (a class never predicted) counts as 0.
 */
import type { ClassMetrics, ConfusionReport } from './types.ts';

/** Rows as class indices: `truth[i]` and `pred[i]` index into `classes`. */
export interface EncodedRows {
  classes: string[];
  truth: Int32Array;
  pred: Int32Array;
}

/**
 * Encodes rows over the labels that occur (sorted; `last` — the out-of-scope label — at the end).
 * An abstention (null) is a prediction of `abstainAs`.
 */
export function encodeRows(labels: readonly string[], predicted: readonly (string | null)[], abstainAs: string): EncodedRows {
  const seen = new Set<string>();
  for (const label of labels) seen.add(label);
  for (const label of predicted) seen.add(label ?? abstainAs);
  const classes = [...seen].filter((label) => label !== abstainAs).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (seen.has(abstainAs)) classes.push(abstainAs);
  const index = new Map(classes.map((label, i) => [label, i]));
  const truth = new Int32Array(labels.length);
  const pred = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i += 1) {
    truth[i] = index.get(labels[i] as string) as number;
    pred[i] = index.get(predicted[i] ?? abstainAs) as number;
  }
  return { classes, truth, pred };
}

export interface Counts {
  rows: number;
  correct: number;
  tp: Int32Array;
  fp: Int32Array;
  fn: Int32Array;
}

export function emptyCounts(classCount: number): Counts {
  return { rows: 0, correct: 0, tp: new Int32Array(classCount), fp: new Int32Array(classCount), fn: new Int32Array(classCount) };
}

export function resetCounts(counts: Counts): void {
  counts.rows = 0;
  counts.correct = 0;
  counts.tp.fill(0);
  counts.fp.fill(0);
  counts.fn.fill(0);
}

/** Adds row `i` to the counts. */
export function addRow(counts: Counts, truth: number, pred: number): void {
  counts.rows += 1;
  if (truth === pred) {
    counts.correct += 1;
    (counts.tp[truth] as number) += 1;
  } else {
    (counts.fp[pred] as number) += 1;
    (counts.fn[truth] as number) += 1;
  }
}

export function countRows(rows: EncodedRows): Counts {
  const counts = emptyCounts(rows.classes.length);
  for (let i = 0; i < rows.truth.length; i += 1) addRow(counts, rows.truth[i] as number, rows.pred[i] as number);
  return counts;
}

export function accuracyOf(counts: Counts): number {
  return counts.rows === 0 ? 0 : counts.correct / counts.rows;
}

/** F1 = 2·TP / (2·TP + FP + FN): the harmonic mean of precision and recall, 0 when TP is 0. */
function f1Of(tp: number, fp: number, fn: number): number {
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/** Macro F1 over the classes that occur in these counts (as a true or a predicted label). */
export function macroF1Of(counts: Counts): number {
  let sum = 0;
  let present = 0;
  for (let k = 0; k < counts.tp.length; k += 1) {
    const tp = counts.tp[k] as number;
    const fp = counts.fp[k] as number;
    const fn = counts.fn[k] as number;
    if (tp + fp + fn === 0) continue;
    present += 1;
    sum += f1Of(tp, fp, fn);
  }
  return present === 0 ? 0 : sum / present;
}

/** Micro F1 from the pooled counts (equal to accuracy when every row has one prediction). */
export function microF1Of(counts: Counts): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let k = 0; k < counts.tp.length; k += 1) {
    tp += counts.tp[k] as number;
    fp += counts.fp[k] as number;
    fn += counts.fn[k] as number;
  }
  return f1Of(tp, fp, fn);
}

export function perClassOf(classes: readonly string[], counts: Counts): ClassMetrics[] {
  return classes.map((label, k) => {
    const tp = counts.tp[k] as number;
    const fp = counts.fp[k] as number;
    const fn = counts.fn[k] as number;
    return {
      label,
      precision: tp + fp === 0 ? 0 : tp / (tp + fp),
      recall: tp + fn === 0 ? 0 : tp / (tp + fn),
      f1: f1Of(tp, fp, fn),
      support: tp + fn,
      predicted: tp + fp,
    };
  });
}

/** F1 averaged with each class weighted by its support. */
export function weightedF1Of(perClass: readonly ClassMetrics[]): number {
  let total = 0;
  let sum = 0;
  for (const metrics of perClass) {
    total += metrics.support;
    sum += metrics.f1 * metrics.support;
  }
  return total === 0 ? 0 : sum / total;
}

/** The full matrix up to `maxClasses` classes; above, the `top` most frequent confusions. */
export function confusionOf(rows: EncodedRows, maxClasses: number, top: number): ConfusionReport {
  const k = rows.classes.length;
  if (k <= maxClasses) {
    const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    for (let i = 0; i < rows.truth.length; i += 1) {
      const row = matrix[rows.truth[i] as number] as number[];
      const p = rows.pred[i] as number;
      row[p] = (row[p] as number) + 1;
    }
    return { kind: 'full', classes: [...rows.classes], matrix };
  }
  const pairs = new Map<number, number>();
  for (let i = 0; i < rows.truth.length; i += 1) {
    const t = rows.truth[i] as number;
    const p = rows.pred[i] as number;
    if (t === p) continue;
    const key = t * k + p;
    pairs.set(key, (pairs.get(key) ?? 0) + 1);
  }
  const listed = [...pairs.entries()]
    .map(([key, count]) => ({ true: rows.classes[Math.floor(key / k)] as string, predicted: rows.classes[key % k] as string, count }))
    .sort((a, b) => b.count - a.count || (a.true < b.true ? -1 : a.true > b.true ? 1 : 0) || (a.predicted < b.predicted ? -1 : a.predicted > b.predicted ? 1 : 0))
    .slice(0, top);
  return { kind: 'top', classCount: k, top: listed };
}
