import { z, type ToolSpec } from 'anvil/plugin';
import { documentUri } from '../model.ts';
import type { KnowledgeService } from '../service.ts';
import { decodeCursor, pageOf } from './cursor.ts';
import { kbName, kbView, kbViewSchema } from './view.ts';

const input = z
  .object({
    kb: kbName,
    limit: z.number().int().min(0).max(1000).default(100).describe('Documents to list'),
    cursor: z.string().max(500).optional().describe('documentsNextCursor of the previous page (same kb)'),
  })
  .strict();
const output = kbViewSchema.extend({
  documentList: z.array(z.object({ id: z.string(), version: z.number(), sha256: z.string(), format: z.string(), source: z.string(), title: z.string().nullable(), chunks: z.number(), uri: z.string(), updatedAt: z.iso.datetime() })),
  documentsNextCursor: z.string().nullable().describe('Pass as cursor for the next page of documentList (by id); null on the last page'),
  indexes: z.array(z.object({ id: z.string(), embedder: z.record(z.string(), z.unknown()), store: z.string(), state: z.string(), dimensions: z.number().nullable(), trainedOn: z.number(), createdAt: z.iso.datetime(), readyAt: z.iso.datetime().nullable() })),
});

export function getTool(service: () => KnowledgeService): ToolSpec<typeof input, typeof output> {
  return {
    name: 'kb_get',
    title: 'Describe a knowledge base',
    description: 'A knowledge base: its documents by id, a page at a time (version, content hash, chunks, resource URI), its dense indexes (active, building, failed) with their embedder and store, fusion settings and counts.',
    input,
    output,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['knowledge:read'],
    async handler({ kb: name, limit, cursor }, { project }) {
      const svc = service();
      const kb = await svc.kb(project, name);
      const listing = `documents:${kb.id}`;
      const after = decodeCursor(cursor, listing);
      const { page: documents, nextCursor } = limit === 0 ? { page: [], nextCursor: null } : pageOf(await svc.documents(kb, limit + 1, after), limit, listing, (d) => String(d.id));
      const indexes = await svc.indexes(kb);
      return {
        ...kbView(kb),
        documentList: documents.map((d) => ({ id: String(d.id), version: Number(d.version), sha256: String(d.sha256), format: String(d.format), source: String(d.source), title: (d.title as string | null) ?? null, chunks: Number(d.chunk_count), uri: documentUri(kb.name, String(d.id)), updatedAt: String(d.updated_at) })),
        documentsNextCursor: nextCursor,
        indexes: indexes.map((i) => ({ id: String(i.id), embedder: i.embedder as Record<string, unknown>, store: String(i.store), state: String(i.state), dimensions: (i.dimensions as number | null) ?? null, trainedOn: Number(i.trained_on), createdAt: String(i.created_at), readyAt: (i.ready_at as string | null) ?? null })),
      };
    },
  };
}
