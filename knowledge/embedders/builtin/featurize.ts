/**
 * The built-in embedder's input: a text as (vocabulary id, weight) pairs. Queries weigh each
 * distinct term by its idf; documents by BM25's saturated term frequency times idf, so long
 * passages do not drown in their most repeated words. Row 0 of the embedding table is padding.
 */
import { termCounts, tokenize } from '../../text/tokenize.ts';

export interface Vocabulary {
  readonly terms: ReadonlyMap<string, number>;
  /** idf by id (index 0 unused). */
  readonly idf: Float32Array;
  readonly averageLength: number;
}

export type TextKind = 'query' | 'document';

export interface Bag {
  readonly ids: Int32Array;
  readonly weights: Float32Array;
}

const K1 = 1.2;
const B = 0.75;

export function featurize(vocabulary: Vocabulary, tokens: readonly string[], kind: TextKind): Bag {
  const counts = termCounts(tokens);
  const ids: number[] = [];
  const weights: number[] = [];
  const norm = K1 * (1 - B + (B * tokens.length) / Math.max(1, vocabulary.averageLength));
  for (const [term, count] of counts) {
    const id = vocabulary.terms.get(term);
    if (id === undefined) continue;
    const idf = vocabulary.idf[id] as number;
    ids.push(id);
    weights.push(kind === 'query' ? idf : (idf * count * (K1 + 1)) / (count + norm));
  }
  return { ids: Int32Array.from(ids), weights: Float32Array.from(weights) };
}

export function featurizeText(vocabulary: Vocabulary, text: string, kind: TextKind): Bag {
  return featurize(vocabulary, tokenize(text), kind);
}

/** Vocabulary of a corpus: every term in at least `minCount` texts (at most `maxTerms`, most frequent first). */
export function buildVocabulary(corpus: ReadonlyArray<readonly string[]>, maxTerms = 60_000, minCount = 1): Vocabulary {
  const df = new Map<string, number>();
  let totalLength = 0;
  for (const tokens of corpus) {
    totalLength += tokens.length;
    for (const term of new Set(tokens)) df.set(term, (df.get(term) ?? 0) + 1);
  }
  const kept = [...df.entries()].filter(([, count]) => count >= minCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, maxTerms);
  const terms = new Map<string, number>();
  const idf = new Float32Array(kept.length + 1);
  const n = corpus.length;
  kept.forEach(([term, count], index) => {
    terms.set(term, index + 1);
    idf[index + 1] = Math.log(1 + (n - count + 0.5) / (count + 0.5));
  });
  return { terms, idf, averageLength: n > 0 ? totalLength / n : 1 };
}
