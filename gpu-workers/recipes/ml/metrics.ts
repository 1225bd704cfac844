/** Evaluation figures over a [rows, C] probability matrix: accuracy, loss, PR-AUC (the abstain threshold: operating-point.ts). */
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
 * `average_precision_score`) of `scores` for the rows where `positive[i]` is true.
 */
export function averagePrecision(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
  let totalPositive = 0;
  for (let i = 0; i < positive.length; i++) if (positive[i]) totalPositive += 1;
  if (totalPositive === 0) return Number.NaN;
  let tp = 0;
  let fp = 0;
  let previousRecall = 0;
  let ap = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k] as number;
    if (positive[i]) tp += 1;
    else fp += 1;
    const next = order[k + 1];
    // Ties share one threshold: only close a step where the score changes.
    if (next !== undefined && scores[next] === scores[i]) continue;
    const recall = tp / totalPositive;
    ap += (recall - previousRecall) * (tp / (tp + fp));
    previousRecall = recall;
  }
  return ap;
}
