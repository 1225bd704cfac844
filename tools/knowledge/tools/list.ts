import { z, type ToolSpec } from 'anvil/plugin';
import type { KnowledgeService } from '../service.ts';

const input = z.object({ limit: z.number().int().min(1).max(500).default(100) }).strict();
const output = z.object({ knowledgeBases: z.array(z.object({ name: z.string(), documents: z.number(), chunks: z.number(), embedder: z.record(z.string(), z.unknown()), denseIndex: z.string().nullable(), createdAt: z.iso.datetime() })) });

export function listTool(service: () => KnowledgeService): ToolSpec<typeof input, typeof output> {
  return {
    name: 'kb_list',
    title: 'List knowledge bases',
    description: 'Your project’s knowledge bases with their document and chunk counts.',
    input,
    output,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['knowledge:read'],
    async handler({ limit }, { project }) {
      const rows = await service().list(project, limit);
      return {
        knowledgeBases: rows.map((row) => ({ name: String(row.name), documents: Number(row.document_count), chunks: Number(row.chunk_count), embedder: row.embedder as Record<string, unknown>, denseIndex: (row.active_index as string | null) ?? null, createdAt: String(row.created_at) })),
      };
    },
  };
}
