/**
 * The abstain score of an MLP classifier: "centroid cosine". A row's hidden activations (after the
 * ReLU) are compared by cosine with each class's centroid — the normalised mean of the unit-norm
 * hidden activations of that class's training rows — and the highest cosine is the row's
 * confidence. A query of an intent the model never saw lands away from every class's centroid even
 * when the softmax is sure of its argmax, so this separates out-of-scope rows better than the top
 * probability (on Banking77 with a quarter of the intents held out, OOS AUROC 0.89 against 0.83 on
 * a 30-intent subset; see the recipe README). The ONNX export computes the same value as its
 * `confidence` output (onnx/model.ts).
 */
import type { Csr } from './matrix.ts';
import type { Network } from './network.ts';

/** How a classifier scores its confidence, compared against the abstain threshold. */
export type ConfidenceScore = 'max-probability' | 'centroid-cosine';

/** The hidden activations as the ONNX graph computes them (float32), [rows, hidden]. */
export function hiddenActivations(net: Network, x: Csr): Float32Array {
  const hidden = net.shape.hidden;
  if (hidden === 0) throw new Error('a softmax model has no hidden layer');
  const out = new Float32Array(x.rows * hidden);
  const pre = new Float64Array(hidden);
  for (let r = 0; r < x.rows; r++) {
    net.firstLayer(x, r, pre, 0);
    for (let j = 0; j < hidden; j++) out[r * hidden + j] = Math.max(0, pre[j] as number);
  }
  return out;
}

/** Unit-norm class centroids of the unit-norm hidden activations of `x`'s rows labelled `y` (≥ 0), [classes, hidden]; a class without rows gets zeros. */
export function hiddenCentroids(net: Network, x: Csr, y: Int32Array, classes: number): Float32Array {
  const hidden = net.shape.hidden;
  const activations = hiddenActivations(net, x);
  const sums = new Float64Array(classes * hidden);
  for (let r = 0; r < x.rows; r++) {
    const label = y[r] as number;
    if (label < 0 || label >= classes) continue;
    const norm = normOf(activations, r * hidden, hidden);
    if (norm === 0) continue;
    for (let j = 0; j < hidden; j++) sums[label * hidden + j] = (sums[label * hidden + j] as number) + (activations[r * hidden + j] as number) / norm;
  }
  const centroids = new Float32Array(classes * hidden);
  for (let c = 0; c < classes; c++) {
    const norm = normOf(sums, c * hidden, hidden);
    if (norm > 0) for (let j = 0; j < hidden; j++) centroids[c * hidden + j] = (sums[c * hidden + j] as number) / norm;
  }
  return centroids;
}

/** Each row's highest cosine with a centroid (0 for an all-zero hidden row). */
export function centroidConfidence(net: Network, centroids: Float32Array, x: Csr): Float32Array {
  const hidden = net.shape.hidden;
  const classes = centroids.length / hidden;
  const activations = hiddenActivations(net, x);
  const out = new Float32Array(x.rows);
  for (let r = 0; r < x.rows; r++) {
    const base = r * hidden;
    let best = -Infinity;
    for (let c = 0; c < classes; c++) {
      let dot = 0;
      for (let j = 0; j < hidden; j++) dot += (activations[base + j] as number) * (centroids[c * hidden + j] as number);
      if (dot > best) best = dot;
    }
    out[r] = best / Math.max(normOf(activations, base, hidden), 1e-12);
  }
  return out;
}

function normOf(values: ArrayLike<number>, from: number, count: number): number {
  let sum = 0;
  for (let j = from; j < from + count; j++) sum += (values[j] as number) ** 2;
  return Math.sqrt(sum);
}
