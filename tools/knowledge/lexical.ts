/**
 * The lexical leg: BM25 from stored statistics. Searches without a metadata filter score an
 * in-memory copy of the knowledge base's postings (knowledge/retrieval/bm25.ts) kept per server
 * and reloaded in the background when the knowledge base's `lexical_revision` moves; until the
 * copy is current (first search, right after an ingest) and for filtered searches, the SQL in
 * sql/bm25*.sql scores the same formula. Knowledge bases over MAX_CACHED_TOKENS tokens stay on SQL
 * (the copy costs ~12 bytes per posting).
 */
import type { Logger, PluginSql } from 'anvil/plugin';
import { Bm25Index } from '../../knowledge/retrieval/bm25.ts';
import type { LegHit } from '../../knowledge/retrieval/fusion.ts';
import type { MetadataFilter } from '../../knowledge/stores/types.ts';
import { tokenize } from '../../knowledge/text/tokenize.ts';
import type { KbRow } from './model.ts';
import { sqlFile } from './sql.ts';

const SQL = { bm25: sqlFile('bm25'), bm25Filtered: sqlFile('bm25-filtered'), lists: sqlFile('postings-lists') };

/** Postings are at most the tokens; 10M tokens ≈ 120 MB of copy at most. */
export const MAX_CACHED_TOKENS = 10_000_000;
/** While a knowledge base keeps changing (an ingest), reload its copy at most this often. */
const RELOAD_INTERVAL_MS = 2_000;

interface Cached {
  revision: string;
  index: Bm25Index;
}

export class LexicalIndex {
  private readonly copies = new Map<string, Cached>();
  private readonly loading = new Map<string, { revision: string; startedAt: number; done: Promise<void> }>();

  constructor(private readonly deps: { sql: PluginSql; log: Logger }) {}

  async search(kb: KbRow, query: string, limit: number, filter?: MetadataFilter): Promise<LegHit[]> {
    const terms = [...new Set(tokenize(query))];
    if (terms.length === 0 || kb.chunk_count === 0) return [];
    const average = kb.token_count / Math.max(1, kb.chunk_count);
    if (filter !== undefined && Object.keys(filter).length > 0) {
      return this.rows(await this.deps.sql.query<{ id: string; score: number }>(SQL.bm25Filtered, [kb.id, terms, kb.chunk_count, average, JSON.stringify(filter), limit]));
    }
    const copy = this.current(kb);
    if (copy) return copy.search(terms, kb.chunk_count, average, limit);
    return this.rows(await this.deps.sql.query<{ id: string; score: number }>(SQL.bm25, [kb.id, terms, kb.chunk_count, average, limit]));
  }

  /** Waits for a current in-memory copy of `kb` (tests and benchmarks). */
  async warm(kb: KbRow): Promise<boolean> {
    this.current(kb);
    await this.loading.get(kb.id)?.done;
    return this.copies.get(kb.id)?.revision === String(kb.lexical_revision);
  }

  forget(kb: string): void {
    this.copies.delete(kb);
  }

  private rows(result: { rows: Array<{ id: string; score: number }> }): LegHit[] {
    return result.rows.map((row) => ({ id: row.id, score: Number(row.score) }));
  }

  /** The copy when it is current; otherwise starts (at most every RELOAD_INTERVAL_MS) loading one and returns undefined. */
  private current(kb: KbRow): Bm25Index | undefined {
    const revision = String(kb.lexical_revision);
    const cached = this.copies.get(kb.id);
    if (cached?.revision === revision) return cached.index;
    if (kb.token_count > MAX_CACHED_TOKENS) return undefined;
    const pending = this.loading.get(kb.id);
    if (pending && (pending.revision === revision || Date.now() - pending.startedAt < RELOAD_INTERVAL_MS)) return undefined;
    const started = { revision, startedAt: Date.now(), done: Promise.resolve() };
    started.done = this.load(kb.id, revision)
      .catch((error: unknown) => this.deps.log.warn({ err: error, kb: kb.id }, 'lexical copy not loaded; BM25 stays on SQL'))
      .finally(() => {
        if (this.loading.get(kb.id) === started) this.loading.delete(kb.id);
      });
    this.loading.set(kb.id, started);
    return undefined;
  }

  /**
   * Reads the postings after `revision` was read: the copy holds at least that revision's postings,
   * so labelling it `revision` can only make it look older than it is (reloaded once more), never newer.
   */
  private async load(kb: string, revision: string): Promise<void> {
    const rows = await this.deps.sql.query<{ term: string; chunks: number[]; tfs: number[]; lengths: number[] }>(SQL.lists, [kb]);
    const index = Bm25Index.build(rows.rows);
    const previous = this.copies.get(kb);
    // A slower load of an older revision never replaces a newer copy.
    if (previous && BigInt(previous.revision) > BigInt(revision)) return;
    this.copies.set(kb, { revision, index });
  }
}
