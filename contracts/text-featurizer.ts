/**
 * Text → TF-IDF features, as scikit-learn's TfidfVectorizer would compute them for a union of a word
 * n-gram and a `char_wb` n-gram vectorizer: lower-cased text; word tokens are runs of letters, digits
 * and `_`; char n-grams are taken inside each whitespace-separated word padded with one space on
 * each side. The vocabulary keeps n-grams seen in at least `minDf` training texts, the `maxFeatures`
 * most frequent (by document frequency, ties by the n-gram) when there are more. Term frequency is
 * `1 + ln(tf)` when `sublinearTf`, idf is `ln((1 + n) / (1 + df)) + 1`, and each block (word, char)
 * is L2-normalised separately, so a vector has norm √2 when both blocks are non-empty.
 *
 * The spec (featurizer.json) holds everything needed to reproduce the features at inference time:
 * `Featurizer.fromSpec(spec).transform(texts)` gives the dense [N, F] float32 matrix a dense ONNX
 * model takes as `features`; `toEmbeddingBag(featurizer.transformSparse(texts))` (embedding-bag.ts) the `ids`
 * and `weights` of an embedding-bag model (`model.input: 'embedding-bag'`).
 */
import * as z from 'zod';
import { type Csr, CsrBuilder, type Dense, toDense } from './sparse.ts';

export const ngramRange = z.tuple([z.number().int().min(1).max(8), z.number().int().min(1).max(8)]).refine(([lo, hi]) => lo <= hi, 'ngram range [min, max] needs min ≤ max');

export const textFeaturizerSpecSchema = z.object({
  kind: z.literal('anvil.text-featurizer'),
  version: z.literal(1),
  /** Word n-gram range, or null for no word features. */
  wordNgrams: ngramRange.nullable(),
  /** char_wb n-gram range, or null for no char features. */
  charNgrams: ngramRange.nullable(),
  sublinearTf: z.boolean(),
  /** Feature i is `vocabulary[i]`: `w:<n-gram>` (words joined by one space) or `c:<char n-gram>`. */
  vocabulary: z.array(z.string()),
  idf: z.array(z.number()),
  /** Class labels in output order (column c of `probabilities` is `labels[c]`). */
  labels: z.array(z.string()).min(2),
  /** The label meaning "out of scope"; predicting it counts as abstaining. */
  oosLabel: z.string(),
  /** Abstain when the confidence is below this (0: never, except the OOS class). */
  threshold: z.number().min(0).max(1),
  /**
   * The confidence: `max-probability` (absent in older models) is the top probability;
   * `prototype-cosine`, `centroid-cosine` and `nearest-cosine` are the model's `confidence` output
   * (the hidden activations' best match with a class's k-means prototypes, or cosine with a class
   * centroid, or with a training row's; gpu-workers/recipes/ml/confidence.ts).
   */
  confidence: z.enum(['max-probability', 'centroid-cosine', 'nearest-cosine', 'prototype-cosine']).optional(),
  thresholdMethod: z.string(),
  /** How the threshold was chosen (absent in older models): the objective and the figures at it on validation. */
  operatingPoint: z.looseObject({ method: z.string() }).optional(),
  /** `input`: the ONNX graph's input form — dense `features` [N, F], or `embedding-bag` (`ids` + `weights`, see bag.ts). */
  model: z.object({ kind: z.enum(['softmax', 'mlp']), hidden: z.number().int().min(0), input: z.enum(['features', 'embedding-bag']), output: z.literal('probabilities') }),
});
export type TextFeaturizerSpec = z.infer<typeof textFeaturizerSpecSchema>;

/** True when the model's threshold applies to its ONNX `confidence` output rather than the top probability. */
export function hasConfidenceOutput(spec: { confidence?: string | undefined }): boolean {
  return spec.confidence !== undefined && spec.confidence !== 'max-probability';
}

/** The part of the spec `fit` produces. */
export type TextVectorizerSpec = Pick<TextFeaturizerSpec, 'wordNgrams' | 'charNgrams' | 'sublinearTf' | 'vocabulary' | 'idf'>;

export interface FitOptions {
  wordNgrams: [number, number] | null;
  charNgrams: [number, number] | null;
  sublinearTf: boolean;
  minDf: number;
  maxFeatures: number;
}

const WORD = /[\p{L}\p{N}_]+/gu;

/** Every n-gram key of one text (with repeats), in a fixed order. */
export function ngramsOf(text: string, wordNgrams: readonly [number, number] | null, charNgrams: readonly [number, number] | null): string[] {
  const lower = text.toLowerCase();
  const out: string[] = [];
  if (wordNgrams !== null) {
    const tokens = lower.match(WORD) ?? [];
    for (let n = wordNgrams[0]; n <= wordNgrams[1]; n++) {
      for (let i = 0; i + n <= tokens.length; i++) out.push(`w:${tokens.slice(i, i + n).join(' ')}`);
    }
  }
  if (charNgrams !== null) {
    for (const word of lower.split(/\s+/)) {
      if (word === '') continue;
      const padded = Array.from(` ${word} `);
      for (let n = charNgrams[0]; n <= charNgrams[1]; n++) {
        // As scikit-learn's char_wb: a padded word shorter than n still gives one (short) n-gram.
        for (let offset = 0; ; offset++) {
          out.push(`c:${padded.slice(offset, offset + n).join('')}`);
          if (offset + n >= padded.length) break;
        }
      }
    }
  }
  return out;
}

/** Learns the vocabulary and idf from training texts. */
export function fitVectorizer(texts: readonly string[], options: FitOptions): TextVectorizerSpec {
  const df = new Map<string, number>();
  for (const text of texts) {
    for (const key of new Set(ngramsOf(text, options.wordNgrams, options.charNgrams))) df.set(key, (df.get(key) ?? 0) + 1);
  }
  const kept = [...df].filter(([, count]) => count >= options.minDf);
  kept.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const chosen = kept.slice(0, options.maxFeatures);
  // Feature order: by key, so the layout does not depend on counts' ties beyond the cut.
  chosen.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const n = texts.length;
  return {
    wordNgrams: options.wordNgrams,
    charNgrams: options.charNgrams,
    sublinearTf: options.sublinearTf,
    vocabulary: chosen.map(([key]) => key),
    idf: chosen.map(([, count]) => Math.fround(Math.log((1 + n) / (1 + count)) + 1)),
  };
}

export class Featurizer {
  private readonly index: Map<string, number>;
  private readonly idf: Float64Array;

  private constructor(readonly spec: TextVectorizerSpec) {
    this.index = new Map(spec.vocabulary.map((key, i) => [key, i]));
    this.idf = Float64Array.from(spec.idf);
    if (spec.idf.length !== spec.vocabulary.length) throw new Error(`featurizer spec: ${spec.vocabulary.length} vocabulary entries but ${spec.idf.length} idf values`);
  }

  /** From a featurizer.json object (validated) or the vectorizer part of it. */
  static fromSpec(spec: TextVectorizerSpec | unknown): Featurizer {
    const parsed = textFeaturizerSpecSchema.pick({ wordNgrams: true, charNgrams: true, sublinearTf: true, vocabulary: true, idf: true }).safeParse(spec);
    if (!parsed.success) throw new Error(`not a text featurizer spec: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return new Featurizer(parsed.data);
  }

  get featureCount(): number {
    return this.spec.vocabulary.length;
  }

  /** Sparse features (CSR, float32 values), one row per text. */
  transformSparse(texts: readonly string[]): Csr {
    const builder = new CsrBuilder(this.featureCount);
    for (const text of texts) {
      const counts = new Map<number, number>();
      for (const key of ngramsOf(text, this.spec.wordNgrams, this.spec.charNgrams)) {
        const i = this.index.get(key);
        if (i !== undefined) counts.set(i, (counts.get(i) ?? 0) + 1);
      }
      const weights = new Map<number, number>();
      const norms = { w: 0, c: 0 };
      for (const [i, tf] of counts) {
        const value = (this.spec.sublinearTf ? 1 + Math.log(tf) : tf) * (this.idf[i] as number);
        weights.set(i, value);
        norms[blockOf(this.spec.vocabulary[i] as string)] += value * value;
      }
      const scale = { w: norms.w > 0 ? 1 / Math.sqrt(norms.w) : 0, c: norms.c > 0 ? 1 / Math.sqrt(norms.c) : 0 };
      for (const [i, value] of weights) weights.set(i, value * scale[blockOf(this.spec.vocabulary[i] as string)]);
      builder.addRow(weights);
    }
    return builder.build();
  }

  /** Dense [texts.length, featureCount] float32 features: the ONNX model's `features` input. */
  transform(texts: readonly string[]): Dense {
    return toDense(this.transformSparse(texts));
  }
}

function blockOf(key: string): 'w' | 'c' {
  return key.startsWith('w:') ? 'w' : 'c';
}
