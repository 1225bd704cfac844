/** Unit tests for the numeric pieces and the ONNX writer. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { CsrBuilder } from '../../gpu-workers/recipes/ml/matrix.ts';
import { Network } from '../../gpu-workers/recipes/ml/network.ts';
import { Prng } from '../../gpu-workers/recipes/ml/prng.ts';
import { classWeights, stratifiedSplit } from '../../gpu-workers/recipes/ml/split.ts';
import { classifierModel } from '../../gpu-workers/recipes/onnx/model.ts';
import { Featurizer, fitVectorizer, ngramsOf } from '../../gpu-workers/recipes/text-classifier/featurizer.ts';

describe('ml pieces', () => {
  it('the PRNG is seeded, resumable from its state, and shuffles deterministically', () => {
    const a = Prng.fromSeed(1);
    const first = [a.nextU32(), a.nextU32()];
    const b = Prng.fromState(a.state());
    assert.deepEqual([a.next(), a.next()], [b.next(), b.next()]);
    assert.deepEqual(first, [Prng.fromSeed(1).nextU32(), (() => { const p = Prng.fromSeed(1); p.nextU32(); return p.nextU32(); })()]);
    assert.notDeepEqual(Prng.fromSeed(1).shuffle([1, 2, 3, 4, 5, 6, 7, 8]), Prng.fromSeed(2).shuffle([1, 2, 3, 4, 5, 6, 7, 8]));
  });

  it('stratified split keeps every class in training and class weights balance', () => {
    const labels = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2];
    const { train, validation } = stratifiedSplit(labels.map((_, i) => i), labels, 0.5, 1);
    assert.equal(train.length + validation.length, labels.length);
    assert.ok(train.some((i) => labels[i] === 2));
    assert.deepEqual(Array.from(classWeights([0, 0, 0, 1], 2, 'balanced')), [Math.fround(4 / 6), 2]);
  });

  it('char_wb n-grams follow scikit-learn (padded words, short words give one n-gram)', () => {
    assert.deepEqual(ngramsOf('Hi', null, [3, 5]), ['c: hi', 'c:hi ', 'c: hi ', 'c: hi ']);
    assert.deepEqual(ngramsOf('my card!', [1, 2], null), ['w:my', 'w:card', 'w:my card']);
  });

  it('TF-IDF rows are L2-normalised per block', () => {
    const spec = fitVectorizer(['a b', 'a c', 'b c'], { wordNgrams: [1, 1], charNgrams: [2, 2], sublinearTf: true, minDf: 1, maxFeatures: 100 });
    const dense = Featurizer.fromSpec(spec).transform(['a b a']);
    let word = 0;
    let char = 0;
    spec.vocabulary.forEach((key, i) => {
      const v = dense.data[i] as number;
      if (key.startsWith('w:')) word += v * v;
      else char += v * v;
    });
    assert.ok(Math.abs(word - 1) < 1e-6 && Math.abs(char - 1) < 1e-6);
  });

  it('the ONNX writer builds models onnxruntime runs with the same outputs as the JS network', async () => {
    for (const hidden of [0, 5]) {
      const shape = { features: 7, hidden, classes: 3 };
      const net = Network.initial(shape, Prng.fromSeed(9));
      const rng = Prng.fromSeed(4);
      for (const w of [net.weights.w1, net.weights.b1, net.weights.w2, net.weights.b2]) for (let i = 0; i < w.length; i++) w[i] = rng.next() - 0.5;
      const builder = new CsrBuilder(7);
      builder.addRow([[0, 0.5], [3, -1], [6, 2]]);
      builder.addRow([]);
      const x = builder.build();
      const expected = net.predict(x);
      const session = await ort.InferenceSession.create(classifierModel({ ...shape, ...net.weights }));
      const dense = new Float32Array(14);
      dense[0] = 0.5;
      dense[3] = -1;
      dense[6] = 2;
      const out = (await session.run({ features: new ort.Tensor('float32', dense, [2, 7]) })).probabilities?.data as Float32Array;
      await session.release();
      for (let i = 0; i < 6; i++) assert.ok(Math.abs((out[i] as number) - (expected[i] as number)) < 1e-6, `hidden ${hidden}: ${out[i]} vs ${expected[i]}`);
    }
  });
});
