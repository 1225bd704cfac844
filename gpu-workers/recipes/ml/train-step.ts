/**
 * One minibatch step: forward pass (with dropout on the hidden layer), weighted cross-entropy with
 * label smoothing, backward pass into sparse first-layer gradients, then an Adam update.
 */
import type { Adam } from './adam.ts';
import type { Csr } from './matrix.ts';
import { softmaxInto } from './matrix.ts';
import type { Network, NetworkWeights } from './network.ts';
import type { Prng } from './prng.ts';

export interface StepSettings {
  readonly dropout: number;
  readonly labelSmoothing: number;
}

export class StepRunner {
  private readonly grads: NetworkWeights;
  private readonly stamp: Int32Array;
  private readonly touched: Int32Array;
  private stampId = 0;
  private pre = new Float64Array(0);
  private mask = new Float64Array(0);
  private logits = new Float64Array(0);
  private probs = new Float64Array(0);
  private dh = new Float64Array(0);

  constructor(
    private readonly net: Network,
    private readonly adam: Adam,
    private readonly settings: StepSettings,
  ) {
    const w = net.weights;
    this.grads = { w1: new Float32Array(w.w1.length), b1: new Float32Array(w.b1.length), w2: new Float32Array(w.w2.length), b2: new Float32Array(w.b2.length) };
    this.stamp = new Int32Array(net.shape.features).fill(-1);
    this.touched = new Int32Array(net.shape.features);
  }

  /** Trains on rows `batch` of `x` (labels `y`, per-class weights `classWeight`); returns the mean loss. */
  step(x: Csr, y: Int32Array, classWeight: Float32Array, batch: ArrayLike<number>, rng: Prng, lrScale = 1): number {
    const net = this.net;
    const { hidden, classes } = net.shape;
    const width = net.width;
    const n = batch.length;
    if (this.pre.length < n * width) {
      this.pre = new Float64Array(n * width);
      this.mask = new Float64Array(n * width);
      this.dh = new Float64Array(n * width);
    }
    if (this.probs.length < n * classes) {
      this.logits = new Float64Array(n * classes);
      this.probs = new Float64Array(n * classes);
    }
    const { pre, mask, logits, probs, dh } = this;
    const { dropout, labelSmoothing } = this.settings;
    const keep = 1 - dropout;

    // Forward.
    for (let b = 0; b < n; b++) {
      const r = batch[b] as number;
      net.firstLayer(x, r, pre, b * width);
      if (hidden > 0) {
        const base = b * hidden;
        for (let j = 0; j < hidden; j++) {
          const m = (pre[base + j] as number) > 0 && (dropout === 0 || rng.next() < keep) ? 1 / keep : 0;
          mask[base + j] = m;
          pre[base + j] = (pre[base + j] as number) * m;
        }
        net.secondLayer(pre, base, logits, b * classes);
        softmaxInto(logits, probs, b * classes, classes);
      } else {
        softmaxInto(pre, probs, b * classes, classes);
      }
    }

    // Loss and d(loss)/d(logits), kept in `probs`.
    const g = this.grads;
    const off = labelSmoothing / classes;
    let loss = 0;
    for (let b = 0; b < n; b++) {
      const label = y[batch[b] as number] as number;
      const weight = (classWeight[label] as number) / n;
      const base = b * classes;
      for (let c = 0; c < classes; c++) {
        const target = (c === label ? 1 - labelSmoothing : 0) + off;
        const p = probs[base + c] as number;
        if (target > 0) loss -= weight * n * target * Math.log(Math.max(p, 1e-12));
        probs[base + c] = (p - target) * weight;
      }
    }

    // Backward.
    this.stampId += 1;
    let touchedCount = 0;
    const stamp = this.stamp;
    const touched = this.touched;
    g.b1.fill(0);
    if (hidden > 0) {
      g.w2.fill(0);
      g.b2.fill(0);
      const w2 = net.weights.w2;
      // Locals, not property loads, in the inner loops (these loops are most of a step).
      const gw2 = g.w2;
      const gb2 = g.b2;
      for (let b = 0; b < n; b++) {
        const hBase = b * hidden;
        const oBase = b * classes;
        for (let c = 0; c < classes; c++) gb2[c] = (gb2[c] as number) + (probs[oBase + c] as number);
        for (let j = 0; j < hidden; j++) {
          const m = mask[hBase + j] as number;
          if (m === 0) {
            dh[hBase + j] = 0;
            continue;
          }
          const hj = pre[hBase + j] as number;
          const wOff = j * classes;
          let acc = 0;
          for (let c = 0; c < classes; c++) {
            const d = probs[oBase + c] as number;
            gw2[wOff + c] = (gw2[wOff + c] as number) + hj * d;
            acc += (w2[wOff + c] as number) * d;
          }
          dh[hBase + j] = acc * m;
        }
      }
    }
    const delta = hidden > 0 ? dh : probs;
    const gw1 = g.w1;
    const gb1 = g.b1;
    const { indptr, indices, values } = x;
    for (let b = 0; b < n; b++) {
      const r = batch[b] as number;
      const dBase = b * width;
      for (let j = 0; j < width; j++) gb1[j] = (gb1[j] as number) + (delta[dBase + j] as number);
      for (let p = indptr[r] as number, end = indptr[r + 1] as number; p < end; p++) {
        const feature = indices[p] as number;
        const gOff = feature * width;
        const v = values[p] as number;
        if (stamp[feature] !== this.stampId) {
          // First touch in this step: set the row rather than zero it and add (the same value: 0 + x = x).
          stamp[feature] = this.stampId;
          touched[touchedCount++] = feature;
          for (let j = 0; j < width; j++) gw1[gOff + j] = v * (delta[dBase + j] as number);
          continue;
        }
        for (let j = 0; j < width; j++) gw1[gOff + j] = (gw1[gOff + j] as number) + v * (delta[dBase + j] as number);
      }
    }
    this.adam.update(net.weights, g, touched, touchedCount, width, lrScale);
    return loss / n;
  }
}
