/**
 * Sparse (CSR) and dense row-major matrices as flat typed arrays, shared by the recipes that train
 * text models (gpu-workers/) and what runs them at planning time (graphs/): the text featurizer
 * produces CSR rows, ONNX models take dense or embedding-bag inputs built from them.
 */

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

export function toDense(m: Csr): Dense {
  const data = new Float32Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) {
    for (let p = m.indptr[r] as number; p < (m.indptr[r + 1] as number); p++) data[r * m.cols + (m.indices[p] as number)] = m.values[p] as number;
  }
  return { rows: m.rows, cols: m.cols, data };
}
