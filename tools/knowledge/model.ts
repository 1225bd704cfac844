/** Knowledge-base settings as stored (jsonb) and validated at the tool boundary. */
import { z } from 'anvil/plugin';
import { DEFAULT_CHUNKING } from '../../knowledge/chunking/chunker.ts';
import { DEFAULT_FUSION, type FusionSettings } from '../../knowledge/retrieval/fusion.ts';

export const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export const embedderSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('builtin'), dimensions: z.number().int().min(8).max(512).default(128) }).strict(),
  z
    .object({
      kind: z.literal('openai'),
      url: z.url().describe('Base URL of an OpenAI-compatible API, e.g. https://api.openai.com/v1'),
      model: z.string().min(1).max(200),
      dimensions: z.number().int().min(8).max(8192),
      apiKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]{0,99}$/).optional().describe('Environment variable holding the API key (the key itself is never stored)'),
    })
    .strict(),
  z.object({ kind: z.literal('plugin'), name: z.string().min(1).max(100), dimensions: z.number().int().min(8).max(8192), options: z.record(z.string(), z.unknown()).optional() }).strict(),
]);
export type EmbedderConfig = z.output<typeof embedderSchema>;
export const DEFAULT_EMBEDDER: EmbedderConfig = { kind: 'builtin', dimensions: 128 };

export const chunkingSchema = z
  .object({
    size: z.number().int().min(200).max(20_000).default(DEFAULT_CHUNKING.size).describe('Maximum characters per chunk'),
    overlap: z.number().int().min(0).max(2_000).default(DEFAULT_CHUNKING.overlap).describe('Characters repeated between pieces of a long section'),
  })
  .strict()
  .refine((value) => value.overlap < value.size / 2, { message: 'overlap must be less than half of size', path: ['overlap'] });

export const fusionSchema = z
  .object({
    method: z.enum(['rrf', 'weighted']).default(DEFAULT_FUSION.method),
    k: z.number().int().min(1).max(1000).default(DEFAULT_FUSION.k).describe("RRF's k"),
    weights: z.object({ lexical: z.number().min(0).max(10), dense: z.number().min(0).max(10) }).strict().default({ lexical: 1, dense: 0.5 }),
  })
  .strict();

/** Before a knowledge base is evaluated: RRF k 60 with the dense leg at half weight (a learned leg is weaker than BM25 alone). */
export const INITIAL_FUSION: FusionSettings = { method: 'rrf', k: 60, weights: { lexical: 1, dense: 0.5 } };

export const filterSchema = z
  .record(z.string().min(1).max(100), z.union([z.string().max(1000), z.number(), z.boolean()]))
  .refine((value) => Object.keys(value).length <= 20, 'at most 20 filter keys')
  .describe('Metadata equality filter, e.g. {"team": "payments"}; applied inside each leg');

export interface KbRow extends Record<string, unknown> {
  id: string;
  project: string;
  name: string;
  embedder: EmbedderConfig;
  chunking: { size: number; overlap: number };
  fusion: FusionSettings & { tunedAt?: string };
  active_index: string | null;
  chunk_count: number;
  token_count: number;
  /** Moves with every change of the postings (the in-memory BM25 copy reloads). */
  lexical_revision: string;
  /** The active index's revision, read with the row by searches (kb-for-search.sql). */
  index_revision?: string | null;
  document_count: number;
  created_at: string;
}

export const kbUri = (kb: string) => `anvil://kb/${encodeURIComponent(kb)}`;
export const documentUri = (kb: string, document: string) => `${kbUri(kb)}/documents/${encodeURIComponent(document)}`;
