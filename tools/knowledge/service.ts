/**
 * The knowledge plugin's service: knowledge bases per project, tasks (ingest, reindex) run by an
 * in-process runner, and search. Tasks run in the server that accepted them, one at a time per
 * knowledge base, with their state and progress in the `tasks` table. Why not a job recipe: a
 * recipe runs on a worker that has no database access, and ingest must write chunks, postings and
 * vectors transactionally into this plugin's tables.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { AnvilError, ErrorCodes, type Logger, type PluginSql } from 'anvil/plugin';
import type { FusionSettings } from '../../knowledge/retrieval/fusion.ts';
import { MIN_TRAINING_CHUNKS, type Indexer } from './indexer.ts';
import { LexicalIndex } from './lexical.ts';
import { ingestFiles, listFiles, type IngestSummary } from './ingest.ts';
import { DEFAULT_EMBEDDER, INITIAL_FUSION, type EmbedderConfig, type KbRow } from './model.ts';
import { sqlFile } from './sql.ts';
import { removeDocument, writeDocuments } from './writer.ts';

const SQL = {
  byName: sqlFile('kb-by-name'),
  forSearch: sqlFile('kb-for-search'),
  list: sqlFile('kb-list'),
  insert: sqlFile('kb-insert'),
  remove: sqlFile('kb-delete'),
  fusion: sqlFile('kb-fusion'),
  taskInsert: sqlFile('task-insert'),
  taskByKey: sqlFile('task-by-key'),
  taskUpdate: sqlFile('task-update'),
  taskGet: sqlFile('task-get'),
  interrupted: sqlFile('tasks-interrupted'),
  docs: sqlFile('docs-list'),
  doc: sqlFile('doc-get'),
  embedder: sqlFile('kb-embedder'),
  indexes: sqlFile('indexes-of'),
};

export type TaskKind = 'ingest' | 'reindex' | 'eval';

export interface TaskView extends Record<string, unknown> {
  id: string;
  kb: string;
  kind: TaskKind;
  state: 'queued' | 'running' | 'succeeded' | 'failed';
  progress: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
  created_at: string;
  updated_at: string;
}

export interface KnowledgeDeps {
  readonly sql: PluginSql;
  readonly indexer: Indexer;
  readonly log: Logger;
  readonly roots: readonly string[];
  /** Never read even inside a root: the datasets plugin's protected places and this plugin's own files. */
  readonly protectedPaths: () => readonly string[];
  readonly cwd: string;
}

export class KnowledgeService {
  /** Per knowledge base, the tail of its task chain (tasks of one knowledge base run in order). */
  private readonly chains = new Map<string, Promise<void>>();
  private closing = false;

  constructor(readonly deps: KnowledgeDeps) {
    this.lexical = new LexicalIndex({ sql: deps.sql, log: deps.log });
  }

  get sql(): PluginSql {
    return this.deps.sql;
  }

  get indexer(): Indexer {
    return this.deps.indexer;
  }

  /** BM25 for this server's searches (an in-memory copy per knowledge base, SQL otherwise). */
  readonly lexical: LexicalIndex;

  /** The knowledge base `name` of `project`; `counted: false` skips counting its documents (searches). */
  async kb(project: string, name: string, counted = true): Promise<KbRow> {
    const row = (await this.sql.query<KbRow>(counted ? SQL.byName : SQL.forSearch, [project, name])).rows[0];
    if (!row) throw new AnvilError(ErrorCodes.NOT_FOUND, `No knowledge base named ${name} in this project (kb_list shows yours)`, { details: { kb: name } });
    return { ...row, chunk_count: Number(row.chunk_count), token_count: Number(row.token_count) };
  }

  async create(project: string, name: string, embedder: EmbedderConfig | undefined, chunking: { size: number; overlap: number }): Promise<{ kb: KbRow; created: boolean }> {
    const inserted = await this.sql.query(SQL.insert, [randomUUID(), project, name, JSON.stringify(embedder ?? DEFAULT_EMBEDDER), JSON.stringify(chunking), JSON.stringify(INITIAL_FUSION)]);
    return { kb: await this.kb(project, name), created: inserted.rowCount > 0 };
  }

  /** Knowledge bases by name, after `after` (a name; null from the first). */
  async list(project: string, limit: number, after: string | null = null): Promise<Array<Record<string, unknown>>> {
    return (await this.sql.query(SQL.list, [project, after, limit])).rows;
  }

  async remove(project: string, name: string): Promise<boolean> {
    const kb = await this.kb(project, name);
    await this.chains.get(kb.id)?.catch(() => {});
    // The index first: retiring it drops what lives outside these tables (HNSW index, Qdrant collection).
    if (kb.active_index) await this.indexer.retire(kb.active_index).catch(() => {});
    this.lexical.forget(kb.id);
    return (await this.sql.query(SQL.remove, [project, name])).rowCount > 0;
  }

  /** Documents by id, after `after` (a document id; null from the first). */
  async documents(kb: KbRow, limit: number, after: string | null = null): Promise<Array<Record<string, unknown>>> {
    return (await this.sql.query(SQL.docs, [kb.id, after, limit])).rows;
  }

  async document(kb: KbRow, id: string): Promise<{ id: string; version: number; sha256: string; format: string; source: string; title: string | null; text: string; pages: unknown; updated_at: string }> {
    const row = (await this.sql.query<{ id: string; version: number; sha256: string; format: string; source: string; title: string | null; text: string; pages: unknown; updated_at: string }>(SQL.doc, [kb.id, id])).rows[0];
    if (!row) throw new AnvilError(ErrorCodes.NOT_FOUND, `No document ${id} in knowledge base ${kb.name}`, { details: { document: id } });
    return row;
  }

  async indexes(kb: KbRow): Promise<Array<Record<string, unknown>>> {
    return (await this.sql.query(SQL.indexes, [kb.id])).rows;
  }

  async removeDocument(kb: KbRow, id: string): Promise<boolean> {
    return removeDocument(this.sql, kb.id, id, async () => this.indexer.active(await this.kb(kb.project, kb.name)));
  }

  async setFusion(kb: KbRow, fusion: FusionSettings): Promise<void> {
    await this.sql.query(SQL.fusion, [kb.id, JSON.stringify({ ...fusion, tunedAt: new Date().toISOString() })]);
  }

  async task(project: string, id: string): Promise<TaskView> {
    const row = (await this.sql.query<TaskView>(SQL.taskGet, [project, id])).rows[0];
    if (!row) throw new AnvilError(ErrorCodes.NOT_FOUND, `No knowledge task ${id} in this project`, { details: { task: id } });
    return row;
  }

  /** Starts ingesting `requested` (a file or folder path, checked against the roots) into `kb`. */
  async startIngest(project: string, kb: KbRow, source: { path: string } | { file: string; name: string }, metadata: Record<string, unknown>, idempotencyKey: string | undefined, onDone?: () => Promise<void>): Promise<{ task: string; replayed: boolean }> {
    // Checked now, so a path outside the roots fails the call instead of the task.
    const uploaded = 'file' in source;
    // An upload is read from its own file alone; a path obeys the roots and the protected places.
    const policy = uploaded ? { roots: [path.dirname(source.file)], protectedPaths: [] } : { roots: this.deps.roots, protectedPaths: this.deps.protectedPaths() };
    const listed = uploaded ? { files: [source.file], base: path.dirname(source.file) } : await listFiles({ path: path.resolve(this.deps.cwd, source.path), ...policy, cwd: this.deps.cwd });
    return this.startTask(project, kb, 'ingest', { files: listed.files.length }, idempotencyKey, async (update) => {
      const names = uploaded ? new Map([[source.file, source.name]]) : undefined;
      let summary: IngestSummary;
      try {
        summary = await ingestFiles(
          listed.files,
          { path: uploaded ? source.file : source.path, ...policy, cwd: this.deps.cwd, base: listed.base, metadata },
          {
            // The active index is read inside the write: a reindex may have switched it since the task began.
            write: (documents) => writeDocuments(this.sql, kb.id, kb.chunking, documents, async () => this.indexer.active(await this.kb(project, kb.name))),
            progress: (done, total, partial) => update({ phase: 'ingesting', files: total, filesDone: done, chunks: partial.chunks, documents: partial.added + partial.updated + partial.unchanged }),
          },
          names,
        );
      } finally {
        await onDone?.();
      }
      // The documents are written and searchable (lexically); what follows is the dense index.
      await update({ phase: 'indexing', files: summary.files, filesDone: summary.files, chunks: summary.chunks });
      const trained = await this.trainIfStale(project, kb.name, update);
      return { ...summary, embedder: trained };
    });
  }

  async startReindex(project: string, kb: KbRow, embedder: EmbedderConfig, idempotencyKey: string | undefined): Promise<{ task: string; replayed: boolean }> {
    return this.startTask(project, kb, 'reindex', { phase: 'queued' }, idempotencyKey, async (update) => {
      const fresh = await this.kb(project, kb.name);
      const built = await this.indexer.build(fresh, embedder, (phase, done, total) => update({ phase, done, total }));
      await this.sql.query(SQL.embedder, [kb.id, JSON.stringify(embedder)]);
      return { index: built.index, previous: built.previous, chunks: built.embedded, embedder };
    });
  }

  /** Runs an evaluation as a task (after the knowledge base's running ingests, so it scores what they wrote). */
  async startEval(project: string, kb: KbRow, progress: Record<string, unknown>, idempotencyKey: string | undefined, work: (update: (progress: Record<string, unknown>) => Promise<void>) => Promise<Record<string, unknown>>): Promise<{ task: string; replayed: boolean }> {
    return this.startTask(project, kb, 'eval', progress, idempotencyKey, work);
  }

  /** The built-in embedder is (re)trained when a knowledge base has none or has doubled since training. */
  private async trainIfStale(project: string, name: string, update: (progress: Record<string, unknown>) => Promise<void>): Promise<Record<string, unknown>> {
    const kb = await this.kb(project, name);
    if (kb.embedder.kind !== 'builtin') {
      if (!kb.active_index && kb.chunk_count > 0) {
        const built = await this.indexer.build(kb, kb.embedder, (phase, done, total) => update({ phase, done, total }));
        return { state: 'indexed', index: built.index };
      }
      return { state: 'current' };
    }
    if (kb.chunk_count < MIN_TRAINING_CHUNKS) return { state: 'waiting', reason: `the built-in embedder trains once the knowledge base has ${MIN_TRAINING_CHUNKS} chunks (it has ${kb.chunk_count}); until then hybrid search is lexical` };
    const trainedOn = await this.indexer.trainedOn(kb.active_index);
    if (trainedOn * 2 > kb.chunk_count) return { state: 'current', trainedOn };
    const started = Date.now();
    const built = await this.indexer.build(kb, kb.embedder, (phase, done, total) => update({ phase, done, total }));
    return { state: 'trained', index: built.index, trainedOn: built.trainedOn, seconds: Math.round((Date.now() - started) / 100) / 10 };
  }

  private async startTask(project: string, kb: KbRow, kind: TaskKind, progress: Record<string, unknown>, idempotencyKey: string | undefined, work: (update: (progress: Record<string, unknown>) => Promise<void>) => Promise<Record<string, unknown>>): Promise<{ task: string; replayed: boolean }> {
    if (this.closing) throw new AnvilError(ErrorCodes.SHUTTING_DOWN, 'the server is stopping; retry on another one');
    const id = randomUUID();
    const inserted = await this.sql.query<{ id: string }>(SQL.taskInsert, [id, project, kb.id, kind, JSON.stringify(progress), idempotencyKey ?? null]);
    if (inserted.rowCount === 0 && idempotencyKey) {
      const existing = (await this.sql.query<{ id: string }>(SQL.taskByKey, [project, idempotencyKey])).rows[0];
      if (existing) return { task: existing.id, replayed: true };
    }
    const update = async (next: Record<string, unknown>) => {
      await this.sql.query(SQL.taskUpdate, [id, 'running', JSON.stringify(next), null, null]);
    };
    const previous = this.chains.get(kb.id) ?? Promise.resolve();
    const run = previous.then(async () => {
      try {
        await update({ ...progress, phase: 'starting' });
        const result = await work(update);
        await this.sql.query(SQL.taskUpdate, [id, 'succeeded', JSON.stringify({ phase: 'done' }), JSON.stringify(result), null]);
      } catch (error) {
        const code = error instanceof AnvilError ? error.code : ErrorCodes.INTERNAL;
        const message = error instanceof AnvilError ? error.message : 'the task failed unexpectedly; see the server log';
        if (!(error instanceof AnvilError)) this.deps.log.error({ err: error, task: id }, 'knowledge task failed');
        await this.sql.query(SQL.taskUpdate, [id, 'failed', JSON.stringify({ phase: 'failed' }), null, JSON.stringify({ code, message })]).catch(() => {});
      }
    });
    this.chains.set(kb.id, run);
    void run.finally(() => {
      if (this.chains.get(kb.id) === run) this.chains.delete(kb.id);
    });
    return { task: id, replayed: false };
  }

  /** Embedded servers are alone on their database: a task left running by a crash failed. */
  async failInterrupted(): Promise<void> {
    await this.sql.query(SQL.interrupted);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.chains.values()]);
    await this.indexer.close();
  }
}
