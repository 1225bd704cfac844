import { AnvilError, ErrorCodes, z, type ToolSpec } from 'anvil/plugin';
import type { KnowledgeService } from '../service.ts';
import { kbName } from './view.ts';

const input = z.object({ kb: kbName, document: z.string().min(1).max(1000).describe('Document id (kb_get lists them)') }).strict();
const output = z.object({ kb: z.string(), document: z.string(), removed: z.boolean() });

export function removeDocumentTool(service: () => KnowledgeService): ToolSpec<typeof input, typeof output> {
  return {
    name: 'kb_remove_document',
    title: 'Remove a document',
    description: 'Removes one document from every index of a knowledge base (lexical statistics, vectors, chunks) in one transaction.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['knowledge:write'],
    async handler({ kb: name, document }, { project }) {
      const svc = service();
      const kb = await svc.kb(project, name);
      const removed = await svc.removeDocument(kb, document);
      if (!removed) throw new AnvilError(ErrorCodes.NOT_FOUND, `No document ${document} in knowledge base ${name}`, { details: { document } });
      return { kb: name, document, removed };
    },
  };
}
