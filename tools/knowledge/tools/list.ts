import { z, type ToolSpec } from 'anvil/plugin';
import type { KnowledgeService } from '../service.ts';
import { decodeCursor, pageOf } from './cursor.ts';

const input = z
  .object({
    limit: z.number().int().min(1).max(500).default(100),
    cursor: z.string().max(500).optional().describe('nextCursor of the previous page'),
  })
  .strict();
const output = z.object({ knowledgeBases: z.array(z.object({ name: z.string(), documents: z.number(), chunks: z.number(), embedder: z.record(z.string(), z.unknown()), denseIndex: z.string().nullable(), createdAt: z.iso.datetime() })),
  nextCursor: z.string().nullable().describe('Pass as cursor for the next page (by name); null on the last page'),
});

export function listTool(service: () => KnowledgeService): ToolSpec<typeof input, typeof output> {
  return {
    name: 'kb_list',
    title: 'List knowledge bases',
    description: 'Your project’s knowledge bases by name with their document and chunk counts; page on with nextCursor.',
    input,
    output,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['knowledge:read'],
    async handler({ limit, cursor }, { project }) {
      const rows = await service().list(project, limit + 1, decodeCursor(cursor, 'kbs'));
      const { page, nextCursor } = pageOf(rows, limit, 'kbs', (row) => String(row.name));
      return {
        nextCursor,
        knowledgeBases: page.map((row) => ({ name: String(row.name), documents: Number(row.document_count), chunks: Number(row.chunk_count), embedder: row.embedder as Record<string, unknown>, denseIndex: (row.active_index as string | null) ?? null, createdAt: String(row.created_at) })),
      };
    },
  };
}
