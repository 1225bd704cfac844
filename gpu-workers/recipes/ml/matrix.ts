/** Row-major matrices as flat typed arrays: CSR for sparse features, dense for ONNX input and output. */

export { type Csr, CsrBuilder, type Dense, toDense } from '../../../contracts/sparse.ts';
import type { Csr } from '../../../contracts/sparse.ts';

/** The rows `which` of `m`, in that order. */
export function selectRows(m: Csr, which: ArrayLike<number>): Csr {
  let nnz = 0;
  for (let i = 0; i < which.length; i++) {
    const r = which[i] as number;
    nnz += (m.indptr[r + 1] as number) - (m.indptr[r] as number);
  }
  const indptr = new Int32Array(which.length + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let at = 0;
  for (let i = 0; i < which.length; i++) {
    const r = which[i] as number;
    const start = m.indptr[r] as number;
    const end = m.indptr[r + 1] as number;
    indices.set(m.indices.subarray(start, end), at);
    values.set(m.values.subarray(start, end), at);
    at += end - start;
    indptr[i + 1] = at;
  }
  return { rows: which.length, cols: m.cols, indptr, indices, values };
}

/** Index of the largest value in `data[offset .. offset + n)` (the first one on ties). */
export function argmax(data: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < n; i++) {
    const value = data[offset + i] as number;
    if (value > bestValue) {
      bestValue = value;
      best = i;
    }
  }
  return best;
}

/** Softmax of `logits[offset .. offset + n)` written into `out` at the same offset (numerically stable). */
export function softmaxInto(logits: ArrayLike<number>, out: { [index: number]: number }, offset: number, n: number): void {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[offset + i] as number);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp((logits[offset + i] as number) - max);
    out[offset + i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) out[offset + i] = (out[offset + i] as number) / sum;
}
