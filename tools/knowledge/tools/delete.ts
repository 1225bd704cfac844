import { z, type ToolSpec } from 'anvil/plugin';
import type { KnowledgeService } from '../service.ts';
import { kbName } from './view.ts';

const input = z.object({ kb: kbName }).strict();
const output = z.object({ kb: z.string(), deleted: z.boolean() });

export function deleteTool(service: () => KnowledgeService): ToolSpec<typeof input, typeof output> {
  return {
    name: 'kb_delete',
    title: 'Delete a knowledge base',
    description: 'Deletes a knowledge base with its documents, chunks and indexes (waits for its running tasks first).',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    scopes: ['knowledge:write'],
    async handler({ kb }, { project }) {
      return { kb, deleted: await service().remove(project, kb) };
    },
  };
}
