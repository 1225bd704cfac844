import { z, type ToolSpec } from 'anvil/plugin';
import type { KnowledgeService } from '../service.ts';

const input = z.object({ task: z.uuid().describe('The task id kb_ingest or kb_reindex returned') }).strict();
const output = z.object({
  task: z.string(),
  kb: z.string(),
  kind: z.enum(['ingest', 'reindex']),
  state: z.enum(['queued', 'running', 'succeeded', 'failed']),
  progress: z.record(z.string(), z.unknown()),
  result: z.record(z.string(), z.unknown()).nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export function taskTool(service: () => KnowledgeService): ToolSpec<typeof input, typeof output> {
  return {
    name: 'kb_task',
    title: 'Knowledge task status',
    description: 'State, progress and result of an ingest or reindex task (files done, chunks written, training epochs, documents that failed and why).',
    input,
    output,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['knowledge:read'],
    async handler({ task }, { project }) {
      const row = await service().task(project, task);
      return { task: row.id, kb: row.kb, kind: row.kind, state: row.state, progress: row.progress, result: row.result, error: row.error, createdAt: row.created_at, updatedAt: row.updated_at };
    },
  };
}
