/**
 * The built-in embedder at serving time: texts are featurized in TypeScript (tokens → vocabulary
 * ids and weights) and embedded by onnxruntime-node running the model the trainer exported.
 */
import * as ort from 'onnxruntime-node';
import { tokenize } from '../../text/tokenize.ts';
import type { Embedder, TextKind } from '../types.ts';
import { featurize, type Vocabulary } from './featurize.ts';
import { embeddingBagModel } from './onnx.ts';
import type { TrainedEmbedder } from './train.ts';

/** The vocabulary as stored beside the model (JSON). */
export interface StoredVocabulary {
  terms: string[];
  idf: number[];
  averageLength: number;
}

export function storeVocabulary(vocabulary: Vocabulary): StoredVocabulary {
  const terms = new Array<string>(vocabulary.terms.size);
  for (const [term, id] of vocabulary.terms) terms[id - 1] = term;
  return { terms, idf: Array.from(vocabulary.idf.subarray(1), (v) => Math.round(v * 1e6) / 1e6), averageLength: vocabulary.averageLength };
}

export function loadVocabulary(stored: StoredVocabulary): Vocabulary {
  const terms = new Map<string, number>();
  stored.terms.forEach((term, index) => terms.set(term, index + 1));
  const idf = new Float32Array(stored.terms.length + 1);
  idf.set(stored.idf, 1);
  return { terms, idf, averageLength: stored.averageLength };
}

export function exportModel(trained: TrainedEmbedder): { model: Uint8Array; vocabulary: StoredVocabulary } {
  return { model: embeddingBagModel(trained.table, trained.vocabulary.terms.size + 1, trained.dimensions), vocabulary: storeVocabulary(trained.vocabulary) };
}

export class BuiltinEmbedder implements Embedder {
  private constructor(
    readonly id: string,
    readonly dimensions: number,
    private readonly session: ort.InferenceSession,
    private readonly vocabulary: Vocabulary,
  ) {}

  static async load(id: string, model: Uint8Array, stored: StoredVocabulary, dimensions: number): Promise<BuiltinEmbedder> {
    const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    return new BuiltinEmbedder(id, dimensions, session, loadVocabulary(stored));
  }

  async embed(texts: readonly string[], kind: TextKind): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let at = 0; at < texts.length; at += 256) {
      const bags = texts.slice(at, at + 256).map((text) => featurize(this.vocabulary, tokenize(text), kind));
      const width = Math.max(1, ...bags.map((bag) => bag.ids.length));
      const ids = new BigInt64Array(bags.length * width);
      const weights = new Float32Array(bags.length * width);
      bags.forEach((bag, row) => {
        for (let j = 0; j < bag.ids.length; j += 1) {
          ids[row * width + j] = BigInt(bag.ids[j] as number);
          weights[row * width + j] = bag.weights[j] as number;
        }
      });
      const result = await this.session.run({ ids: new ort.Tensor('int64', ids, [bags.length, width]), weights: new ort.Tensor('float32', weights, [bags.length, width]) });
      const embedding = result.embedding?.data as Float32Array;
      for (let row = 0; row < bags.length; row += 1) {
        // An all-padding row (no known word) normalises 0/0: it is the zero vector, matching nothing.
        out.push(Float32Array.from(embedding.subarray(row * this.dimensions, (row + 1) * this.dimensions), (v) => (Number.isFinite(v) ? v : 0)));
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
