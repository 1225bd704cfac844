/**
 * One contract suite for every embedder: the built-in one (trained here on a small corpus, served
 * from its ONNX export by onnxruntime-node) and an OpenAI-compatible endpoint
 * (ANVIL_TEST_EMBEDDINGS_URL, _MODEL, _DIMENSIONS; key in ANVIL_TEST_EMBEDDINGS_KEY).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BuiltinEmbedder, exportModel } from '../../knowledge/embedders/builtin/embedder.ts';
import { trainEmbedder } from '../../knowledge/embedders/builtin/train.ts';
import { OpenAiEmbedder } from '../../knowledge/embedders/openai.ts';
import type { Embedder } from '../../knowledge/embedders/types.ts';

const topics = ['refund', 'invoice', 'payout', 'ledger', 'webhook', 'dispute', 'mandate', 'settlement'];
const corpus = topics.flatMap((topic) =>
  Array.from({ length: 6 }, (_, i) => `The ${topic} desk handles ${topic} requests. Every ${topic} request is reviewed by the ${topic} team within ${i + 1} days. Late ${topic} work is escalated.`),
);

interface Leg {
  name: string;
  skip: string | undefined;
  open(): Promise<Embedder>;
}

const legs: Leg[] = [
  {
    name: 'builtin (ONNX)',
    skip: undefined,
    async open() {
      const trained = await trainEmbedder(corpus, { dimensions: 32, epochs: 8, batchSize: 16 });
      const { model, vocabulary } = exportModel(trained);
      return BuiltinEmbedder.load('builtin:contract', model, vocabulary, 32);
    },
  },
  {
    name: 'openai-compatible endpoint',
    skip: process.env.ANVIL_TEST_EMBEDDINGS_URL ? undefined : 'skipped: ANVIL_TEST_EMBEDDINGS_URL not set',
    async open() {
      return new OpenAiEmbedder({ url: process.env.ANVIL_TEST_EMBEDDINGS_URL as string, model: process.env.ANVIL_TEST_EMBEDDINGS_MODEL ?? 'text-embedding-3-small', dimensions: Number(process.env.ANVIL_TEST_EMBEDDINGS_DIMENSIONS ?? 1536), apiKeyEnv: 'ANVIL_TEST_EMBEDDINGS_KEY' });
    },
  },
];

const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, value, i) => sum + value * (b[i] as number), 0);

for (const leg of legs) {
  describe(`embedder contract: ${leg.name}`, { skip: leg.skip }, () => {
    let embedder: Embedder;
    before(async () => {
      embedder = await leg.open();
    });
    after(async () => {
      await embedder?.close?.();
    });

    test('fixed dimensions, unit (or zero) vectors, finite values', async () => {
      const vectors = await embedder.embed(['refund requests', 'ledger team', 'zzzz qqqq'], 'query');
      assert.equal(vectors.length, 3);
      for (const vector of vectors) {
        assert.equal(vector.length, embedder.dimensions);
        assert.ok(vector.every(Number.isFinite));
        const norm = Math.sqrt(dot(vector, vector));
        assert.ok(Math.abs(norm - 1) < 1e-3 || norm === 0, `norm ${norm}`);
      }
    });

    test('deterministic, and a batch equals its items one by one, in order', async () => {
      const texts = corpus.slice(0, 5);
      const batch = await embedder.embed(texts, 'document');
      for (const [i, text] of texts.entries()) {
        const [single] = await embedder.embed([text], 'document');
        assert.ok(dot(single as Float32Array, batch[i] as Float32Array) > 0.999);
      }
    });

    test('a query lands nearer its topic than other topics', async () => {
      const documents = await embedder.embed(topics.map((topic) => corpus[topics.indexOf(topic) * 6] as string), 'document');
      let correct = 0;
      for (const [t, topic] of topics.entries()) {
        const [q] = await embedder.embed([`${topic} requests escalated`], 'query');
        const scores = documents.map((d) => dot(q as Float32Array, d));
        if (scores.indexOf(Math.max(...scores)) === t) correct += 1;
      }
      assert.ok(correct >= topics.length - 1, `${correct}/${topics.length} topics found`);
    });
  });
}
