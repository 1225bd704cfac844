/**
 * One model's evaluation on labelled rows: label metrics, the confusion matrix, ranking and
 * probability metrics when probabilities are given, out-of-scope metrics when some rows are out of
 * scope, and bootstrap intervals. Pure: no I/O, deterministic for a given seed.
 */
import { AnvilError, ErrorCodes } from '../../../../contracts/errors.ts';
import { bootstrapIntervals, resolveBootstrap } from './bootstrap.ts';
import { calibration, ECE_BINS, logLoss } from './calibration.ts';
import { accuracyOf, confusionOf, countRows, encodeRows, macroF1Of, microF1Of, perClassOf, weightedF1Of, type EncodedRows } from './classification.ts';
import { averagePrecision, rocAuc } from '../../../../contracts/ranking.ts';
import type { BinaryMetrics, EvaluateOptions, Evaluation, EvaluationInput, OosMetrics } from './types.ts';

export const EVALUATION_DEFAULTS = { oosLabel: 'oos', confusionMaxClasses: 20, topConfusions: 20, resamplesMax: 100_000 } as const;

/** Tolerance for probabilities a little outside [0, 1] from floating-point sums. */
const PROBABILITY_SLACK = 1e-6;

function invalid(message: string, field: string): AnvilError {
  return new AnvilError(ErrorCodes.INVALID_INPUT, message, { details: { field } });
}

function positiveInt(value: number | undefined, field: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) throw invalid(`${field} must be an integer from ${min} to ${max}, got ${value}`, field);
  return value;
}

interface CheckedInput {
  labels: readonly string[];
  predicted: readonly (string | null)[];
  probabilities: readonly (readonly number[])[] | null;
  classes: readonly string[] | null;
}

/** Checks an evaluation input; failures are INVALID_INPUT naming the field (and the row). */
export function checkInput(input: EvaluationInput, prefix = ''): CheckedInput {
  const field = (name: string) => `${prefix}${name}`;
  const { labels, predicted, probabilities, classes } = input;
  if (!Array.isArray(labels) || labels.length === 0) throw invalid(`${field('labels')} must be a non-empty array of strings`, field('labels'));
  if (!Array.isArray(predicted) || predicted.length !== labels.length) {
    throw invalid(`${field('predicted')} must have one entry per label (${labels.length}), got ${Array.isArray(predicted) ? predicted.length : typeof predicted}`, field('predicted'));
  }
  for (let i = 0; i < labels.length; i += 1) {
    if (typeof labels[i] !== 'string') throw invalid(`${field(`labels[${i}]`)} must be a string`, field('labels'));
    const p = predicted[i];
    if (p !== null && typeof p !== 'string') throw invalid(`${field(`predicted[${i}]`)} must be a string or null`, field('predicted'));
  }
  if (classes !== undefined) {
    if (!Array.isArray(classes) || classes.length === 0 || classes.some((label) => typeof label !== 'string')) {
      throw invalid(`${field('classes')} must be a non-empty array of strings`, field('classes'));
    }
    if (new Set(classes).size !== classes.length) throw invalid(`${field('classes')} must not repeat a class`, field('classes'));
  }
  if (probabilities !== undefined) {
    if (classes === undefined) throw invalid(`${field('probabilities')} needs ${field('classes')}: the class of each column`, field('classes'));
    if (!Array.isArray(probabilities) || probabilities.length !== labels.length) {
      throw invalid(`${field('probabilities')} must have one row per label (${labels.length})`, field('probabilities'));
    }
    for (let i = 0; i < probabilities.length; i += 1) {
      const row = probabilities[i];
      if (!Array.isArray(row) || row.length !== classes.length) {
        throw invalid(`${field(`probabilities[${i}]`)} must have one probability per class (${classes.length})`, field('probabilities'));
      }
      for (const value of row) {
        if (typeof value !== 'number' || !Number.isFinite(value) || value < -PROBABILITY_SLACK || value > 1 + PROBABILITY_SLACK) {
          throw invalid(`${field(`probabilities[${i}]`)} must hold numbers from 0 to 1, got ${String(value)}`, field('probabilities'));
        }
      }
    }
  }
  return { labels, predicted, probabilities: probabilities ?? null, classes: classes ?? null };
}

function argmax(row: readonly number[]): number {
  let best = 0;
  for (let k = 1; k < row.length; k += 1) if ((row[k] as number) > (row[best] as number)) best = k;
  return best;
}

function binaryMetrics(input: CheckedInput, positiveClass: string | undefined): BinaryMetrics | null {
  const { classes, probabilities, labels } = input;
  if (!classes || !probabilities || classes.length !== 2) return null;
  let positive = positiveClass;
  if (positive === undefined) {
    const first = labels.filter((label) => label === classes[0]).length;
    const second = labels.filter((label) => label === classes[1]).length;
    positive = first < second ? (classes[0] as string) : (classes[1] as string);
  }
  const column = classes.indexOf(positive);
  const isPositive: boolean[] = [];
  const scores: number[] = [];
  for (let i = 0; i < labels.length; i += 1) {
    const label = labels[i] as string;
    if (label !== classes[0] && label !== classes[1]) continue;
    isPositive.push(label === positive);
    scores.push((probabilities[i] as readonly number[])[column] as number);
  }
  return { positiveClass: positive, rocAuc: rocAuc(isPositive, scores), prAuc: averagePrecision(isPositive, scores), rows: scores.length };
}

function oosMetrics(input: CheckedInput, oosLabel: string): { inScopeAccuracy: number | null; oos: OosMetrics | null } {
  const { labels, predicted } = input;
  if (!labels.includes(oosLabel)) return { inScopeAccuracy: null, oos: null };
  let inScope = 0;
  let inScopeCorrect = 0;
  let support = 0;
  let predictedOos = 0;
  let caught = 0;
  for (let i = 0; i < labels.length; i += 1) {
    const label = labels[i] as string;
    const p = predicted[i] ?? null;
    const saysOos = p === null || p === oosLabel;
    if (saysOos) predictedOos += 1;
    if (label === oosLabel) {
      support += 1;
      if (saysOos) caught += 1;
    } else {
      inScope += 1;
      if (p === label) inScopeCorrect += 1;
    }
  }
  return {
    inScopeAccuracy: inScope === 0 ? null : inScopeCorrect / inScope,
    oos: { precision: predictedOos === 0 ? 0 : caught / predictedOos, recall: caught / support, support, predicted: predictedOos },
  };
}

/** Encodes the rows of a checked input (abstentions as the oos label). */
export function encodeInput(input: Pick<EvaluationInput, 'labels' | 'predicted'>, oosLabel: string): EncodedRows {
  return encodeRows(input.labels, input.predicted, oosLabel);
}

export function resolveOosLabel(options: EvaluateOptions): string {
  const oosLabel = options.oosLabel ?? EVALUATION_DEFAULTS.oosLabel;
  if (typeof oosLabel !== 'string' || oosLabel.length === 0) throw invalid('oosLabel must be a non-empty string', 'oosLabel');
  return oosLabel;
}

export function checkBootstrapOptions(options: EvaluateOptions): ReturnType<typeof resolveBootstrap> {
  const resolved = resolveBootstrap(options.bootstrap);
  positiveInt(resolved.resamples, 'bootstrap.resamples', 0, 0, EVALUATION_DEFAULTS.resamplesMax);
  if (!Number.isSafeInteger(resolved.seed)) throw invalid(`bootstrap.seed must be an integer, got ${resolved.seed}`, 'bootstrap.seed');
  if (!(resolved.confidence > 0 && resolved.confidence < 1)) throw invalid(`bootstrap.confidence must be between 0 and 1, got ${resolved.confidence}`, 'bootstrap.confidence');
  return resolved;
}

/** Evaluates one model's predictions. Throws INVALID_INPUT (naming the field) for malformed input. */
export function evaluate(input: EvaluationInput, options: EvaluateOptions = {}): Evaluation {
  const checked = checkInput(input);
  const oosLabel = resolveOosLabel(options);
  const maxClasses = positiveInt(options.confusionMaxClasses, 'confusionMaxClasses', EVALUATION_DEFAULTS.confusionMaxClasses, 1, 1_000);
  const top = positiveInt(options.topConfusions, 'topConfusions', EVALUATION_DEFAULTS.topConfusions, 1, 10_000);
  const boot = checkBootstrapOptions(options);
  if (options.positiveClass !== undefined && !(checked.classes ?? []).includes(options.positiveClass)) {
    throw invalid(`positiveClass "${options.positiveClass}" is not one of classes`, 'positiveClass');
  }

  const rows = encodeInput(checked, oosLabel);
  const counts = countRows(rows);
  const perClass = perClassOf(rows.classes, counts);

  let logLossValue: number | null = null;
  let calibrationValue: Evaluation['calibration'] = null;
  const unseen = new Map<string, number>();
  if (checked.classes) {
    const column = new Map(checked.classes.map((label, k) => [label, k]));
    const trueProbabilities: number[] = [];
    const confidences: number[] = [];
    const correct: boolean[] = [];
    for (let i = 0; i < checked.labels.length; i += 1) {
      const label = checked.labels[i] as string;
      const k = column.get(label);
      if (k === undefined) {
        if (label !== oosLabel) unseen.set(label, (unseen.get(label) ?? 0) + 1);
        continue;
      }
      const row = checked.probabilities?.[i];
      if (!row) continue;
      trueProbabilities.push(row[k] as number);
      const best = argmax(row);
      confidences.push(row[best] as number);
      correct.push(best === k);
    }
    if (checked.probabilities) {
      logLossValue = logLoss(trueProbabilities);
      calibrationValue = calibration(confidences, correct, ECE_BINS);
    }
  }

  return {
    rows: checked.labels.length,
    oosLabel,
    classes: rows.classes,
    accuracy: accuracyOf(counts),
    macroF1: macroF1Of(counts),
    microF1: microF1Of(counts),
    weightedF1: weightedF1Of(perClass),
    perClass,
    confusion: confusionOf(rows, maxClasses, top),
    abstained: checked.predicted.filter((p) => p === null).length,
    binary: binaryMetrics(checked, options.positiveClass),
    logLoss: logLossValue,
    calibration: calibrationValue,
    intervals: bootstrapIntervals(rows, boot),
    ...oosMetrics(checked, oosLabel),
    unseenLabels: [...unseen.entries()].map(([label, count]) => ({ label, count })).sort((a, b) => b.count - a.count || (a.label < b.label ? -1 : 1)),
  };
}
