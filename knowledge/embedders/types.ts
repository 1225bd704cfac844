/** The `embedders` extension point's contract: texts → unit vectors of a fixed dimension. */
export type TextKind = 'query' | 'document';

export interface Embedder {
  /** Stable description of what produced the vectors (stored with the index). */
  readonly id: string;
  readonly dimensions: number;
  embed(texts: readonly string[], kind: TextKind): Promise<Float32Array[]>;
  close?(): Promise<void>;
}

/** What a plugin provides under `embedders`: a factory from the knowledge base's embedder options. */
export interface EmbedderProvider {
  readonly description: string;
  create(options: Readonly<Record<string, unknown>>): Promise<Embedder>;
}

export function normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  if (!(norm > 0)) return vector.fill(0);
  for (let i = 0; i < vector.length; i += 1) vector[i] = (vector[i] as number) / norm;
  return vector;
}
