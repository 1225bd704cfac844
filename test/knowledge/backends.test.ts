/**
 * The same knowledge base on embedded PGlite and on Postgres (DATABASE_URL): the lexical leg is
 * one SQL BM25 on both, so the rankings and scores agree exactly; the dense leg runs on pgvector
 * (PGlite, loaded because its package is installed) and the real[] store (Postgres without
 * pgvector), and hybrid answers on both.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { createTestHost, type TestHost } from 'anvil/testing';
import { skipUnless } from '../support/backends.ts';
import { createTempDatabase, type TempDatabase } from '../support/temp-db.ts';

const manpages = fileURLToPath(new URL('../../../shared/datasets/manpages-retrieval/', import.meta.url));

describe('knowledge bases on PGlite and on Postgres', { skip: skipUnless('DATABASE_URL') ?? (existsSync(manpages) ? undefined : `the man-page set is not at ${manpages}`) }, () => {
  let root: string;
  let db: TempDatabase;
  const hosts: TestHost[] = [];
  let queries: Array<{ text: string }>;

  const call = async <T>(host: TestHost, tool: string, args: Record<string, unknown>): Promise<T> => {
    const outcome = await host.call(tool, args);
    assert.equal(outcome.isError, false, outcome.text);
    return outcome.structured as T;
  };

  before(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'anvil-kb-backends-'));
    const lines = readFileSync(path.join(manpages, 'corpus.jsonl'), 'utf8').trim().split('\n').slice(0, 150);
    writeFileSync(path.join(root, 'corpus.jsonl'), lines.join('\n') + '\n');
    const ids = new Set(lines.map((line) => (JSON.parse(line) as { id: string }).id));
    queries = readFileSync(path.join(manpages, 'queries.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { text: string; relevant: string[] }).filter((q) => ids.has(q.relevant[0] as string)).slice(0, 25);
    db = await createTempDatabase();
    // Unconfigured, a knowledge base this small gets the in-memory real[] store everywhere; the
    // embedded host is told to use pgvector, so HNSW on PGlite keeps its end-to-end leg here.
    hosts.push(await createTestHost({ plugins: [], env: { ANVIL_DATASET_ROOTS: root, ANVIL_KB_STORE: 'pgvector' } }));
    hosts.push(await createTestHost({ plugins: [], env: { DATABASE_URL: db.url, ANVIL_DATASET_ROOTS: root } }));
    for (const host of hosts) {
      await call(host, 'kb_create', { name: 'man' });
      const { task } = await call<{ task: string }>(host, 'kb_ingest', { kb: 'man', path: path.join(root, 'corpus.jsonl') });
      for (;;) {
        const status = await call<{ state: string }>(host, 'kb_task', { task });
        if (status.state === 'succeeded') break;
        assert.notEqual(status.state, 'failed', JSON.stringify(status));
        await sleep(200);
      }
    }
  });
  after(async () => {
    for (const host of hosts) await host.close();
    await db?.drop();
    rmSync(root, { recursive: true, force: true });
  });

  test('lexical results and scores are identical; hybrid answers on both with their own store', async () => {
    type Search = { denseReady: boolean; results: Array<{ score: number; citation: { document: string; offsets: { start: number } } }> };
    const [embedded, postgres] = hosts as [TestHost, TestHost];
    for (const query of queries) {
      const a = await call<Search>(embedded, 'kb_search', { kb: 'man', query: query.text, k: 10, mode: 'lexical' });
      const b = await call<Search>(postgres, 'kb_search', { kb: 'man', query: query.text, k: 10, mode: 'lexical' });
      assert.deepEqual(b.results.map((r) => [r.citation.document, r.citation.offsets.start]), a.results.map((r) => [r.citation.document, r.citation.offsets.start]), query.text);
      b.results.forEach((r, i) => assert.ok(Math.abs(r.score - (a.results[i]?.score ?? NaN)) < 1e-6));
    }
    const stores = await Promise.all(hosts.map(async (host) => (await call<{ indexes: Array<{ store: string }> }>(host, 'kb_get', { kb: 'man' })).indexes.map((i) => i.store)));
    // Embedded loads pgvector when its package is installed (docs/storage.md) and was told to use it; Postgres here has no pgvector.
    assert.deepEqual(stores, [['pgvector'], ['pgarray']]);
    for (const host of hosts) {
      const hybrid = await call<Search>(host, 'kb_search', { kb: 'man', query: (queries[0] as { text: string }).text, k: 5 });
      assert.equal(hybrid.denseReady, true);
      assert.equal(hybrid.results.length, 5);
    }
  });
});
