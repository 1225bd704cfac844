/**
 * The built-in `kb` plugin: knowledge bases per project — ingest with provenance, hybrid retrieval
 * (BM25 + a dense leg), cited answers, retrieval evaluation and reindexing. The engine lives in
 * `knowledge/` (no MCP there); this folder is its tool face and its SQL.
 */
import path from 'node:path';
import { AnvilError, anvilVersion, definePlugin, ErrorCodes } from 'anvil/plugin';
import type { EmbedderProvider } from '../../knowledge/embedders/types.ts';
import { PGARRAY_AUTO_MAX, PgArrayStore } from '../../knowledge/stores/pgarray/store.ts';
import { PgVectorStore } from '../../knowledge/stores/pgvector/store.ts';
import { QdrantStore } from '../../knowledge/stores/qdrant/store.ts';
import type { VectorStore } from '../../knowledge/stores/types.ts';
import { datasetsPlugin } from '../datasets/index.ts';
import { jobsPlugin } from '../jobs/index.ts';
import { knowledgeConfig } from './config.ts';
import { knowledgeRoutes } from './http.ts';
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
  // kb_eval reads registered datasets; ingest obeys the places the datasets plugin never reads.
  requires: { plugins: { jobs: '*', datasets: '*' } },
  permissions: ['sql', 'network'],
  // The server hands it the `knowledge` section of its config (tools/knowledge/config.ts).
  config: knowledgeConfig,
  register(ctx) {
    ctx.migrations(knowledgeMigrations);
    const datasets = ctx.use(datasetsPlugin);
    const jobs = ctx.use(jobsPlugin);
    ctx.provide('vectorStores', 'pgarray', new PgArrayStore(ctx.sql));
    // Usable where migration 0002 found the extension (always on embedded PGlite).
    ctx.provide('vectorStores', 'pgvector', new PgVectorStore(ctx.sql));
    const { qdrant } = ctx.config;
    if (qdrant) ctx.provide('vectorStores', 'qdrant', new QdrantStore({ url: qdrant.url, apiKey: process.env[qdrant.apiKeyEnv] }));
    // The operator's import roots, as the datasets plugin has them (config file or ANVIL_DATASET_ROOTS).
    const roots = datasets.datasets().paths.roots;
    const configuredStore = ctx.config.store;
    const uploadBytes = ctx.config.maxUploadBytes;

    let service: KnowledgeService | undefined;
    const ready = (): KnowledgeService => {
      if (!service) throw new AnvilError(ErrorCodes.TOOL_UNAVAILABLE, 'the knowledge plugin is still starting; retry in a moment');
      return service;
    };
    const llm = () => ctx.config.llm;
    ctx.tool(createTool(ready));
    ctx.tool(listTool(ready));
    ctx.tool(getTool(ready));
    ctx.tool(deleteTool(ready));
    ctx.tool(ingestTool(ready));
    ctx.tool(taskTool(ready));
    ctx.tool(removeDocumentTool(ready));
    ctx.tool(searchTool(ready));
    ctx.tool(answerTool(ready, llm));
    // Never read by a server path, even inside a root: Anvil's home, config and artifacts (as for datasets_import) and pending uploads.
    const protectedPaths = () => [...datasets.datasets().paths.protectedPaths, ctx.host.dataDir];
    ctx.tool(evalTool(ready, { roots, protectedPaths, cwd: process.cwd(), datasets: () => datasets.datasets(), blobFile: async (sha256) => (await jobs.jobs().blobs.get(sha256)).file }));
    ctx.tool(reindexTool(ready));
    ctx.resource(documentResource(ready));
    for (const route of knowledgeRoutes(ready, { uploadDir: path.join(ctx.host.dataDir, 'uploads'), maxUploadBytes: () => uploadBytes })) ctx.route(route);

    ctx.onReady(async () => {
      const stores = () => new Map([...ctx.extensions('vectorStores')].filter((entry): entry is [string, VectorStore] => isStore(entry[1])));
      const embedders = () => new Map([...ctx.extensions('embedders')].filter((entry): entry is [string, EmbedderProvider] => isEmbedder(entry[1])));
      if (configuredStore !== undefined && !stores().has(configuredStore)) throw new AnvilError(ErrorCodes.CONFIG_INVALID, `kb: vector store ${configuredStore} is not available (${[...stores().keys()].join(', ')})`);
      const pgvector = await PgVectorStore.available(ctx.sql);
      // Unconfigured: exact in-memory search (pgarray) up to PGARRAY_AUTO_MAX chunks — on PGlite
      // under load an HNSW query took 40–170 ms, the in-memory scan ~1 ms — and HNSW above it where pgvector exists.
      const storeFor = (chunks: number) => configuredStore ?? (pgvector && chunks > PGARRAY_AUTO_MAX ? 'pgvector' : 'pgarray');
      const indexer = new Indexer({ sql: ctx.sql, stores, embedders, storeFor });
      service = new KnowledgeService({ sql: ctx.sql, indexer, log: ctx.log, roots, protectedPaths, cwd: process.cwd() });
      if (ctx.host.embedded) await service.failInterrupted();
    });
    ctx.onClose(async () => {
      await service?.close();
    });
    return { knowledge: ready };
  },
});
