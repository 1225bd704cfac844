/**
 * pgvector (embedded PGlite through @electric-sql/pglite-pgvector, or a Postgres that has the
 * extension): vectors in `pgvectors`, one partial HNSW index (cosine) per dense index. Filtered
 * queries set `hnsw.iterative_scan = relaxed_order` (without it a filtered HNSW query on a small
 * knowledge base returned 0 of 10 rows) and re-sort what comes back, since relaxed order may not
 * be exact order. The index id and dimension are written into the SQL text (both validated):
 * the partial index only serves a query whose predicate names the same literal.
 */
import { readFileSync } from 'node:fs';
import type { LegHit } from '../../retrieval/fusion.ts';
import type { SqlLike, VectorItem, VectorQuery, VectorSpace, VectorStore } from '../types.ts';

export interface TransactionalSql extends SqlLike {
  transaction<T>(work: (tx: SqlLike) => Promise<T>): Promise<T>;
}

const sql = (name: string) => readFileSync(new URL(`./${name}.sql`, import.meta.url), 'utf8');
const SQL = {
  available: sql('available'),
  createIndex: sql('create-index'),
  upsert: sql('upsert'),
  remove: sql('remove'),
  search: sql('search'),
  count: sql('count'),
  dropIndex: sql('drop-index'),
  delete: sql('delete'),
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `text` with this space's validated index id, dimension and HNSW index name written in. */
function render(text: string, space: VectorSpace): string {
  const { id, d, name } = literals(space);
  return text.replaceAll('{{index}}', id).replaceAll('{{dimensions}}', String(d)).replaceAll('{{name}}', name);
}

function literals(space: VectorSpace): { id: string; d: number; name: string } {
  if (!UUID.test(space.index)) throw new Error(`not an index id: ${space.index}`);
  if (!Number.isInteger(space.dimensions) || space.dimensions < 1 || space.dimensions > 16_000) throw new Error(`bad dimensions ${space.dimensions}`);
  return { id: space.index, d: space.dimensions, name: `pgv_${space.index.replaceAll('-', '')}` };
}

const vectorText = (vector: Float32Array) => `[${Array.from(vector, (v) => (Number.isFinite(v) ? v : 0)).join(',')}]`;

export class PgVectorStore implements VectorStore {
  readonly name = 'pgvector';
  readonly description = 'pgvector HNSW (cosine) in the server database';

  constructor(private readonly db: TransactionalSql) {}

  /** True when the extension and the table exist in this database. */
  static async available(db: SqlLike): Promise<boolean> {
    const rows = await db.query<{ table: string | null }>(SQL.available);
    return Boolean(rows.rows[0]?.table);
  }

  async ensure(space: VectorSpace): Promise<void> {
    await this.db.query(render(SQL.createIndex, space));
  }

  async upsert(space: VectorSpace, items: readonly VectorItem[], tx?: SqlLike): Promise<void> {
    const db = tx ?? this.db;
    literals(space);
    for (let at = 0; at < items.length; at += 500) {
      const slice = items.slice(at, at + 500);
      await db.query(SQL.upsert, [space.index, slice.map((item) => item.id), slice.map((item) => vectorText(item.vector))]);
    }
  }

  async remove(space: VectorSpace, ids: readonly string[], tx?: SqlLike): Promise<void> {
    await (tx ?? this.db).query(SQL.remove, [space.index, ids]);
  }

  async search(space: VectorSpace, query: VectorQuery): Promise<LegHit[]> {
    const text = render(SQL.search, space);
    const filter = query.filter && Object.keys(query.filter).length > 0 ? JSON.stringify(query.filter) : null;
    const rows = await this.db.transaction(async (tx) => {
      await tx.query(`set local hnsw.iterative_scan = relaxed_order`);
      await tx.query(`set local hnsw.ef_search = ${Math.max(40, Math.min(1000, query.k * 2))}`);
      return (await tx.query<{ id: string; distance: number }>(text, [vectorText(query.vector), filter, query.k])).rows;
    });
    return rows.map((row) => ({ id: row.id, score: 1 - Number(row.distance) })).sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
  }

  async count(space: VectorSpace): Promise<number> {
    const rows = await this.db.query<{ n: number }>(SQL.count, [space.index]);
    return Number(rows.rows[0]?.n ?? 0);
  }

  async drop(space: VectorSpace): Promise<void> {
    await this.db.query(render(SQL.dropIndex, space));
    await this.db.query(SQL.delete, [space.index]);
  }
}
