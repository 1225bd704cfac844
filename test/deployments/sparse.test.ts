/**
 * The embedding-bag input form, as the text-classifier export will write it (inputs `ids` int64
 * [N, L] and `weights` float32 [N, L], rows padded with id = vocabulary size, an all-zero row of the
 * first layer): a small model exported both ways from the same weights (the dense one with the
 * recipe's own ONNX builder, the sparse one written here with its protobuf writer) serves the same
 * probabilities through ServingModel and the batcher, which tells the forms apart by the session's
 * inputs. Also: the batcher's bounds, and the prediction log's bounded buffer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { classifierModel } from '../../gpu-workers/recipes/onnx/model.ts';
import { ProtoWriter } from '../../gpu-workers/recipes/onnx/protobuf.ts';
import { fitVectorizer } from '../../gpu-workers/recipes/text-classifier/featurizer.ts';
import { mulberry32 } from '../../contracts/mulberry32.ts';
import { Batcher } from '../../tools/deployment/serving/batcher.ts';
import { ServingModel } from '../../tools/deployment/serving/model.ts';
import { PredictionLog } from '../../tools/deployment/prediction-log.ts';
import { silentLogger } from '../../server/log.ts';

const FLOAT = 1;
const INT64 = 7;
const TEXTS = ['I lost my card', 'my card has not arrived yet', 'how do I top up with apple pay', 'top up failed again', 'is there an age limit', 'can my child open an account', 'card stolen last night', 'google pay top up'];
const LABELS = ['age_limit', 'card', 'top_up'];

function tensor(t: ProtoWriter, name: string, dims: number[], type: number, data: Float32Array | BigInt64Array): void {
  t.packedInts(1, dims);
  t.int(2, type);
  t.string(8, name);
  t.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

function valueInfo(v: ProtoWriter, name: string, type: number, dims: Array<number | string>): void {
  v.string(1, name);
  v.message(2, (ty) => ty.message(1, (tt) => {
    tt.int(1, type);
    tt.message(2, (shape) => {
      for (const dim of dims) shape.message(1, (d) => (typeof dim === 'string' ? d.string(2, dim) : d.int(1, dim)));
    });
  }));
}

/** probabilities = Softmax(ReduceSum(Gather(E, ids) * Unsqueeze(weights, 2), 1) + b), E = [W; 0]. */
function embeddingBagModel(features: number, classes: number, w: Float32Array, b: Float32Array): Uint8Array {
  const padded = new Float32Array((features + 1) * classes);
  padded.set(w);
  const nodes: Array<{ op: string; inputs: string[]; output: string; axis?: number }> = [
    { op: 'Gather', inputs: ['E', 'ids'], output: 'rows', axis: 0 },
    { op: 'Unsqueeze', inputs: ['weights', 'axis2'], output: 'w3' },
    { op: 'Mul', inputs: ['rows', 'w3'], output: 'scaled' },
    { op: 'ReduceSum', inputs: ['scaled', 'axis1'], output: 'summed' },
    { op: 'Add', inputs: ['summed', 'b'], output: 'logits' },
    { op: 'Softmax', inputs: ['logits'], output: 'probabilities', axis: -1 },
  ];
  const model = new ProtoWriter();
  model.int(1, 8);
  model.string(2, 'anvil-test');
  model.message(7, (g) => {
    nodes.forEach((node, i) =>
      g.message(1, (n) => {
        for (const input of node.inputs) n.string(1, input);
        n.string(2, node.output);
        n.string(3, `n${i}`);
        n.string(4, node.op);
        if (node.axis !== undefined) n.message(5, (a) => a.string(1, 'axis').int(3, node.axis as number).int(20, 2));
        if (node.op === 'ReduceSum') n.message(5, (a) => a.string(1, 'keepdims').int(3, 0).int(20, 2));
      }),
    );
    g.string(2, 'embedding_bag');
    g.message(5, (t) => tensor(t, 'E', [features + 1, classes], FLOAT, padded));
    g.message(5, (t) => tensor(t, 'b', [classes], FLOAT, b));
    g.message(5, (t) => tensor(t, 'axis1', [1], INT64, BigInt64Array.from([1n])));
    g.message(5, (t) => tensor(t, 'axis2', [1], INT64, BigInt64Array.from([2n])));
    g.message(11, (v) => valueInfo(v, 'ids', INT64, ['N', 'L']));
    g.message(11, (v) => valueInfo(v, 'weights', FLOAT, ['N', 'L']));
    g.message(12, (v) => valueInfo(v, 'probabilities', FLOAT, ['N', classes]));
  });
  model.message(8, (opset) => opset.string(1, '').int(2, 17));
  return model.finish();
}

describe('deployments: the embedding-bag input form', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-sparse-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('dense and embedding-bag exports of the same weights serve the same probabilities', async () => {
    const vectorizer = fitVectorizer(TEXTS, { wordNgrams: [1, 2], charNgrams: [2, 4], sublinearTf: true, minDf: 1, maxFeatures: 500 });
    const features = vectorizer.vocabulary.length;
    const classes = LABELS.length;
    const random = mulberry32(5);
    const w = Float32Array.from({ length: features * classes }, () => random() * 2 - 1);
    const b = Float32Array.from({ length: classes }, () => random() - 0.5);
    const spec = { kind: 'anvil.text-featurizer', version: 1, ...vectorizer, labels: LABELS, oosLabel: 'oos', threshold: 0, thresholdMethod: 'none', model: { kind: 'softmax', hidden: 0, input: 'features', output: 'probabilities' } };
    writeFileSync(path.join(dir, 'featurizer.json'), JSON.stringify(spec));
    writeFileSync(path.join(dir, 'dense.onnx'), classifierModel({ features, hidden: 0, classes, w1: w, b1: b, w2: new Float32Array(0), b2: new Float32Array(0) }));
    writeFileSync(path.join(dir, 'sparse.onnx'), embeddingBagModel(features, classes, w, b));

    const dense = await ServingModel.load(path.join(dir, 'featurizer.json'), path.join(dir, 'dense.onnx'), { intraOpThreads: 1 });
    const sparse = await ServingModel.load(path.join(dir, 'featurizer.json'), path.join(dir, 'sparse.onnx'), { intraOpThreads: 1 });
    assert.equal(dense.form, 'dense');
    assert.equal(sparse.form, 'sparse');
    const texts = [...TEXTS, 'nothing in the vocabulary: zzzz', ''];
    const rows = sparse.featurize(texts);
    assert.ok(rows.some((row) => row.indices.length === 0), 'a row without active features is padded only');
    const expected = await dense.run(dense.featurize(texts));
    const got = await sparse.run(rows);
    assert.equal(got.length, texts.length * classes);
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs((got[i] as number) - (expected[i] as number)));
    assert.ok(worst < 1e-5, `largest difference ${worst}`);

    // Through the batcher: rows of several requests in one run, each answered in its own order.
    const batcher = new Batcher({ enabled: true, maxBatchSize: 4, maxQueueDelayMicros: 0, maxQueueSize: 100 }, classes, (batch) => sparse.run(batch));
    const answers = await Promise.all(texts.map((_, i) => batcher.submit([rows[i] as (typeof rows)[number]], 5000)));
    answers.forEach((answer, i) => {
      for (let c = 0; c < classes; c++) assert.ok(Math.abs((answer.probabilities[0]?.[c] as number) - (expected[i * classes + c] as number)) < 1e-5);
    });
    assert.ok(answers.some((answer) => answer.batchSize > 1), 'concurrent requests shared runs');
    await dense.release();
    await sparse.release();
  });

  test('the batcher refuses past maxQueueSize at once and times out what waits too long', async () => {
    let release: (() => void) | undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const batcher = new Batcher({ enabled: true, maxBatchSize: 2, maxQueueDelayMicros: 0, maxQueueSize: 3 }, 1, async (batch) => {
      await gate;
      return new Float32Array(batch.length).fill(1);
    });
    const row = { indices: new Int32Array(0), values: new Float32Array(0) };
    const first = batcher.submit([row, row], 10_000); // in flight, held by the gate
    await new Promise((resolve) => setImmediate(resolve));
    const queued = batcher.submit([row, row, row], 10_000);
    await assert.rejects(batcher.submit([row], 10_000), (error: { code?: string; details?: { retryAfterSeconds?: number } }) => error.code === 'ANVIL_E_RATE_LIMITED' && (error.details?.retryAfterSeconds ?? 0) >= 1);
    const late = batcher.submit([], 10);
    assert.deepEqual((await late).probabilities, []);
    release?.();
    assert.equal((await first).probabilities.length, 2);
    assert.equal((await queued).probabilities.length, 3);
    // An idle variant runs a request at once: a 1 s batching delay would time out this 200 ms request.
    const slow = new Batcher({ enabled: true, maxBatchSize: 8, maxQueueDelayMicros: 1_000_000, maxQueueSize: 10 }, 1, async (batch) => new Float32Array(batch.length));
    assert.equal((await slow.submit([row], 200)).batchSize, 1);
    // Busy (a run in flight, held): a request waits, and is answered with an error once past its timeout.
    let hold: (() => void) | undefined;
    const held = new Promise<void>((resolve) => (hold = resolve));
    const gated = new Batcher({ enabled: true, maxBatchSize: 8, maxQueueDelayMicros: 0, maxQueueSize: 10 }, 1, async (batch) => {
      await held;
      return new Float32Array(batch.length);
    });
    const busy = gated.submit([row], 10_000);
    await new Promise((resolve) => setImmediate(resolve));
    await assert.rejects(gated.submit([row], 20), (error: { code?: string }) => error.code === 'ANVIL_E_TOOL_UNAVAILABLE');
    assert.equal(gated.stats().queued, 0, 'a timed-out request leaves the queue');
    hold?.();
    assert.equal((await busy).probabilities.length, 1);
  });
});

describe('deployments: the prediction log buffer', () => {
  test('a full buffer drops rows and counts them instead of growing', () => {
    let counted = 0;
    // Never flushed here: the bound is on the request path, before any SQL.
    const log = new PredictionLog(undefined as never, 3, 10, silentLogger(), (n) => (counted += n));
    const row = { project: 'p', request_id: 'r', shadow: false, deployment: 'd', variant: 'v1', model_version: 1, at: new Date().toISOString(), latency_ms: 1, batch_size: 1, label: null, top_label: null, probability: null, abstained: false, threshold: null, error: null, input: null };
    for (let i = 0; i < 10; i++) log.push({ ...row, request_id: `r${i}` });
    assert.deepEqual(log.stats(), { buffered: 3, written: 0, dropped: 7, failedWrites: 0 });
    assert.equal(counted, 7);
  });
});
