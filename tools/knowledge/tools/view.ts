/** The knowledge base as tools show it. */
import { z } from 'anvil/plugin';
import { kbUri, type KbRow } from '../model.ts';

export const fusionView = z.object({ method: z.enum(['rrf', 'weighted']), k: z.number(), weights: z.object({ lexical: z.number(), dense: z.number() }), tunedAt: z.iso.datetime().optional() });

export const kbViewSchema = z.object({
  name: z.string(),
  uri: z.string(),
  embedder: z.record(z.string(), z.unknown()),
  chunking: z.object({ size: z.number(), overlap: z.number() }),
  fusion: fusionView,
  documents: z.number(),
  chunks: z.number(),
  denseIndex: z.string().nullable().describe('The dense index searches use; null until the first one is built'),
  createdAt: z.iso.datetime(),
  created: z.boolean().optional(),
});

export function kbView(kb: KbRow, created?: boolean): z.output<typeof kbViewSchema> {
  return {
    name: kb.name,
    uri: kbUri(kb.name),
    embedder: kb.embedder,
    chunking: kb.chunking,
    fusion: kb.fusion,
    documents: Number(kb.document_count),
    chunks: kb.chunk_count,
    denseIndex: kb.active_index,
    createdAt: kb.created_at,
    ...(created === undefined ? {} : { created }),
  };
}

export const kbName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'a knowledge base name').describe('Knowledge base name');
