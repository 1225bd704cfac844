/** Evaluation figures over a [rows, C] probability matrix: accuracy, loss, PR-AUC, the abstain threshold. */
import { averagePrecision as rankingAveragePrecision } from '../evaluation/metrics/ranking.ts';
import { argmax } from './matrix.ts';

/** Accuracy and mean cross-entropy over the rows whose label is ≥ 0 (rows labelled -1 are skipped). */
export function accuracyAndLoss(probabilities: Float32Array, labels: Int32Array, classes: number): { accuracy: number; loss: number } {
  let correct = 0;
  let loss = 0;
  let n = 0;
  for (let r = 0; r < labels.length; r++) {
    const label = labels[r] as number;
    if (label < 0) continue;
    n += 1;
    if (argmax(probabilities, r * classes, classes) === label) correct += 1;
    loss -= Math.log(Math.max(probabilities[r * classes + label] as number, 1e-12));
  }
  return n === 0 ? { accuracy: Number.NaN, loss: Number.NaN } : { accuracy: correct / n, loss: loss / n };
}

/**
 * Average precision (area under the precision–recall curve, step-wise as scikit-learn's
 * `average_precision_score`) of `scores` for the rows where `positive[i]` is true; NaN without a
 * positive. The one implementation is the evaluation library's.
 */
export function averagePrecision(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  return rankingAveragePrecision(Array.from(positive), Array.from(scores)) ?? Number.NaN;
}

export interface ThresholdChoice {
  threshold: number;
  /** How it was chosen: `oos` (validation has out-of-scope rows) or `false-abstain-target`. */
  method: 'oos' | 'false-abstain-target' | 'none';
  /** On validation, at the threshold: in-scope rows answered correctly (abstaining counts as wrong). */
  inScopeAccuracy: number;
  /** On validation, at the threshold: out-of-scope rows caught (abstained, or predicted as the OOS class). */
  oosRecall: number | null;
  /** On validation, at the threshold: in-scope rows the argmax got right but the threshold abstained on. */
  falseAbstainRate: number;
}

/**
 * Picks the confidence threshold below which a prediction abstains ("none of these"), from
 * validation rows: `labels[r]` is the class index, or -1 for an out-of-scope row. `oosClass` is the
 * OOS label's class index when it is a trained class (predicting it also counts as abstaining).
 *
 * - With out-of-scope rows: the threshold maximising in-scope accuracy + OOS recall (ties: lowest).
 * - Without: the highest threshold whose false-abstain rate (in-scope rows the model got right but
 *   abstains on) stays ≤ `falseAbstainTarget`.
 */
export function chooseThreshold(probabilities: Float32Array, labels: Int32Array, classes: number, oosClass: number, falseAbstainTarget: number): ThresholdChoice {
  const rows = labels.length;
  if (rows === 0) return { threshold: 0, method: 'none', inScopeAccuracy: Number.NaN, oosRecall: null, falseAbstainRate: 0 };
  const top = new Float64Array(rows);
  const predicted = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    predicted[r] = argmax(probabilities, r * classes, classes);
    top[r] = probabilities[r * classes + (predicted[r] as number)] as number;
  }
  const isOos = (r: number): boolean => (labels[r] as number) < 0 || labels[r] === oosClass;
  let inScope = 0;
  let oos = 0;
  for (let r = 0; r < rows; r++) if (isOos(r)) oos += 1;
  else inScope += 1;
  const evaluate = (t: number): Omit<ThresholdChoice, 'method' | 'threshold'> => {
    let correct = 0;
    let caught = 0;
    let falseAbstain = 0;
    for (let r = 0; r < rows; r++) {
      const abstains = (top[r] as number) < t || predicted[r] === oosClass;
      if (isOos(r)) {
        if (abstains) caught += 1;
      } else if (predicted[r] === labels[r]) {
        if (abstains) falseAbstain += 1;
        else correct += 1;
      }
    }
    return { inScopeAccuracy: inScope > 0 ? correct / inScope : Number.NaN, oosRecall: oos > 0 ? caught / oos : null, falseAbstainRate: inScope > 0 ? falseAbstain / inScope : 0 };
  };
  const candidates = [0, ...new Set(Array.from(top))].sort((a, b) => a - b);
  if (oos > 0) {
    let best = { threshold: 0, score: -Infinity };
    for (const t of candidates) {
      const e = evaluate(t);
      const score = (inScope > 0 ? e.inScopeAccuracy : 0) + (e.oosRecall ?? 0);
      if (score > best.score) best = { threshold: t, score };
    }
    return { threshold: best.threshold, method: 'oos', ...evaluate(best.threshold) };
  }
  let chosen = 0;
  for (const t of candidates) {
    if (evaluate(t).falseAbstainRate <= falseAbstainTarget) chosen = t;
    else break;
  }
  return { threshold: chosen, method: 'false-abstain-target', ...evaluate(chosen) };
}
