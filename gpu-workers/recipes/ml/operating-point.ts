/**
 * The abstain threshold ("none of these") as an explicit objective over validation rows.
 *
 * A row abstains when its top probability is below the threshold t, or when its top class is the
 * OOS class. Over every candidate t (0 and each distinct top probability):
 *   in-scope accuracy(t) = in-scope rows answered with their true label, not abstaining / in-scope rows
 *   OOS recall(t)        = out-of-scope rows that abstain / out-of-scope rows
 * Objectives:
 *   `oos-recall-target` — the highest in-scope accuracy with OOS recall ≥ target (ties: the lowest t);
 *                         when no t reaches the target, the highest recall (and `targetMet: false`).
 *   `cost`              — the lowest (1 − in-scope accuracy) + costRatio · (1 − OOS recall), rates so
 *                         the share of OOS rows in validation does not matter (ties: the lowest t).
 */
import { argmax } from './matrix.ts';

export type ThresholdObjective = { readonly kind: 'oos-recall-target'; readonly oosRecallTarget: number } | { readonly kind: 'cost'; readonly costRatio: number };

export interface OperatingPoint {
  readonly threshold: number;
  readonly inScopeAccuracy: number;
  readonly oosRecall: number;
}

export interface OperatingCurve {
  /** Ascending thresholds with the figures at each; the first is t = 0 (never abstain by confidence). */
  readonly points: readonly OperatingPoint[];
  readonly inScopeRows: number;
  readonly oosRows: number;
  /** In-scope accuracy at t = 0 with the OOS class excluded from the argmax: the model without abstaining. */
  readonly noAbstainAccuracy: number;
}

/**
 * The in-scope accuracy / OOS recall trade-off over every distinct threshold, in O(n log n).
 * `labels[r]` is the class index, or -1 for an out-of-scope row; `oosClass` the OOS class's index
 * when it is a trained class (else -1): its rows are out of scope too. `scores`, when given, is each
 * row's confidence (e.g. ml/confidence.ts's centroid cosine, in [0, 1]) compared against t instead
 * of the top probability; the answer is still the argmax.
 */
export function operatingCurve(probabilities: Float32Array, labels: Int32Array, classes: number, oosClass: number, scores?: ArrayLike<number>): OperatingCurve {
  const rows = labels.length;
  const isOos = (r: number): boolean => (labels[r] as number) < 0 || labels[r] === oosClass;
  const top = new Float64Array(rows);
  const predicted = new Int32Array(rows);
  let inScopeRows = 0;
  for (let r = 0; r < rows; r++) {
    predicted[r] = argmax(probabilities, r * classes, classes);
    top[r] = scores ? (scores[r] as number) : (probabilities[r * classes + (predicted[r] as number)] as number);
    if (!isOos(r)) inScopeRows += 1;
  }
  const oosRows = rows - inScopeRows;
  // Rows whose answer a threshold can change: in-scope rows answered right, OOS rows not already
  // caught by the OOS class. Sorted by top probability; t passes over them one distinct value at a time.
  let correct = 0;
  let caught = 0;
  const movable: number[] = [];
  for (let r = 0; r < rows; r++) {
    if (isOos(r)) {
      if (predicted[r] === oosClass) caught += 1;
      else movable.push(r);
    } else if (predicted[r] === labels[r]) {
      correct += 1;
      movable.push(r);
    }
  }
  movable.sort((a, b) => (top[a] as number) - (top[b] as number));
  const rate = (count: number, total: number): number => (total > 0 ? count / total : Number.NaN);
  const points: OperatingPoint[] = [{ threshold: 0, inScopeAccuracy: rate(correct, inScopeRows), oosRecall: rate(caught, oosRows) }];
  for (let i = 0; i < movable.length; ) {
    const t = top[movable[i] as number] as number;
    // Abstaining needs top < t: rows at exactly t still answer, so t's point is taken before they move.
    if (t > 0 && t !== points.at(-1)?.threshold) points.push({ threshold: t, inScopeAccuracy: rate(correct, inScopeRows), oosRecall: rate(caught, oosRows) });
    for (; i < movable.length && top[movable[i] as number] === t; i++) {
      if (isOos(movable[i] as number)) caught += 1;
      else correct -= 1;
    }
  }
  // Above the highest score everything abstains (t = 1, unless some probability is exactly 1).
  const highest = movable.length > 0 ? (top[movable.at(-1) as number] as number) : 0;
  if (movable.length > 0 && highest < 1) points.push({ threshold: 1, inScopeAccuracy: rate(correct, inScopeRows), oosRecall: rate(caught, oosRows) });
  return { points, inScopeRows, oosRows, noAbstainAccuracy: noAbstainAccuracy(probabilities, labels, classes, oosClass) };
}

/** In-scope accuracy when the model never abstains: the argmax over the classes other than the OOS class. */
export function noAbstainAccuracy(probabilities: Float32Array, labels: Int32Array, classes: number, oosClass: number): number {
  let n = 0;
  let correct = 0;
  for (let r = 0; r < labels.length; r++) {
    const label = labels[r] as number;
    if (label < 0 || label === oosClass) continue;
    n += 1;
    let best = -1;
    let bestValue = -Infinity;
    for (let c = 0; c < classes; c++) {
      const value = probabilities[r * classes + c] as number;
      if (c !== oosClass && value > bestValue) {
        bestValue = value;
        best = c;
      }
    }
    if (best === label) correct += 1;
  }
  return n > 0 ? correct / n : Number.NaN;
}

export interface ObjectiveChoice extends OperatingPoint {
  /** Whether the objective's constraint holds at the chosen point (always true for `cost`). */
  readonly targetMet: boolean;
}

/** The point of `curve` the objective picks (see the file comment). */
export function chooseByObjective(curve: OperatingCurve, objective: ThresholdObjective): ObjectiveChoice {
  const points = curve.points;
  const first = points[0] as OperatingPoint;
  if (curve.oosRows === 0) return { ...first, targetMet: false };
  if (objective.kind === 'cost') {
    let best = first;
    let bestCost = Infinity;
    for (const p of points) {
      const cost = (1 - (Number.isNaN(p.inScopeAccuracy) ? 0 : p.inScopeAccuracy)) + objective.costRatio * (1 - p.oosRecall);
      if (cost < bestCost - 1e-12) {
        best = p;
        bestCost = cost;
      }
    }
    return { ...best, targetMet: true };
  }
  let best: OperatingPoint | null = null;
  for (const p of points) {
    if (p.oosRecall + 1e-12 < objective.oosRecallTarget) continue;
    if (best === null || p.inScopeAccuracy > best.inScopeAccuracy) best = p;
  }
  if (best) return { ...best, targetMet: true };
  let highest = first;
  for (const p of points) if (p.oosRecall > highest.oosRecall) highest = p;
  return { ...highest, targetMet: false };
}

/**
 * AUROC of out-of-scope detection with score 1 − top in-scope probability, or −confidence when
 * `scores` are given (ties count half); NaN without both kinds of rows.
 */
export function oosDetectionAuroc(probabilities: Float32Array, labels: Int32Array, classes: number, oosClass: number, scores?: ArrayLike<number>): number {
  const scored: Array<{ score: number; oos: boolean }> = [];
  for (let r = 0; r < labels.length; r++) {
    const label = labels[r] as number;
    let best = 0;
    if (scores) best = scores[r] as number;
    else for (let c = 0; c < classes; c++) if (c !== oosClass) best = Math.max(best, probabilities[r * classes + c] as number);
    scored.push({ score: scores ? -best : 1 - best, oos: label < 0 || label === oosClass });
  }
  return aurocOf(scored);
}

/** Mann–Whitney AUROC of `oos` rows scoring above the others, ties counting half. */
export function aurocOf(scored: ReadonlyArray<{ score: number; oos: boolean }>): number {
  const sorted = [...scored].sort((a, b) => a.score - b.score);
  const positives = sorted.filter((s) => s.oos).length;
  const negatives = sorted.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  let rankSum = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j < sorted.length && sorted[j]?.score === sorted[i]?.score) j++;
    const averageRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (sorted[k]?.oos) rankSum += averageRank;
    i = j;
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
