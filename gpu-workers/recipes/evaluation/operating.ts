/**
 * The cost of a model's operating point on the evaluated rows: the trade-off curve of in-scope
 * accuracy against out-of-scope recall over thresholds, the AUROC of out-of-scope detection (score:
 * 1 − the top in-scope probability, or −confidence for a model that abstains on another confidence,
 * see ml/confidence.ts), the in-scope accuracy without abstaining, and the figures at
 * the threshold in use. Rows whose true label is the OOS label are out of scope; rows with a label
 * the model never saw (and not the OOS label) are left out of these figures (they are reported as
 * unseen labels). Null when the model gave no probabilities or no row is in scope.
 */
import * as z from 'zod';
import { thinCurve } from '../ml/abstain.ts';
import { noAbstainAccuracy, oosDetectionAuroc, operatingCurve } from '../ml/operating-point.ts';

/** Points of the curve in the job's result (evaluation.json has up to abstain.ts's CURVE_POINTS). */
export const SUMMARY_CURVE_POINTS = 21;

const pointSchema = z.object({ threshold: z.number(), inScopeAccuracy: z.number().nullable(), oosRecall: z.number().nullable() });

export const operatingSummarySchema = z.object({
  threshold: z.number(),
  inScopeAccuracy: z.number().nullable().describe('In-scope rows answered right at the threshold (abstaining counts as wrong)'),
  oosRecall: z.number().nullable().describe('Out-of-scope rows abstained on at the threshold; null without out-of-scope rows'),
  noAbstainAccuracy: z.number().nullable().describe('In-scope accuracy never abstaining: the operating point costs the difference'),
  oosAuroc: z.number().nullable().describe('AUROC of out-of-scope detection by 1 − top in-scope probability; null without both kinds of rows'),
  curve: z.array(pointSchema).describe('In-scope accuracy and OOS recall over ascending thresholds'),
});
export type OperatingSummary = z.infer<typeof operatingSummarySchema>;

const orNull = (value: number): number | null => (Number.isFinite(value) ? value : null);

export function operatingFigures(
  input: { labels: readonly string[]; probabilities: readonly (readonly number[])[]; classes: readonly string[]; confidence?: readonly number[] },
  oosLabel: string,
  threshold: number,
  maxPoints: number,
): OperatingSummary | null {
  const column = new Map(input.classes.map((label, k) => [label, k]));
  const classes = input.classes.length;
  const oosClass = column.get(oosLabel) ?? -1;
  const kept: number[] = [];
  input.labels.forEach((label, r) => {
    if (label === oosLabel || column.has(label)) kept.push(r);
  });
  const labels = Int32Array.from(kept, (r) => (input.labels[r] === oosLabel ? -1 : (column.get(input.labels[r] as string) as number)));
  if (!labels.some((label) => label >= 0 && label !== oosClass)) return null;
  const probabilities = new Float32Array(kept.length * classes);
  kept.forEach((r, i) => probabilities.set(input.probabilities[r] as readonly number[], i * classes));
  // A model whose threshold applies to another confidence than the top probability (a text model's centroid cosine).
  const scores = input.confidence ? Float64Array.from(kept, (r) => input.confidence?.[r] as number) : undefined;
  const curve = operatingCurve(probabilities, labels, classes, oosClass, scores);
  // The figures at the threshold in use: a point's threshold is a score, so between two points the
  // figures are the upper one's (every row scoring below the threshold abstains).
  const at = curve.points.find((point) => point.threshold >= threshold) ?? curve.points.at(-1);
  return {
    threshold,
    inScopeAccuracy: orNull(at?.inScopeAccuracy ?? Number.NaN),
    oosRecall: orNull(at?.oosRecall ?? Number.NaN),
    noAbstainAccuracy: orNull(noAbstainAccuracy(probabilities, labels, classes, oosClass)),
    oosAuroc: orNull(oosDetectionAuroc(probabilities, labels, classes, oosClass, scores)),
    curve: thinCurve(curve.points, maxPoints).map((p) => ({ threshold: p.threshold, inScopeAccuracy: orNull(p.inScopeAccuracy), oosRecall: orNull(p.oosRecall) })),
  };
}
