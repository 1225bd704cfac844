/**
 * Evaluation figures over a [rows, C] probability matrix: accuracy and loss (PR-AUC: contracts/ranking.ts;
 * the abstain threshold: operating-point.ts).
 */
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
