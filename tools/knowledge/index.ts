/**
 * The built-in `kb` plugin: knowledge bases per project — ingest with provenance, hybrid retrieval
 * (BM25 + a dense leg), cited answers, retrieval evaluation and reindexing. The engine lives in
 * `knowledge/` (no MCP there); this folder is its tool face and its SQL.
 */
import path from 'node:path';
import { AnvilError, anvilVersion, definePlugin, ErrorCodes, z } from 'anvil/plugin';
import type { EmbedderProvider } from '../../knowledge/embedders/types.ts';
import { PgArrayStore } from '../../knowledge/stores/pgarray/store.ts';
import { PgVectorStore } from '../../knowledge/stores/pgvector/store.ts';
import { QdrantStore } from '../../knowledge/stores/qdrant/store.ts';
import type { VectorStore } from '../../knowledge/stores/types.ts';
import { datasetRoots, ROOTS_ENV } from '../datasets/index.ts';
import { Indexer } from './indexer.ts';
import { KnowledgeService } from './service.ts';
import { knowledgeMigrations } from './sql.ts';
import { answerTool } from './tools/answer.ts';
import { createTool } from './tools/create.ts';
import { deleteTool } from './tools/delete.ts';
import { evalTool } from './tools/eval.ts';
import { getTool } from './tools/get.ts';
import { ingestTool } from './tools/ingest.ts';
import { listTool } from './tools/list.ts';
import { reindexTool } from './tools/reindex.ts';
import { removeDocumentTool } from './tools/remove-document.ts';
import { documentResource } from './tools/resources.ts';
import { searchTool } from './tools/search.ts';
import { taskTool } from './tools/task.ts';

const config = z
  .object({
    /** Where new dense indexes go: `pgvector` (default where the extension exists), `pgarray` (default elsewhere) or `qdrant` (QDRANT_URL). */
    store: z.string().min(1).max(100).optional(),
    /** An OpenAI-compatible chat endpoint for kb_answer; extractive answers without it. */
    llm: z.object({ url: z.url(), model: z.string().min(1), apiKeyEnv: z.string().optional() }).strict().optional(),
  })
  .strict()
  .default({});

function isStore(value: unknown): value is VectorStore {
  return typeof value === 'object' && value !== null && typeof (value as VectorStore).search === 'function' && typeof (value as VectorStore).upsert === 'function';
}

function isEmbedder(value: unknown): value is EmbedderProvider {
  return typeof value === 'object' && value !== null && typeof (value as EmbedderProvider).create === 'function';
}

export const knowledgePlugin = definePlugin({
  id: 'kb',
  version: anvilVersion,
  apiVersion: 1,
  description: 'Knowledge bases: ingest with provenance, hybrid BM25 + dense retrieval, cited answers, retrieval evaluation',
  permissions: ['sql', 'network'],
  config,
  register(ctx) {
    ctx.migrations(knowledgeMigrations);
    ctx.provide('vectorStores', 'pgarray', new PgArrayStore(ctx.sql));
    // Usable where migration 0002 found the extension (always on embedded PGlite).
    ctx.provide('vectorStores', 'pgvector', new PgVectorStore(ctx.sql));
    const qdrantUrl = process.env.QDRANT_URL;
    if (qdrantUrl) ctx.provide('vectorStores', 'qdrant', new QdrantStore({ url: qdrantUrl, apiKey: process.env.QDRANT_API_KEY }));
    const home = path.dirname(path.dirname(ctx.host.dataDir));
    const roots = datasetRoots({ cwd: process.cwd(), home, env: process.env[ROOTS_ENV] });
    const configuredStore = ctx.config.store ?? process.env.ANVIL_KB_STORE;

    let service: KnowledgeService | undefined;
    const ready = (): KnowledgeService => {
      if (!service) throw new AnvilError(ErrorCodes.TOOL_UNAVAILABLE, 'the knowledge plugin is still starting; retry in a moment');
      return service;
    };
    // The plugin's config, else ANVIL_KB_LLM_URL / ANVIL_KB_LLM_MODEL / ANVIL_KB_LLM_API_KEY_ENV.
    const envLlm = process.env.ANVIL_KB_LLM_URL && process.env.ANVIL_KB_LLM_MODEL ? { url: process.env.ANVIL_KB_LLM_URL, model: process.env.ANVIL_KB_LLM_MODEL, apiKeyEnv: process.env.ANVIL_KB_LLM_API_KEY_ENV } : undefined;
    const llm = () => ctx.config.llm ?? envLlm;
    ctx.tool(createTool(ready));
    ctx.tool(listTool(ready));
    ctx.tool(getTool(ready));
    ctx.tool(deleteTool(ready));
    ctx.tool(ingestTool(ready));
    ctx.tool(taskTool(ready));
    ctx.tool(removeDocumentTool(ready));
    ctx.tool(searchTool(ready));
    ctx.tool(answerTool(ready, llm));
    ctx.tool(evalTool(ready, roots, process.cwd()));
    ctx.tool(reindexTool(ready));
    ctx.resource(documentResource(ready));

    ctx.onReady(async () => {
      const stores = () => new Map([...ctx.extensions('vectorStores')].filter((entry): entry is [string, VectorStore] => isStore(entry[1])));
      const embedders = () => new Map([...ctx.extensions('embedders')].filter((entry): entry is [string, EmbedderProvider] => isEmbedder(entry[1])));
      const defaultStore = configuredStore ?? ((await PgVectorStore.available(ctx.sql)) ? 'pgvector' : 'pgarray');
      if (!stores().has(defaultStore)) throw new AnvilError(ErrorCodes.CONFIG_INVALID, `kb: vector store ${defaultStore} is not available (${[...stores().keys()].join(', ')})`);
      const indexer = new Indexer({ sql: ctx.sql, stores, embedders, defaultStore });
      service = new KnowledgeService({ sql: ctx.sql, indexer, log: ctx.log, roots, cwd: process.cwd() });
      if (ctx.host.embedded) await service.failInterrupted();
    });
    ctx.onClose(async () => {
      await service?.close();
    });
    return { knowledge: ready };
  },
});
