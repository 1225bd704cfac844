/**
 * The embedding-bag export (ids + weights → Gather, Mul, ReduceSum) against the dense export of the
 * same network: the same probabilities within 1e-5 for rows of every length (empty, one feature,
 * more features than any other row of the batch), for the MLP and the softmax model.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { scoreRows } from '../../gpu-workers/recipes/ml/abstain.ts';
import { type Csr, CsrBuilder, toDense } from '../../gpu-workers/recipes/ml/matrix.ts';
import { CLASS_WEIGHT, classPrototypes, cosineConfidence, headConfidence, hiddenActivations, hiddenCentroids, neighbourReferences, PROTOTYPES_PER_CLASS, prototypeHead, SPREAD_WEIGHT } from '../../gpu-workers/recipes/ml/confidence.ts';
import { Network } from '../../gpu-workers/recipes/ml/network.ts';
import { Prng } from '../../gpu-workers/recipes/ml/prng.ts';
import { classifierModel, embeddingBagClassifierModel } from '../../gpu-workers/recipes/onnx/model.ts';
import { bagFeeds, toEmbeddingBag } from '../../gpu-workers/recipes/text-classifier/bag.ts';

/** The dense and the embedding-bag exports of `weights` both answer `ours` as their confidence for `x`'s rows (within 1e-5). */
async function assertExportsGive(weights: Parameters<typeof classifierModel>[0], x: Csr, ours: Float32Array): Promise<void> {
  const dense = await ort.InferenceSession.create(classifierModel(weights));
  const bagged = await ort.InferenceSession.create(embeddingBagClassifierModel(weights));
  try {
    assert.deepEqual(dense.outputNames, ['probabilities', 'confidence']);
    assert.deepEqual(bagged.outputNames, ['probabilities', 'confidence']);
    const features = toDense(x);
    const fromDense = (await dense.run({ features: new ort.Tensor('float32', features.data, [features.rows, features.cols]) })).confidence?.data as Float32Array;
    const fromBag = (await bagged.run(bagFeeds(toEmbeddingBag(x)))).confidence?.data as Float32Array;
    for (let r = 0; r < x.rows; r++) {
      assert.ok(Math.abs((fromDense[r] as number) - (ours[r] as number)) < 1e-5, `dense row ${r}`);
      assert.ok(Math.abs((fromBag[r] as number) - (ours[r] as number)) < 1e-5, `bag row ${r}`);
    }
  } finally {
    await dense.release();
    await bagged.release();
  }
}

describe('embedding-bag ONNX export', () => {
  it('turns CSR rows into ids and weights padded with the vocabulary size', () => {
    const builder = new CsrBuilder(10);
    builder.addRow([[2, 0.5], [7, 1.5]]);
    builder.addRow([]);
    builder.addRow([[9, 2]]);
    const bag = toEmbeddingBag(builder.build());
    assert.equal(bag.width, 2);
    assert.equal(bag.paddingId, 10);
    assert.deepEqual([...bag.ids], [2n, 7n, 10n, 10n, 9n, 10n]);
    assert.deepEqual([...bag.weights], [0.5, 1.5, 0, 0, 2, 0]);
  });

  for (const hidden of [0, 32]) {
    it(`gives the dense model's probabilities within 1e-5 (${hidden ? 'MLP' : 'softmax'})`, async () => {
      const shape = { features: 2000, hidden, classes: 12 };
      const net = Network.initial(shape, Prng.fromSeed(3));
      const rng = Prng.fromSeed(5);
      for (const w of [net.weights.w1, net.weights.b1, net.weights.w2, net.weights.b2]) for (let i = 0; i < w.length; i++) w[i] = (rng.next() - 0.5) * 2;
      const builder = new CsrBuilder(shape.features);
      builder.addRow([]);
      builder.addRow([[shape.features - 1, 0.7]]);
      for (let r = 0; r < 40; r++) {
        const entries = new Map<number, number>();
        const count = 1 + Math.floor(rng.next() * 150);
        for (let k = 0; k < count; k++) entries.set(Math.floor(rng.next() * shape.features), rng.next());
        builder.addRow(entries);
      }
      const x = builder.build();
      const dense = await ort.InferenceSession.create(classifierModel({ ...shape, ...net.weights }));
      const bagged = await ort.InferenceSession.create(embeddingBagClassifierModel({ ...shape, ...net.weights }));
      try {
        assert.deepEqual(bagged.inputNames, ['ids', 'weights']);
        const features = toDense(x);
        const want = (await dense.run({ features: new ort.Tensor('float32', features.data, [features.rows, features.cols]) })).probabilities?.data as Float32Array;
        const got = (await bagged.run(bagFeeds(toEmbeddingBag(x)))).probabilities?.data as Float32Array;
        assert.equal(got.length, want.length);
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((got[i] as number) - (want[i] as number)));
        assert.ok(worst < 1e-5, `largest difference ${worst}`);
        // One row alone (the serving case) equals its row in the batch.
        const single = (await bagged.run(bagFeeds(toEmbeddingBag({ ...x, rows: 1, indptr: x.indptr.subarray(2, 4).map((v) => v - (x.indptr[2] as number)), indices: x.indices.subarray(x.indptr[2], x.indptr[3]), values: x.values.subarray(x.indptr[2], x.indptr[3]) })))).probabilities?.data as Float32Array;
        for (let c = 0; c < shape.classes; c++) assert.ok(Math.abs((single[c] as number) - (want[2 * shape.classes + c] as number)) < 1e-5);
      } finally {
        await dense.release();
        await bagged.release();
      }
    });
  }

  it('outputs the cosine confidence (centroids, nearest rows), dense and embedding bag, equal to confidence.ts and to a recount', async () => {
    const shape = { features: 500, hidden: 24, classes: 5 };
    const net = Network.initial(shape, Prng.fromSeed(8));
    const rng = Prng.fromSeed(9);
    for (const w of [net.weights.b1, net.weights.b2]) for (let i = 0; i < w.length; i++) w[i] = (rng.next() - 0.5) * 0.2;
    const builder = new CsrBuilder(shape.features);
    builder.addRow([]);
    for (let r = 0; r < 60; r++) {
      const entries = new Map<number, number>();
      for (let k = 0; k < 1 + Math.floor(rng.next() * 40); k++) entries.set(Math.floor(rng.next() * shape.features), rng.next());
      builder.addRow(entries);
    }
    const x = builder.build();
    const y = Int32Array.from({ length: x.rows }, (_, r) => (r === 0 ? -1 : r % shape.classes));
    const centroids = hiddenCentroids(net, x, y, shape.classes);
    const ours = cosineConfidence(net, centroids, x);
    // Recount: the mean of unit-norm activations per class, normalised; the best cosine per row.
    const h = hiddenActivations(net, x);
    const unit = (v: number[]): number[] => {
      const n = Math.hypot(...v);
      return n > 0 ? v.map((e) => e / n) : v;
    };
    const rows = Array.from({ length: x.rows }, (_, r) => Array.from(h.subarray(r * shape.hidden, (r + 1) * shape.hidden)));
    const means = Array.from({ length: shape.classes }, (_, c) => unit(rows.filter((_, r) => y[r] === c).map(unit).reduce((a, b) => a.map((e, j) => e + (b[j] as number)))));
    rows.forEach((row, r) => {
      const expected = Math.max(...means.map((m) => unit(row).reduce((sum, e, j) => sum + e * (m[j] as number), 0)));
      assert.ok(Math.abs((ours[r] as number) - (Math.hypot(...row) > 0 ? expected : 0)) < 1e-5, `row ${r}`);
    });
    const weights = { ...shape, ...net.weights, confidence: { vectors: centroids, classWeights: null } };
    await assertExportsGive(weights, x, ours);
    assert.ok(ours.every((c) => c >= 0 && c <= 1 + 1e-6));
    // Nearest training row: every non-zero row is a reference, so each of them has confidence 1.
    const neighbours = neighbourReferences(net, x, 1);
    const nonZero = rows.filter((row) => Math.hypot(...row) > 0).length;
    assert.equal(neighbours.length, nonZero * shape.hidden);
    const nearest = cosineConfidence(net, neighbours, x);
    const nearestModel = await ort.InferenceSession.create(embeddingBagClassifierModel({ ...weights, confidence: { vectors: neighbours, classWeights: null } }));
    const fromNearest = (await nearestModel.run(bagFeeds(toEmbeddingBag(x)))).confidence?.data as Float32Array;
    await nearestModel.release();
    rows.forEach((row, r) => {
      assert.ok(Math.abs((nearest[r] as number) - (Math.hypot(...row) > 0 ? 1 : 0)) < 1e-5, `nearest row ${r}`);
      assert.ok(Math.abs((fromNearest[r] as number) - (nearest[r] as number)) < 1e-5, `nearest ONNX row ${r}`);
    });
  });

  it('outputs the prototype confidence, dense and embedding bag, equal to confidence.ts and to a recount from the prototypes', async () => {
    const shape = { features: 400, hidden: 16, classes: 4 };
    const net = Network.initial(shape, Prng.fromSeed(18));
    const rng = Prng.fromSeed(19);
    // b1 ≤ 0: the empty row 0 has all-zero hidden activations (u = 0 in TypeScript and in ONNX's LpNormalization).
    for (let i = 0; i < net.weights.b1.length; i++) net.weights.b1[i] = -rng.next() * 0.1;
    for (let i = 0; i < net.weights.b2.length; i++) net.weights.b2[i] = (rng.next() - 0.5) * 0.2;
    const builder = new CsrBuilder(shape.features);
    builder.addRow([]);
    for (let r = 0; r < 90; r++) {
      const entries = new Map<number, number>();
      for (let k = 0; k < 1 + Math.floor(rng.next() * 30); k++) entries.set(Math.floor(rng.next() * shape.features), rng.next());
      builder.addRow(entries);
    }
    const x = builder.build();
    // Class 3 has 3 rows (fewer than PROTOTYPES_PER_CLASS: they are its prototypes); the others ~29 each.
    const y = Int32Array.from({ length: x.rows }, (_, r) => (r === 0 ? -1 : r <= 3 ? 3 : r % 3));
    const found = classPrototypes(net, x, y, shape.classes, PROTOTYPES_PER_CLASS, 7);
    const again = classPrototypes(net, x, y, shape.classes, PROTOTYPES_PER_CLASS, 7);
    assert.deepEqual(again.vectors, found.vectors, 'seeded: the same prototypes every time');
    const perClass = Array.from({ length: shape.classes }, (_, c) => found.classOf.filter((k) => k === c).length);
    assert.deepEqual(perClass, [PROTOTYPES_PER_CLASS, PROTOTYPES_PER_CLASS, PROTOTYPES_PER_CLASS, 3]);
    const head = prototypeHead(net, x, y, 7);
    // A trained OOS class (here class 3) gets no prototypes: nearness to known out-of-scope queries is no confidence.
    const withoutOos = scoreRows(net, x, y, x, 'prototype-cosine', 7, 3).head;
    assert.equal(withoutOos?.vectors.length, 3 * PROTOTYPES_PER_CLASS * shape.hidden);
    assert.deepEqual(withoutOos?.vectors, head.vectors.subarray(0, 3 * PROTOTYPES_PER_CLASS * shape.hidden), 'classes come in order, so the first three are unchanged');
    const probabilities = net.predict(x);
    const ours = headConfidence(net, head, x, probabilities);
    // Recount: (cos(u, P_k) + λ(1 − m_k) + β p_class(k)) / (1 + λ + β), the best prototype.
    const h = hiddenActivations(net, x);
    assert.ok(h.subarray(0, shape.hidden).every((v) => v === 0), 'row 0 has no hidden activation');
    const count = found.classOf.length;
    for (let r = 0; r < x.rows; r++) {
      const row = Array.from(h.subarray(r * shape.hidden, (r + 1) * shape.hidden));
      const norm = Math.hypot(...row);
      let best = -Infinity;
      for (let k = 0; k < count; k++) {
        const cos = norm > 0 ? row.reduce((sum, e, j) => sum + (e / norm) * (found.vectors[k * shape.hidden + j] as number), 0) : 0;
        const p = probabilities[r * shape.classes + (found.classOf[k] as number)] as number;
        best = Math.max(best, (cos + SPREAD_WEIGHT * (1 - (found.meanCosine[k] as number)) + CLASS_WEIGHT * p) / (1 + SPREAD_WEIGHT + CLASS_WEIGHT));
      }
      assert.ok(Math.abs((ours[r] as number) - best) < 1e-5, `row ${r}: ${ours[r]} vs ${best}`);
    }
    assert.ok(ours.every((c) => c >= 0 && c < 1));
    const weights = { ...shape, ...net.weights, confidence: head };
    await assertExportsGive(weights, x, ours);
  });
});
