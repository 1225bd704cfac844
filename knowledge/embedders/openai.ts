/**
 * An OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, vLLM, Ollama, llama.cpp server, TEI's
 * OpenAI route). The key is read from the environment variable the knowledge base names, never
 * stored. Vectors are normalised here so cosine = dot product as for every other embedder.
 */
import { normalize, type Embedder, type TextKind } from './types.ts';

export interface OpenAiEmbedderOptions {
  readonly url: string;
  readonly model: string;
  readonly apiKeyEnv?: string | undefined;
  readonly dimensions: number;
}

export class OpenAiEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;

  constructor(private readonly options: OpenAiEmbedderOptions) {
    this.id = `openai:${options.model}@${options.url}`;
    this.dimensions = options.dimensions;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]>;
  async embed(texts: readonly string[], _kind?: TextKind): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let at = 0; at < texts.length; at += 64) {
      const key = this.options.apiKeyEnv ? process.env[this.options.apiKeyEnv] : undefined;
      const response = await fetch(new URL('embeddings', this.options.url.endsWith('/') ? this.options.url : `${this.options.url}/`), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify({ model: this.options.model, input: texts.slice(at, at + 64) }),
        signal: AbortSignal.timeout(60_000),
      });
      if (!response.ok) throw new Error(`embeddings endpoint answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
      const body = (await response.json()) as { data?: Array<{ index: number; embedding: number[] }> };
      const data = [...(body.data ?? [])].sort((a, b) => a.index - b.index);
      for (const item of data) {
        if (item.embedding.length !== this.dimensions) throw new Error(`the endpoint returned ${item.embedding.length} dimensions, the knowledge base expects ${this.dimensions}`);
        out.push(normalize(Float32Array.from(item.embedding)));
      }
    }
    return out;
  }
}
