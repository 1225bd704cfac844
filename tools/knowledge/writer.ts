/**
 * Writing documents into a knowledge base: one transaction per batch, under the knowledge base's
 * row lock (ingests and removals of one knowledge base run one at a time). A document whose
 * content hash is unchanged is skipped; a changed one has its old chunks, postings, term counts
 * and vectors replaced in the same transaction, so a search sees the old version or the new one,
 * never a mix and never half a document.
 */
import { createHash } from 'node:crypto';
import type { PluginSql, SqlExecutor } from 'anvil/plugin';
import { chunkDocument, type ChunkingOptions } from '../../knowledge/chunking/chunker.ts';
import type { ExtractedDocument } from '../../knowledge/loaders/types.ts';
import { denseText, documentName, lexicalTokens } from '../../knowledge/text/fields.ts';
import { termCounts } from '../../knowledge/text/tokenize.ts';
import type { ActiveIndex } from './indexer.ts';
import { sqlFile } from './sql.ts';

const SQL = {
  lock: sqlFile('kb-lock'),
  existing: sqlFile('docs-existing'),
  oldChunks: sqlFile('docs-old-chunks'),
  deleteChunks: sqlFile('chunks-delete'),
  upsertDoc: sqlFile('doc-upsert'),
  deleteDoc: sqlFile('doc-delete'),
  insertChunks: sqlFile('chunks-insert'),
  insertPostings: sqlFile('postings-insert'),
  deletePostings: sqlFile('postings-delete'),
  counts: sqlFile('kb-counts'),
};

export interface PreparedDocument {
  readonly id: string;
  readonly source: string;
  readonly document: ExtractedDocument;
  readonly metadata: Record<string, unknown>;
}

export interface WriteOutcome {
  readonly added: string[];
  readonly updated: string[];
  readonly unchanged: string[];
  readonly chunks: number;
}

export function contentHash(document: ExtractedDocument, metadata: Record<string, unknown>): string {
  return createHash('sha256').update(document.text).update('\u0000').update(JSON.stringify(metadata)).digest('hex');
}

/** Thrown inside a write whose dense index was switched after it was resolved; the write is retried. */
class IndexSwitched extends Error {}

/**
 * Runs `work` in a transaction holding the knowledge base's lock, with its active dense index.
 * The index is resolved before the transaction (that needs queries on other connections, which on
 * PGlite's single session would wait for this transaction forever) and checked under the lock.
 */
async function withActiveIndex<T>(sql: PluginSql, kb: string, index: () => Promise<ActiveIndex | undefined>, work: (tx: SqlExecutor, active: ActiveIndex | undefined) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    const active = await index();
    try {
      return await sql.transaction(async (tx) => {
        const locked = (await tx.query<{ active_index: string | null }>(SQL.lock, [kb])).rows[0];
        if ((locked?.active_index ?? null) !== (active?.id ?? null)) throw new IndexSwitched();
        return work(tx, active);
      });
    } catch (error) {
      if (!(error instanceof IndexSwitched) || attempt >= 5) throw error;
    }
  }
}

export async function writeDocuments(sql: PluginSql, kb: string, chunking: ChunkingOptions, documents: readonly PreparedDocument[], index: () => Promise<ActiveIndex | undefined>): Promise<WriteOutcome> {
  return withActiveIndex(sql, kb, index, async (tx, active) => {
    const existing = new Map((await tx.query<{ id: string; sha256: string; version: number }>(SQL.existing, [kb, documents.map((d) => d.id)])).rows.map((row) => [row.id, row]));
    const outcome: WriteOutcome = { added: [], updated: [], unchanged: [], chunks: 0 };
    const changed: Array<PreparedDocument & { sha256: string; version: number }> = [];
    const seen = new Set<string>();
    for (const doc of documents) {
      if (seen.has(doc.id)) continue;
      seen.add(doc.id);
      const sha256 = contentHash(doc.document, doc.metadata);
      const before = existing.get(doc.id);
      if (before?.sha256 === sha256) outcome.unchanged.push(doc.id);
      else {
        (before ? outcome.updated : outcome.added).push(doc.id);
        changed.push({ ...doc, sha256, version: (before?.version ?? 0) + 1 });
      }
    }
    if (changed.length === 0) return outcome;
    await removeChunks(tx, kb, outcome.updated, active);

    const rows: Array<Record<string, unknown>> = [];
    const countsOf = new Map<string, { counts: Map<string, number>; length: number }>();
    const denseOf = new Map<string, string>();
    const documentRows: Array<Record<string, unknown>> = [];
    for (const doc of changed) {
      const chunks = chunkDocument(doc.document, chunking);
      documentRows.push({ id: doc.id, version: doc.version, sha256: doc.sha256, format: doc.document.format, source: doc.source, title: doc.document.title ?? null, metadata: doc.metadata, text: doc.document.text, pages: doc.document.pages ?? null, chunk_count: chunks.length });
      const name = documentName(doc.id, doc.document.title, doc.metadata);
      chunks.forEach((chunk, ord) => {
        const text = doc.document.text.slice(chunk.start, chunk.end);
        // The document's name and the heading path are searchable with the chunk (they name its topic).
        const tokens = lexicalTokens({ name, heading: chunk.headingPath, text });
        const counts = termCounts(tokens);
        countsOf.set(`${doc.id}\u0000${ord}`, { counts, length: tokens.length });
        denseOf.set(`${doc.id}\u0000${ord}`, denseText({ name, heading: chunk.headingPath, text }));
        // The chunk lists its distinct terms: its postings are later deleted by primary key.
        rows.push({ document: doc.id, version: doc.version, ord, page: chunk.page, start_char: chunk.start, end_char: chunk.end, heading: chunk.headingPath, text, metadata: { ...doc.metadata, document: doc.id }, length: tokens.length, terms: [...counts.keys()] });
      });
    }
    await tx.query(SQL.upsertDoc, [kb, JSON.stringify(documentRows)]);
    const inserted = (await tx.query<{ id: string; document: string; ord: number }>(SQL.insertChunks, [kb, JSON.stringify(rows)])).rows;
    const terms: string[] = [];
    const chunkIds: string[] = [];
    const tfs: number[] = [];
    const lengths: number[] = [];
    let tokenTotal = 0;
    for (const row of inserted) {
      const { counts, length } = countsOf.get(`${row.document}\u0000${row.ord}`) ?? { counts: new Map<string, number>(), length: 0 };
      tokenTotal += length;
      for (const [term, tf] of counts) {
        terms.push(term);
        chunkIds.push(row.id);
        tfs.push(tf);
        lengths.push(length);
      }
    }
    for (let at = 0; at < terms.length; at += 20_000) {
      await tx.query(SQL.insertPostings, [kb, terms.slice(at, at + 20_000), chunkIds.slice(at, at + 20_000), tfs.slice(at, at + 20_000), lengths.slice(at, at + 20_000)]);
    }
    await tx.query(SQL.counts, [kb, inserted.length, tokenTotal]);
    if (active) {
      const byKey = new Map(rows.map((row) => [`${String(row.document)}\u0000${String(row.ord)}`, row]));
      const items = inserted.map((row) => ({ row, source: byKey.get(`${row.document}\u0000${row.ord}`) as Record<string, unknown> }));
      const vectors = await active.embedder.embed(items.map(({ row }) => denseOf.get(`${row.document}\u0000${row.ord}`) ?? ''), 'document');
      await active.store.upsert(
        active.space,
        items.map(({ row, source }, i) => ({ id: row.id, vector: vectors[i] as Float32Array, document: row.document, metadata: source.metadata as Record<string, unknown> })),
        tx,
      );
    }
    return { ...outcome, chunks: inserted.length };
  });
}

/** Deletes documents' chunks and their share of the statistics (inside the caller's transaction). */
export async function removeChunks(tx: SqlExecutor, kb: string, documents: readonly string[], active: ActiveIndex | undefined): Promise<void> {
  if (documents.length === 0) return;
  const old = (await tx.query<{ id: string; length: number }>(SQL.oldChunks, [kb, documents])).rows;
  if (old.length === 0) return;
  const ids = old.map((row) => row.id);
  await tx.query(SQL.deletePostings, [kb, ids]);
  if (active) await active.store.remove(active.space, ids, tx);
  await tx.query(SQL.deleteChunks, [kb, documents]);
  await tx.query(SQL.counts, [kb, -old.length, -old.reduce((sum, row) => sum + row.length, 0)]);
}

/** Removes one document from every index; false when it did not exist. */
export async function removeDocument(sql: PluginSql, kb: string, document: string, index: () => Promise<ActiveIndex | undefined>): Promise<boolean> {
  return withActiveIndex(sql, kb, index, async (tx, active) => {
    await removeChunks(tx, kb, [document], active);
    return (await tx.query(SQL.deleteDoc, [kb, document])).rowCount > 0;
  });
}
