import type { ResourceSpec } from 'anvil/plugin';
import { documentUri } from '../model.ts';
import type { KnowledgeService } from '../service.ts';

/** The extracted text of a document: what citations' offsets (#chars=a-b) index into. */
export function documentResource(service: () => KnowledgeService): ResourceSpec {
  return {
    name: 'kb_document',
    title: 'Knowledge base document',
    description: 'The extracted text of a knowledge-base document; citations point into it with #chars=start-end.',
    uri: 'anvil://kb/{kb}/documents/{id}',
    mimeType: 'text/plain',
    scopes: ['knowledge:read'],
    async read(uri, variables, { project }) {
      const one = (value: string | string[] | undefined) => decodeURIComponent(Array.isArray(value) ? (value[0] ?? '') : (value ?? ''));
      const svc = service();
      const kb = await svc.kb(project, one(variables.kb));
      const doc = await svc.document(kb, one(variables.id));
      void uri;
      return { contents: [{ uri: documentUri(kb.name, doc.id), mimeType: 'text/plain', text: doc.text, _meta: { version: doc.version, sha256: doc.sha256, format: doc.format, source: doc.source, pages: doc.pages, updatedAt: doc.updated_at } }] };
    },
  };
}
