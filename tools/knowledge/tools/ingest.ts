import { z, type ToolSpec } from 'anvil/plugin';
import type { KnowledgeService } from '../service.ts';
import { kbName } from './view.ts';

const input = z
  .object({
    kb: kbName,
    path: z.string().min(1).max(4096).describe('A file or folder on the server, under the operator-named roots (ANVIL_DATASET_ROOTS, the working directory, ANVIL_HOME). A folder ingests its .pdf .docx .html .md .txt .jsonl files'),
    metadata: z.record(z.string().min(1).max(100), z.union([z.string().max(1000), z.number(), z.boolean()])).optional().describe('Metadata stored with every document (kb_search filters on it)'),
    idempotencyKey: z.string().min(1).max(200).optional().describe('A retry with the same key returns the first call’s task'),
  })
  .strict();
const output = z.object({ task: z.string(), replayed: z.boolean(), statusTool: z.literal('kb_task') });

export function ingestTool(service: () => KnowledgeService): ToolSpec<typeof input, typeof output> {
  return {
    name: 'kb_ingest',
    title: 'Ingest documents',
    description:
      'Starts ingesting a file or folder (PDF text per page, DOCX, HTML with tables, Markdown, plain text, JSONL corpora of {id, text, ...metadata}) and returns a task id at once; kb_task shows its progress and result. ' +
      'Each document is content-hashed: an unchanged one is skipped, a changed one replaces its chunks atomically. A file that cannot be read is reported by name in the result and the rest still ingest. ' +
      'When the knowledge base uses the built-in embedder, the task then trains it on the knowledge base’s text (first time, or once the knowledge base has doubled).',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['knowledge:write'],
    async handler({ kb: name, path, metadata, idempotencyKey }, { project }) {
      const svc = service();
      const kb = await svc.kb(project, name);
      const started = await svc.startIngest(project, kb, { path }, metadata ?? {}, idempotencyKey);
      return { ...started, statusTool: 'kb_task' as const };
    },
  };
}
