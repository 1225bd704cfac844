/** Row-major matrices as flat typed arrays: CSR for sparse features, dense for ONNX input and output. */

/** A sparse matrix in compressed-row form; row r's entries are `indices/values[indptr[r] .. indptr[r+1])`. */
export interface Csr {
  readonly rows: number;
  readonly cols: number;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float32Array;
}

/** A dense row-major matrix: element (r, c) is `data[r * cols + c]`. */
export interface Dense {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

/** Builds a CSR matrix row by row (each row's index/value pairs, in any order; they are sorted). */
export class CsrBuilder {
  private readonly indptr: number[] = [0];
  private indices: number[] = [];
  private values: number[] = [];

  constructor(readonly cols: number) {}

  addRow(entries: ReadonlyMap<number, number> | readonly (readonly [number, number])[]): void {
    const sorted = [...entries].sort((a, b) => a[0] - b[0]);
    for (const [index, value] of sorted) {
      if (value === 0) continue;
      this.indices.push(index);
      this.values.push(value);
    }
    this.indptr.push(this.indices.length);
  }

  build(): Csr {
    return {
      rows: this.indptr.length - 1,
      cols: this.cols,
      indptr: Int32Array.from(this.indptr),
      indices: Int32Array.from(this.indices),
      values: Float32Array.from(this.values),
    };
  }
}

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

export function toDense(m: Csr): Dense {
  const data = new Float32Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) {
    for (let p = m.indptr[r] as number; p < (m.indptr[r + 1] as number); p++) data[r * m.cols + (m.indices[p] as number)] = m.values[p] as number;
  }
  return { rows: m.rows, cols: m.cols, data };
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
