/**
 * Dense indexes: which one a knowledge base searches, and building a new one beside it. A build
 * trains the built-in embedder on the knowledge base's chunks (or uses the configured endpoint or
 * plugin embedder), embeds every chunk into a `building` index that search never reads, then — in
 * one transaction under the knowledge base's lock — embeds the chunks ingested meanwhile, points
 * `kbs.active_index` at it and drops the old one. Searches keep using the old index until that
 * commit.
 */
import { randomUUID } from 'node:crypto';
import { AnvilError, ErrorCodes, type PluginSql } from 'anvil/plugin';
import { BuiltinEmbedder, exportModel, type StoredVocabulary } from '../../knowledge/embedders/builtin/embedder.ts';
import { trainEmbedder } from '../../knowledge/embedders/builtin/train.ts';
import { OpenAiEmbedder } from '../../knowledge/embedders/openai.ts';
import type { Embedder, EmbedderProvider } from '../../knowledge/embedders/types.ts';
import type { VectorSpace, VectorStore } from '../../knowledge/stores/types.ts';
import { denseText, documentName } from '../../knowledge/text/fields.ts';
import type { EmbedderConfig, KbRow } from './model.ts';
import { sqlFile } from './sql.ts';

const SQL = {
  lock: sqlFile('kb-lock'),
  insert: sqlFile('index-insert'),
  get: sqlFile('index-get'),
  trainedOn: sqlFile('index-trained-on'),
  switch: sqlFile('index-switch'),
  remove: sqlFile('index-delete'),
  fail: sqlFile('index-fail'),
  all: sqlFile('chunks-all'),
  missing: sqlFile('chunks-missing'),
};

interface ChunkSource extends Record<string, unknown> {
  id: string;
  document: string;
  text: string;
  heading: string[];
  metadata: Record<string, unknown>;
  title: string | null;
  document_metadata: Record<string, unknown>;
}

/** What the dense leg embeds of a chunk (the same text kb ingest embeds). */
function embeddable(chunk: ChunkSource): string {
  return denseText({ name: documentName(chunk.document, chunk.title, chunk.document_metadata), heading: chunk.heading, text: chunk.text });
}

export interface ActiveIndex {
  readonly id: string;
  readonly space: VectorSpace;
  readonly store: VectorStore;
  readonly embedder: Embedder;
}

interface IndexRow extends Record<string, unknown> {
  id: string;
  kb: string;
  embedder: EmbedderConfig;
  store: string;
  state: string;
  dimensions: number;
  model: Buffer | null;
  vocabulary: StoredVocabulary | null;
  trained_on: number;
}

export interface IndexerDeps {
  readonly sql: PluginSql;
  readonly stores: () => ReadonlyMap<string, VectorStore>;
  readonly embedders: () => ReadonlyMap<string, EmbedderProvider>;
  /** The store a new index of that many chunks goes to. */
  readonly storeFor: (chunks: number) => string;
}

/** Smallest corpus the built-in embedder trains on; below it the dense leg stays off. */
export const MIN_TRAINING_CHUNKS = 20;

export class Indexer {
  private readonly opened = new Map<string, Promise<ActiveIndex | undefined>>();

  constructor(private readonly deps: IndexerDeps) {}

  async active(kb: Pick<KbRow, 'id' | 'active_index'>): Promise<ActiveIndex | undefined> {
    if (!kb.active_index) return undefined;
    return this.open(kb.active_index);
  }

  /** How many chunks the active built-in model was trained on (0 when none). */
  async trainedOn(indexId: string | null): Promise<number> {
    if (!indexId) return 0;
    const row = (await this.deps.sql.query<{ trained_on: number }>(SQL.trainedOn, [indexId])).rows[0];
    return row?.trained_on ?? 0;
  }

  /**
   * The index with its loaded embedder. An index's embedder, store and model never change once
   * written, so the opened index is kept per server: a search costs no query here (the model row
   * alone is megabytes). Which index a knowledge base uses comes from its row on every call.
   */
  async open(indexId: string): Promise<ActiveIndex | undefined> {
    let pending = this.opened.get(indexId);
    if (!pending) {
      pending = this.load(indexId);
      this.opened.set(indexId, pending);
      // A missing or failed index is looked up again next time (it may be being written).
      pending.then((index) => index ?? this.forget(indexId, pending), () => this.forget(indexId, pending));
    }
    return pending;
  }

  private forget(indexId: string, pending: Promise<ActiveIndex | undefined> | undefined): undefined {
    if (this.opened.get(indexId) === pending) this.opened.delete(indexId);
    return undefined;
  }

  private async load(indexId: string): Promise<ActiveIndex | undefined> {
    const row = (await this.deps.sql.query<IndexRow>(SQL.get, [indexId])).rows[0];
    if (!row) return undefined;
    const store = this.store(row.store);
    const embedder = await this.createEmbedder(row);
    return { id: row.id, space: { kb: row.kb, index: row.id, dimensions: row.dimensions }, store, embedder };
  }

  /** Builds a new index for `kb` with `config` and switches to it; returns its id. */
  async build(kb: KbRow, config: EmbedderConfig, progress: (phase: string, done: number, total: number) => Promise<void>): Promise<{ index: string; trainedOn: number; embedded: number; previous: string | null }> {
    const texts: ChunkSource[] = [];
    for (let after = '0'; ; ) {
      const page = (await this.deps.sql.query<ChunkSource>(SQL.all, [kb.id, after, 5_000])).rows;
      texts.push(...page);
      if (page.length < 5_000) break;
      after = (page[page.length - 1] as { id: string }).id;
    }
    const id = randomUUID();
    let model: Buffer | null = null;
    let vocabulary: StoredVocabulary | null = null;
    const dimensions = config.dimensions;
    if (config.kind === 'builtin') {
      if (texts.length < MIN_TRAINING_CHUNKS) throw new AnvilError(ErrorCodes.CONFLICT, `the built-in embedder trains on the knowledge base's own text and needs at least ${MIN_TRAINING_CHUNKS} chunks; ${kb.name} has ${texts.length}`);
      const trained = await trainEmbedder(texts.map(embeddable), { dimensions, onEpoch: (epoch) => progress('training', epoch + 1, 6) });
      const exported = exportModel(trained);
      model = Buffer.from(exported.model);
      vocabulary = exported.vocabulary;
    }
    await this.deps.sql.query(SQL.insert, [id, kb.id, JSON.stringify(config), this.deps.storeFor(texts.length), dimensions, model, vocabulary ? JSON.stringify(vocabulary) : null, texts.length]);
    try {
      const index = await this.open(id);
      if (!index) throw new Error('index vanished while building');
      await index.store.ensure(index.space);
      for (let at = 0; at < texts.length; at += 256) {
        const slice = texts.slice(at, at + 256);
        const vectors = await index.embedder.embed(slice.map(embeddable), 'document');
        await index.store.upsert(index.space, slice.map((t, i) => ({ id: t.id, vector: vectors[i] as Float32Array, document: t.document, metadata: t.metadata })));
        await progress('embedding', Math.min(texts.length, at + 256), texts.length);
      }
      const previous = await this.deps.sql.transaction(async (tx) => {
        await tx.query(SQL.lock, [kb.id]);
        const missing = (await tx.query<ChunkSource>(SQL.missing, [kb.id, texts[texts.length - 1]?.id ?? '0'])).rows;
        if (missing.length > 0) {
          const vectors = await index.embedder.embed(missing.map(embeddable), 'document');
          await index.store.upsert(index.space, missing.map((t, i) => ({ id: t.id, vector: vectors[i] as Float32Array, document: t.document, metadata: t.metadata })), tx);
        }
        const switched = await tx.query<{ previous: string | null }>(SQL.switch, [kb.id, id]);
        return switched.rows[0]?.previous ?? null;
      });
      if (previous && previous !== id) await this.retire(previous);
      return { index: id, trainedOn: texts.length, embedded: texts.length, previous };
    } catch (error) {
      await this.deps.sql.query(SQL.fail, [id]).catch(() => {});
      throw error;
    }
  }

  async retire(indexId: string): Promise<void> {
    const old = await this.open(indexId).catch(() => undefined);
    await this.deps.sql.query(SQL.remove, [indexId]);
    this.opened.delete(indexId);
    if (old) {
      await old.store.drop(old.space).catch(() => {});
      await old.embedder.close?.();
    }
  }

  async close(): Promise<void> {
    for (const pending of this.opened.values()) await (await pending.catch(() => undefined))?.embedder.close?.();
    this.opened.clear();
  }

  private store(name: string): VectorStore {
    const store = this.deps.stores().get(name);
    if (!store) throw new AnvilError(ErrorCodes.TOOL_UNAVAILABLE, `vector store ${name} is not available on this server (configured stores: ${[...this.deps.stores().keys()].join(', ')})`);
    return store;
  }

  private async createEmbedder(row: IndexRow): Promise<Embedder> {
    const config = row.embedder;
    switch (config.kind) {
      case 'builtin':
        if (!row.model || !row.vocabulary) throw new Error(`index ${row.id} has no trained model`);
        return BuiltinEmbedder.load(`builtin:${row.id}`, new Uint8Array(row.model), row.vocabulary, row.dimensions);
      case 'openai':
        return new OpenAiEmbedder({ url: config.url, model: config.model, apiKeyEnv: config.apiKeyEnv, dimensions: config.dimensions });
      case 'plugin': {
        const provider = this.deps.embedders().get(config.name);
        if (!provider) throw new AnvilError(ErrorCodes.TOOL_UNAVAILABLE, `no plugin provides the embedder ${config.name}`);
        return provider.create(config.options ?? {});
      }
    }
  }
}
