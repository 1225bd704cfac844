import { z, type ToolSpec } from 'anvil/plugin';
import { embedderSchema } from '../model.ts';
import type { KnowledgeService } from '../service.ts';
import { kbName } from './view.ts';

const input = z
  .object({
    kb: kbName,
    embedder: embedderSchema.optional().describe('The new embedder; default: the knowledge base’s current one (the built-in one is retrained on the current text)'),
    idempotencyKey: z.string().min(1).max(200).optional(),
  })
  .strict();
const output = z.object({ task: z.string(), replayed: z.boolean(), statusTool: z.literal('kb_task') });

export function reindexTool(service: () => KnowledgeService): ToolSpec<typeof input, typeof output> {
  return {
    name: 'kb_reindex',
    title: 'Rebuild the dense index',
    description: 'Builds a new dense index beside the current one (training the built-in embedder on the current text, or with the given embedder), then switches to it atomically. Searches keep answering from the old index until the switch. Returns a task id (kb_task).',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['knowledge:write'],
    async handler({ kb: name, embedder, idempotencyKey }, { project }) {
      const svc = service();
      const kb = await svc.kb(project, name);
      const started = await svc.startReindex(project, kb, embedder ?? kb.embedder, idempotencyKey);
      return { ...started, statusTool: 'kb_task' as const };
    },
  };
}
