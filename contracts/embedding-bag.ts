/**
 * Featurised rows → the inputs of an embedding-bag model (`embeddingBagClassifierModel`,
 * gpu-workers/recipes/onnx/model.ts): `ids` [rows, width] int64 and `weights` [rows, width] float32, one row per
 * featurised row holding its active feature ids and values. `width` is the longest row's count (at
 * least 1); shorter rows are padded with id = the vocabulary size (an all-zero row of the model's
 * first layer) and weight 0, so padding adds nothing.
 *
 *   const bag = toEmbeddingBag(featurizer.transformSparse(texts));
 *   session.run(bagFeeds(bag));   // { ids, weights } as onnxruntime-node tensors
 *
 * Which form a model version takes is `model.input` in its featurizer.json ('features' or
 * 'embedding-bag') and `signature.onnx.inputForm` in the registry ('dense' or 'embedding-bag').
 */
import * as ort from 'onnxruntime-node';
import type { Csr } from './sparse.ts';

export interface EmbeddingBagInput {
  readonly rows: number;
  /** L: entries per row, padding included. */
  readonly width: number;
  /** The padding id: the vocabulary size. */
  readonly paddingId: number;
  readonly ids: BigInt64Array;
  readonly weights: Float32Array;
}

export function toEmbeddingBag(x: Csr): EmbeddingBagInput {
  let width = 1;
  for (let r = 0; r < x.rows; r++) width = Math.max(width, (x.indptr[r + 1] as number) - (x.indptr[r] as number));
  const paddingId = BigInt(x.cols);
  const ids = new BigInt64Array(x.rows * width).fill(paddingId);
  const weights = new Float32Array(x.rows * width);
  for (let r = 0; r < x.rows; r++) {
    const start = x.indptr[r] as number;
    const end = x.indptr[r + 1] as number;
    for (let p = start; p < end; p++) {
      ids[r * width + p - start] = BigInt(x.indices[p] as number);
      weights[r * width + p - start] = x.values[p] as number;
    }
  }
  return { rows: x.rows, width, paddingId: x.cols, ids, weights };
}

/** The feeds of an `InferenceSession.run` for an embedding-bag model. */
export function bagFeeds(bag: EmbeddingBagInput): { ids: ort.Tensor; weights: ort.Tensor } {
  return { ids: new ort.Tensor('int64', bag.ids, [bag.rows, bag.width]), weights: new ort.Tensor('float32', bag.weights, [bag.rows, bag.width]) };
}
