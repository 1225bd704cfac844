import { AnvilError, ErrorCodes, z, type ToolSpec } from 'anvil/plugin';
import { chunkingSchema, embedderSchema, NAME } from '../model.ts';
import type { KnowledgeService } from '../service.ts';
import { kbView, kbViewSchema } from './view.ts';

const input = z
  .object({
    name: z.string().regex(NAME, 'letters, digits, . _ - (at most 100, starting with a letter or digit)').describe('Knowledge base name, unique in your project'),
    embedder: embedderSchema.optional().describe('Dense embedder; default: the built-in one, trained on the knowledge base’s own text (nothing to configure)'),
    chunking: chunkingSchema.optional(),
  })
  .strict();

export function createTool(service: () => KnowledgeService): ToolSpec<typeof input, typeof kbViewSchema> {
  return {
    name: 'kb_create',
    title: 'Create a knowledge base',
    description: 'Creates a knowledge base in your project for kb_ingest and kb_search. With only a name, hybrid search (BM25 + the built-in dense embedder, trained on your documents when you ingest them) works with nothing else configured. Creating an existing name with the same settings returns it unchanged; different settings are ANVIL_E_CONFLICT.',
    input,
    output: kbViewSchema,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['knowledge:write'],
    async handler(args, { project }) {
      const chunking = chunkingSchema.parse(args.chunking ?? {});
      const { kb, created } = await service().create(project, args.name, args.embedder, chunking);
      if (!created && ((args.embedder && JSON.stringify(args.embedder) !== JSON.stringify(kb.embedder)) || JSON.stringify(chunking) !== JSON.stringify(kb.chunking))) {
        throw new AnvilError(ErrorCodes.CONFLICT, `knowledge base ${args.name} exists with other settings (embedder ${JSON.stringify(kb.embedder)}, chunking ${JSON.stringify(kb.chunking)}); use kb_reindex to change the embedder`);
      }
      return kbView(kb, created);
    },
  };
}
