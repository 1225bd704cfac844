/**
 * The classifier network: a sparse-input first layer (CSR rows times a [F, D] weight matrix), then
 * either a softmax over D = C classes (`hidden === 0`, multinomial logistic regression) or ReLU,
 * dropout and a dense [H, C] layer before the softmax (a one-hidden-layer MLP). Weights are float32
 * and row-major, exactly as the ONNX export writes them (MatMul(features, W1) + b1 …).
 */
import type { Csr } from './matrix.ts';
import { softmaxInto } from './matrix.ts';
import type { Prng } from './prng.ts';

export interface NetworkShape {
  readonly features: number;
  /** 0 for a linear softmax model. */
  readonly hidden: number;
  readonly classes: number;
}

/** The named float32 tensors of a network: w1 [F, D], b1 [D], and for an MLP w2 [H, C], b2 [C]. */
export interface NetworkWeights {
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

export class Network {
  /** Width of the first layer: the hidden size, or the class count for a softmax model. */
  readonly width: number;

  constructor(
    readonly shape: NetworkShape,
    readonly weights: NetworkWeights,
  ) {
    this.width = shape.hidden > 0 ? shape.hidden : shape.classes;
    const expected = { w1: shape.features * this.width, b1: this.width, w2: shape.hidden * shape.classes, b2: shape.hidden > 0 ? shape.classes : 0 };
    for (const key of ['w1', 'b1', 'w2', 'b2'] as const) {
      if (weights[key].length !== expected[key]) throw new Error(`weight ${key} has ${weights[key].length} values, expected ${expected[key]}`);
    }
  }

  /** Fresh weights: softmax models start at zero; an MLP's layers are Glorot-uniform from `rng`. */
  static initial(shape: NetworkShape, rng: Prng): Network {
    const width = shape.hidden > 0 ? shape.hidden : shape.classes;
    const weights: NetworkWeights = {
      w1: new Float32Array(shape.features * width),
      b1: new Float32Array(width),
      w2: new Float32Array(shape.hidden * shape.classes),
      b2: new Float32Array(shape.hidden > 0 ? shape.classes : 0),
    };
    if (shape.hidden > 0) {
      // TF-IDF rows have unit norm, so the first layer's effective fan-in is ~1, not F.
      const a1 = Math.sqrt(6 / (1 + shape.hidden));
      for (let i = 0; i < weights.w1.length; i++) weights.w1[i] = (rng.next() * 2 - 1) * a1;
      const a2 = Math.sqrt(6 / (shape.hidden + shape.classes));
      for (let i = 0; i < weights.w2.length; i++) weights.w2[i] = (rng.next() * 2 - 1) * a2;
    }
    return new Network(shape, weights);
  }

  /** First-layer pre-activations of row `r` of `x` into `out[base .. base + width)`. */
  firstLayer(x: Csr, r: number, out: Float64Array, base: number): void {
    const { w1, b1 } = this.weights;
    const width = this.width;
    const { indptr, indices, values } = x;
    for (let j = 0; j < width; j++) out[base + j] = b1[j] as number;
    for (let p = indptr[r] as number, end = indptr[r + 1] as number; p < end; p++) {
      const off = (indices[p] as number) * width;
      const v = values[p] as number;
      for (let j = 0; j < width; j++) out[base + j] = (out[base + j] as number) + v * (w1[off + j] as number);
    }
  }

  /** Logits from hidden activations `h[hBase .. hBase + H)` into `out[oBase .. oBase + C)`. */
  secondLayer(h: Float64Array, hBase: number, out: Float64Array, oBase: number): void {
    const { w2, b2 } = this.weights;
    const { hidden, classes } = this.shape;
    for (let c = 0; c < classes; c++) out[oBase + c] = b2[c] as number;
    for (let j = 0; j < hidden; j++) {
      const hj = h[hBase + j] as number;
      if (hj === 0) continue;
      const off = j * classes;
      for (let c = 0; c < classes; c++) out[oBase + c] = (out[oBase + c] as number) + hj * (w2[off + c] as number);
    }
  }

  /** Class probabilities for every row of `x` (no dropout), as a [rows, C] float32 matrix. */
  predict(x: Csr): Float32Array {
    const { hidden, classes } = this.shape;
    const probabilities = new Float32Array(x.rows * classes);
    const pre = new Float64Array(this.width);
    const logits = new Float64Array(classes);
    for (let r = 0; r < x.rows; r++) {
      this.firstLayer(x, r, pre, 0);
      if (hidden > 0) {
        // The ONNX graph rounds every intermediate tensor to float32; do the same.
        for (let j = 0; j < hidden; j++) pre[j] = Math.fround(Math.max(0, pre[j] as number));
        this.secondLayer(pre, 0, logits, 0);
        softmaxInto(logits, probabilities.subarray(r * classes, (r + 1) * classes), 0, classes);
      } else {
        softmaxInto(pre, probabilities.subarray(r * classes, (r + 1) * classes), 0, classes);
      }
    }
    return probabilities;
  }
}
