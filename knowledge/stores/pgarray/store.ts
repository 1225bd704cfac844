/**
 * Exact dense search over vectors stored as `real[]` in Anvil's own database: the dense leg of a
 * Postgres without pgvector (as Debian 12's). The rows are the truth; each server keeps one
 * in-memory copy per index (a Float32Array), reloaded when the index's revision moves, and scans
 * it — a full scan of 100k × 128-d vectors takes ~10 ms on one core; memory is n × d × 4 bytes, so
 * the documented ceiling is about 500k chunks per knowledge base (256 MB at 128 d).
 */
import { readFileSync } from 'node:fs';
import type { LegHit } from '../../retrieval/fusion.ts';
import type { SqlLike, VectorItem, VectorQuery, VectorSpace, VectorStore } from '../types.ts';

const sql = (name: string) => readFileSync(new URL(`./${name}.sql`, import.meta.url), 'utf8');
const SQL = {
  insert: sql('insert'),
  remove: sql('remove'),
  bump: sql('bump'),
  revision: sql('revision'),
  load: sql('load'),
  filtered: sql('filtered'),
  count: sql('count'),
};

interface Loaded {
  revision: string;
  ids: string[];
  matrix: Float32Array;
}

export const PGARRAY_MAX_CHUNKS = 500_000;
/** Below this many chunks a new index goes here even where pgvector exists (exact, and faster than HNSW at that size). */
export const PGARRAY_AUTO_MAX = 100_000;

export class PgArrayStore implements VectorStore {
  readonly name = 'pgarray';
  readonly description = 'Exact search over real[] vectors in the server database (no extension needed)';
  private readonly cache = new Map<string, Loaded>();

  constructor(private readonly db: SqlLike) {}

  async ensure(): Promise<void> {}

  async upsert(space: VectorSpace, items: readonly VectorItem[], tx?: SqlLike): Promise<void> {
    if (items.length === 0) return;
    const db = tx ?? this.db;
    for (let at = 0; at < items.length; at += 500) {
      const slice = items.slice(at, at + 500);
      await db.query(SQL.insert, [space.index, slice.map((item) => item.id), slice.map((item) => `{${Array.from(item.vector, (v) => (Number.isFinite(v) ? v : 0)).join(',')}}`)]);
    }
    await db.query(SQL.bump, [space.index]);
  }

  async remove(space: VectorSpace, ids: readonly string[], tx?: SqlLike): Promise<void> {
    const db = tx ?? this.db;
    await db.query(SQL.remove, [space.index, ids]);
    await db.query(SQL.bump, [space.index]);
  }

  async search(space: VectorSpace, query: VectorQuery): Promise<LegHit[]> {
    const loaded = await this.load(space);
    let allowed: Set<string> | undefined;
    if (query.filter && Object.keys(query.filter).length > 0) {
      const rows = await this.db.query<{ id: string }>(SQL.filtered, [space.kb, JSON.stringify(query.filter)]);
      allowed = new Set(rows.rows.map((row) => row.id));
    }
    const d = space.dimensions;
    const q = query.vector;
    const top: LegHit[] = [];
    let floor = -Infinity;
    for (let i = 0; i < loaded.ids.length; i += 1) {
      const id = loaded.ids[i] as string;
      if (allowed && !allowed.has(id)) continue;
      let dot = 0;
      const base = i * d;
      for (let c = 0; c < d; c += 1) dot += (loaded.matrix[base + c] as number) * (q[c] as number);
      if (top.length < query.k || dot > floor) {
        top.push({ id, score: dot });
        if (top.length > query.k * 4) {
          top.sort((a, b) => b.score - a.score);
          top.length = query.k;
          floor = (top[top.length - 1] as LegHit).score;
        }
      }
    }
    top.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
    return top.slice(0, query.k);
  }

  async count(space: VectorSpace): Promise<number> {
    const rows = await this.db.query<{ n: number }>(SQL.count, [space.index]);
    return Number(rows.rows[0]?.n ?? 0);
  }

  async drop(space: VectorSpace): Promise<void> {
    this.cache.delete(space.index);
  }

  private async load(space: VectorSpace): Promise<Loaded> {
    // The caller may have read the revision already (with the knowledge base's row): one round trip less.
    const revision = space.revision ?? String((await this.db.query<{ revision: string }>(SQL.revision, [space.index])).rows[0]?.revision ?? '0');
    const cached = this.cache.get(space.index);
    if (cached && cached.revision === revision) return cached;
    const rows = await this.db.query<{ chunk: string; vec: number[] }>(SQL.load, [space.index]);
    const d = space.dimensions;
    const matrix = new Float32Array(rows.rows.length * d);
    const ids: string[] = [];
    rows.rows.forEach((row, i) => {
      ids.push(row.chunk);
      matrix.set(row.vec.slice(0, d), i * d);
    });
    const loaded = { revision, ids, matrix };
    this.cache.set(space.index, loaded);
    return loaded;
  }
}
