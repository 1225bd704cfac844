/**
 * One contract suite for every vector store: the real[] store on embedded PGlite and on Postgres
 * (DATABASE_URL), and Qdrant (QDRANT_URL). Each leg gets the plugin's own tables (its migration
 * run in a fresh schema) and real chunk rows for the vectors to belong to.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { PgArrayStore } from '../../knowledge/stores/pgarray/store.ts';
import { PgVectorStore } from '../../knowledge/stores/pgvector/store.ts';
import { QdrantStore } from '../../knowledge/stores/qdrant/store.ts';
import type { SqlLike, VectorItem, VectorSpace, VectorStore } from '../../knowledge/stores/types.ts';
import { mulberry32 } from '../../knowledge/embedders/builtin/train.ts';
import { storageBackends, type StorageFixture } from '../support/backends.ts';
import type { Storage } from '../../server/db/storage.ts';

const migrations = ['0001_knowledge.sql', '0002_pgvector.sql'].map((name) => readFileSync(new URL(`../../tools/knowledge/migrations/${name}`, import.meta.url), 'utf8'));
const SCHEMA = 'kb_contract';

function scoped(run: (text: string, values?: unknown[]) => Promise<{ rows: Array<Record<string, unknown>>; rowCount: number | null }>): SqlLike {
  return {
    query: async <R extends Record<string, unknown>>(text: string, values?: unknown[]) => {
      const result = await run(text.replaceAll('{{schema}}', SCHEMA), values);
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
    },
  };
}

function unit(random: () => number, d: number): Float32Array {
  const v = Float32Array.from({ length: d }, () => random() - 0.5);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

interface Leg {
  name: string;
  skip: string | undefined;
  open(): Promise<{ store: VectorStore; space: VectorSpace; ids: string[]; storage: Storage | undefined; cleanup(): Promise<void>; unavailable?: string }>;
}

/** A knowledge base with 60 chunk rows in the plugin's tables; returns their ids. */
async function seed(sql: SqlLike, kb: string, index: string, d: number): Promise<string[]> {
  await sql.query(`create schema ${SCHEMA}`);
  for (const statement of migrations) await sql.query(statement);
  await sql.query(`insert into {{schema}}.kbs (id, project, name, embedder, chunking, fusion) values ($1, 'p', 'k', '{}', '{}', '{}')`, [kb]);
  await sql.query(`insert into {{schema}}.documents (kb, id, version, sha256, format, source, metadata, text, chunk_count) values ($1, 'doc', 1, 'x', 'text', 'doc', '{}', 'text', 60)`, [kb]);
  const ids: string[] = [];
  for (let i = 0; i < 60; i += 1) {
    const team = i % 2 === 0 ? 'red' : 'blue';
    const row = await sql.query<{ id: string }>(`insert into {{schema}}.chunks (kb, document, version, ord, start_char, end_char, heading, text, metadata, length) values ($1, 'doc', 1, $2, 0, 1, '{}', 't', $3, 1) returning id::text as id`, [kb, i, JSON.stringify({ team, document: 'doc' })]);
    ids.push((row.rows[0] as { id: string }).id);
  }
  await sql.query(`insert into {{schema}}.indexes (id, kb, embedder, store, state, dimensions) values ($1, $2, '{}', 'contract', 'ready', $3)`, [index, kb, d]);
  return ids;
}

const D = 16;
const legs: Leg[] = [
  ...storageBackends.map(
    (backend): Leg => ({
      name: `pgarray (${backend.name})`,
      skip: backend.skip,
      async open() {
        const fixture: StorageFixture = await backend.open();
        const storage = fixture.value;
        const sql = scoped((text, values) => storage.query(text, values));
        const space = { kb: randomUUID(), index: randomUUID(), dimensions: D };
        const ids = await seed(sql, space.kb, space.index, D);
        return { store: new PgArrayStore(sql), space, ids, storage, cleanup: () => fixture.cleanup() };
      },
    }),
  ),
  ...storageBackends.map(
    (backend): Leg => ({
      name: `pgvector (${backend.name})`,
      skip: backend.skip,
      async open() {
        const fixture: StorageFixture = await backend.open();
        const storage = fixture.value;
        const sql = scoped((text, values) => storage.query(text, values));
        const space = { kb: randomUUID(), index: randomUUID(), dimensions: D };
        const ids = await seed(sql, space.kb, space.index, D);
        const store = new PgVectorStore({ ...sql, transaction: (work) => storage.transaction((client) => work(scoped((text, values) => client.query(text, values)))) });
        if (!(await PgVectorStore.available(sql))) {
          await fixture.cleanup();
          return { store, space, ids, storage, cleanup: async () => {}, unavailable: `skipped: the pgvector extension is not installed on this ${backend.name}` };
        }
        return { store, space, ids, storage, cleanup: () => fixture.cleanup() };
      },
    }),
  ),
  {
    name: 'qdrant',
    skip: process.env.QDRANT_URL ? undefined : 'skipped: QDRANT_URL not set',
    async open() {
      const store = new QdrantStore({ url: process.env.QDRANT_URL as string, apiKey: process.env.QDRANT_API_KEY });
      const space = { kb: randomUUID(), index: randomUUID(), dimensions: D };
      const ids = Array.from({ length: 60 }, (_, i) => String(1_000_000 + i));
      return { store, space, ids, storage: undefined, cleanup: () => store.drop(space) };
    },
  },
];

for (const leg of legs) {
  describe(`vector store contract: ${leg.name}`, { skip: leg.skip }, () => {
    let opened: Awaited<ReturnType<Leg['open']>>;
    let items: VectorItem[];
    before(async () => {
      opened = await leg.open();
      if (opened.unavailable) return;
      const random = mulberry32(7);
      items = opened.ids.map((id, i) => ({ id, vector: unit(random, D), document: 'doc', metadata: { team: i % 2 === 0 ? 'red' : 'blue' } }));
      await opened.store.ensure(opened.space);
      await opened.store.upsert(opened.space, items);
    });
    after(async () => {
      await opened?.cleanup();
    });

    test('a stored vector finds itself first, scores are cosine and descending, k is respected', async (t) => {
      if (opened.unavailable) return t.skip(opened.unavailable);
      assert.equal(await opened.store.count(opened.space), items.length);
      const probe = items[7] as VectorItem;
      const hits = await opened.store.search(opened.space, { vector: probe.vector, k: 5 });
      assert.equal(hits.length, 5);
      assert.equal(hits[0]?.id, probe.id);
      assert.ok(Math.abs((hits[0]?.score ?? 0) - 1) < 1e-3);
      for (let i = 1; i < hits.length; i += 1) assert.ok((hits[i - 1]?.score ?? 0) >= (hits[i]?.score ?? 0));
    });

    test('a metadata filter applies inside the search: k results, all matching', async (t) => {
      if (opened.unavailable) return t.skip(opened.unavailable);
      const probe = items[8] as VectorItem;
      const hits = await opened.store.search(opened.space, { vector: probe.vector, k: 10, filter: { team: 'blue' } });
      assert.equal(hits.length, 10);
      const blue = new Set(items.filter((item) => item.metadata.team === 'blue').map((item) => item.id));
      assert.ok(hits.every((hit) => blue.has(hit.id)));
      assert.ok(!hits.some((hit) => hit.id === probe.id), 'the red probe is filtered out');
    });

    test('overwrite and remove are seen by the next search', async (t) => {
      if (opened.unavailable) return t.skip(opened.unavailable);
      const target = items[3] as VectorItem;
      const moved = items[20] as VectorItem;
      await opened.store.upsert(opened.space, [{ ...target, vector: moved.vector }]);
      const hits = await opened.store.search(opened.space, { vector: moved.vector, k: 2 });
      assert.deepEqual(new Set(hits.map((h) => h.id)), new Set([target.id, moved.id]));
      await opened.store.remove(opened.space, [target.id]);
      const after = await opened.store.search(opened.space, { vector: moved.vector, k: 60 });
      assert.ok(!after.some((h) => h.id === target.id));
      assert.equal(await opened.store.count(opened.space), items.length - 1);
    });

    test('writes inside a rolled-back transaction leave nothing (stores in the server database)', async (t) => {
      if (opened.unavailable) return t.skip(opened.unavailable);
      const storage = opened.storage;
      if (!storage) {
        t.skip('a remote store is not transactional with the server database');
        return;
      }
      const target = items[30] as VectorItem;
      const other = items[31] as VectorItem;
      await assert.rejects(
        storage.transaction(async (client) => {
          const tx = scoped((text, values) => client.query(text, values));
          await opened.store.upsert(opened.space, [{ ...target, vector: other.vector }], tx);
          throw new Error('roll back');
        }),
        /roll back/,
      );
      const hits = await opened.store.search(opened.space, { vector: target.vector, k: 1 });
      assert.equal(hits[0]?.id, target.id);
    });
  });
}
