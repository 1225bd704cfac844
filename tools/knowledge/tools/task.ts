import { z, type ToolSpec } from 'anvil/plugin';
import type { KnowledgeService } from '../service.ts';

const input = z.object({ task: z.uuid().describe('The task id kb_ingest, kb_reindex or kb_eval returned') }).strict();
const output = z.object({
  task: z.string(),
  kb: z.string(),
  kind: z.enum(['ingest', 'reindex', 'eval']),
  state: z.enum(['queued', 'running', 'succeeded', 'failed']),
  progress: z.record(z.string(), z.unknown()),
  result: z.record(z.string(), z.unknown()).nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export function taskTool(service: () => KnowledgeService): ToolSpec<typeof input, typeof output> {
  return {
    name: 'kb_task',
    title: 'Knowledge task status',
    description: 'State, progress and result of an ingest, reindex or evaluation task (files done, chunks written, training epochs, documents that failed and why; an evaluation\'s scores in kb_eval\'s shape).',
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
