/**
 * Adam for the network's four tensors. The sparse first layer is updated lazily: only the rows of w1
 * a batch touched get their moments and weights updated (as in TensorFlow's LazyAdam), so a step
 * costs O(touched rows × width), not O(F × width). Bias correction uses the global step count.
 */
import type { NetworkWeights } from './network.ts';

export interface AdamSettings {
  readonly learningRate: number;
  /** L2 penalty added to the weight matrices' gradients (not to biases). */
  readonly l2: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
}

/** First and second moments per tensor, plus the step count: everything a resume needs. */
export interface AdamState {
  t: number;
  m: NetworkWeights;
  v: NetworkWeights;
}

export function zeroMoments(weights: NetworkWeights): NetworkWeights {
  return {
    w1: new Float32Array(weights.w1.length),
    b1: new Float32Array(weights.b1.length),
    w2: new Float32Array(weights.w2.length),
    b2: new Float32Array(weights.b2.length),
  };
}

export class Adam {
  constructor(
    readonly settings: AdamSettings,
    readonly state: AdamState,
  ) {}

  /** One update (learning rate × `lrScale`): `grads.w1` holds gradients only in rows `touched[0 .. touchedCount)` of width `width`. */
  update(weights: NetworkWeights, grads: NetworkWeights, touched: Int32Array, touchedCount: number, width: number, lrScale = 1): void {
    const state = this.state;
    state.t += 1;
    const b1 = this.settings.beta1 ?? 0.9;
    const b2 = this.settings.beta2 ?? 0.999;
    const eps = this.settings.epsilon ?? 1e-8;
    const lr = this.settings.learningRate * lrScale;
    const l2 = this.settings.l2;
    const c1 = 1 - b1 ** state.t;
    const c2 = 1 - b2 ** state.t;
    const step = lr / c1;
    const sq = 1 / Math.sqrt(c2);
    const apply = (w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, from: number, to: number, decay: number): void => {
      for (let i = from; i < to; i++) {
        const gi = (g[i] as number) + decay * (w[i] as number);
        const mi = b1 * (m[i] as number) + (1 - b1) * gi;
        const vi = b2 * (v[i] as number) + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = (w[i] as number) - (step * mi) / (Math.sqrt(vi) * sq + eps);
      }
    };
    // The sparse first layer's touched rows: the same arithmetic as `apply`, written out once for all
    // rows (this loop is ~40% of a training step; a call per row and the zero decay cost measurably).
    const { w1 } = weights;
    const g1 = grads.w1;
    const m1 = state.m.w1;
    const v1 = state.v.w1;
    const keepM = 1 - b1;
    const keepV = 1 - b2;
    for (let k = 0; k < touchedCount; k++) {
      const from = (touched[k] as number) * width;
      const to = from + width;
      if (l2 === 0) {
        for (let i = from; i < to; i++) {
          const gi = g1[i] as number;
          const mi = b1 * (m1[i] as number) + keepM * gi;
          const vi = b2 * (v1[i] as number) + keepV * gi * gi;
          m1[i] = mi;
          v1[i] = vi;
          w1[i] = (w1[i] as number) - (step * mi) / (Math.sqrt(vi) * sq + eps);
        }
      } else {
        apply(w1, g1, m1, v1, from, to, l2);
      }
    }
    apply(weights.b1, grads.b1, state.m.b1, state.v.b1, 0, weights.b1.length, 0);
    apply(weights.w2, grads.w2, state.m.w2, state.v.w2, 0, weights.w2.length, l2);
    apply(weights.b2, grads.b2, state.m.b2, state.v.b2, 0, weights.b2.length, 0);
  }
}
