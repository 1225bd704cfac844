/**
 * The small part of an evaluation that goes into the job's result (and the evaluations table): the
 * headline metrics of each model and a comparison's deltas and verdict. evaluation.json has the rest.
 * Non-finite numbers become null (JSON has no NaN).
 */
import * as z from 'zod';
import type { Comparison, Evaluation, Interval } from '../../../tools/evaluation/metrics/index.ts';
import { operatingSummarySchema, type OperatingSummary } from './operating.ts';

/** Unseen labels listed in a summary at most (the count says how many there are). */
export const SUMMARY_UNSEEN_MAX = 20;

const num = z.number().nullable();
const intervalSchema = z.object({ low: z.number(), high: z.number() });

export const evaluationSummarySchema = z.object({
  rows: z.number().int(),
  classes: z.number().int().describe('Labels the metrics are over (true or predicted)'),
  accuracy: z.number(),
  macroF1: z.number(),
  microF1: z.number(),
  weightedF1: z.number(),
  logLoss: num,
  ece: num,
  inScopeAccuracy: num.describe('Accuracy on rows that are not out of scope; null when no row is'),
  oos: z.object({ precision: z.number(), recall: z.number(), support: z.number().int(), predicted: z.number().int() }).nullable(),
  abstained: z.number().int(),
  intervals: z.object({ accuracy: intervalSchema, macroF1: intervalSchema, confidence: z.number(), resamples: z.number().int() }).nullable(),
  unseenLabels: z.array(z.object({ label: z.string(), count: z.number().int() })).describe(`True labels the model never saw, most frequent first (at most ${SUMMARY_UNSEEN_MAX})`),
  unseenLabelCount: z.number().int(),
  unseenRows: z.number().int(),
  operatingPoint: operatingSummarySchema
    .nullable()
    .optional()
    .describe('The threshold in use against the trade-off curve (in-scope accuracy vs OOS recall), OOS-detection AUROC and accuracy without abstaining; null without probabilities'),
});
export type EvaluationSummary = z.infer<typeof evaluationSummarySchema>;

const deltaSchema = z.object({ candidate: num, champion: num, delta: num, interval: intervalSchema.nullable(), higherIsBetter: z.boolean() });

export const comparisonSummarySchema = z.object({
  primary: z.enum(['accuracy', 'macroF1']),
  verdict: z.enum(['better', 'worse', 'inconclusive']),
  explanation: z.string(),
  deltas: z.record(z.string(), deltaSchema),
});
export type ComparisonSummary = z.infer<typeof comparisonSummarySchema>;

const finite = (value: number | null | undefined): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const finiteInterval = (range: Interval | null | undefined): Interval | null =>
  range && Number.isFinite(range.low) && Number.isFinite(range.high) ? { low: range.low, high: range.high } : null;

export function summarizeEvaluation(evaluation: Evaluation, operatingPoint: OperatingSummary | null = null): EvaluationSummary {
  const intervals = evaluation.intervals;
  const accuracyInterval = finiteInterval(intervals?.accuracy);
  const macroInterval = finiteInterval(intervals?.macroF1);
  return {
    rows: evaluation.rows,
    classes: evaluation.classes.length,
    accuracy: finite(evaluation.accuracy) ?? 0,
    macroF1: finite(evaluation.macroF1) ?? 0,
    microF1: finite(evaluation.microF1) ?? 0,
    weightedF1: finite(evaluation.weightedF1) ?? 0,
    logLoss: finite(evaluation.logLoss),
    ece: finite(evaluation.calibration?.ece),
    inScopeAccuracy: finite(evaluation.inScopeAccuracy),
    oos: evaluation.oos ? { precision: finite(evaluation.oos.precision) ?? 0, recall: finite(evaluation.oos.recall) ?? 0, support: evaluation.oos.support, predicted: evaluation.oos.predicted } : null,
    abstained: evaluation.abstained,
    intervals:
      intervals && accuracyInterval && macroInterval ? { accuracy: accuracyInterval, macroF1: macroInterval, confidence: intervals.confidence, resamples: intervals.resamples } : null,
    unseenLabels: evaluation.unseenLabels.slice(0, SUMMARY_UNSEEN_MAX).map((u) => ({ label: u.label.slice(0, 200), count: u.count })),
    unseenLabelCount: evaluation.unseenLabels.length,
    unseenRows: evaluation.unseenLabels.reduce((sum, u) => sum + u.count, 0),
    operatingPoint,
  };
}

export function summarizeComparison(comparison: Comparison): ComparisonSummary {
  const deltas: ComparisonSummary['deltas'] = {};
  for (const [metric, d] of Object.entries(comparison.deltas)) {
    deltas[metric] = { candidate: finite(d.candidate), champion: finite(d.champion), delta: finite(d.delta), interval: finiteInterval(d.interval), higherIsBetter: d.higherIsBetter };
  }
  return { primary: comparison.primary, verdict: comparison.verdict, explanation: comparison.explanation, deltas };
}

/** The job's result (`result.value`); the plugin's success hook adds `evaluation: {id, reportUri}`. */
export const evaluationResultSchema = z.object({
  split: z.string(),
  rows: z.number().int(),
  oosLabel: z.string(),
  evaluations: z.object({ candidate: evaluationSummarySchema, champion: evaluationSummarySchema.optional() }),
  comparison: comparisonSummarySchema.optional(),
});
export type EvaluationResult = z.infer<typeof evaluationResultSchema>;
