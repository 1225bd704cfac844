/**
 * The in-memory BM25 copy (knowledge/retrieval/bm25.ts) against the SQL leg (tools/knowledge/sql/bm25.sql)
 * on a real PGlite: the same postings give the same ranking and the same scores.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { Bm25Index, type PostingList } from '../../knowledge/retrieval/bm25.ts';
import { lexicalTokens } from '../../knowledge/text/fields.ts';
import { termCounts, tokenize } from '../../knowledge/text/tokenize.ts';

const KB = '00000000-0000-4000-8000-000000000001';
const words = ['refund', 'settlement', 'ledger', 'payout', 'invoice', 'mandate', 'dispute', 'webhook', 'currency', 'retry', 'limit', 'the', 'a', 'of', 'for'];

let db: PGlite;
const lists = new Map<string, { term: string; chunks: number[]; tfs: number[]; lengths: number[] }>();
let chunkCount = 0;
let tokenTotal = 0;

before(async () => {
  db = await PGlite.create();
  await db.exec('create schema kb; create table kb.postings (kb uuid not null, term text not null, chunk bigint not null, tf integer not null, length integer not null, primary key (kb, term, chunk));');
  // 300 chunks of pseudo-random text from a small vocabulary (common and rare words), with names.
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const rows: Array<[string, number, number, number]> = [];
  for (let chunk = 1; chunk <= 300; chunk += 1) {
    const text = Array.from({ length: 5 + Math.floor(next() * 60) }, () => words[Math.floor(next() ** 2 * words.length)] as string).join(' ');
    const tokens = lexicalTokens({ name: `doc-${chunk % 40}.md`, heading: [], text });
    chunkCount += 1;
    tokenTotal += tokens.length;
    for (const [term, tf] of termCounts(tokens)) {
      rows.push([term, chunk * 1000 + 3, tf, tokens.length]);
      let list = lists.get(term);
      if (!list) lists.set(term, (list = { term, chunks: [], tfs: [], lengths: [] }));
      list.chunks.push(chunk * 1000 + 3);
      list.tfs.push(tf);
      list.lengths.push(tokens.length);
    }
  }
  await db.query('insert into kb.postings select $1, t, c, f, l from unnest($2::text[], $3::bigint[], $4::int[], $5::int[]) as x(t, c, f, l)', [KB, rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3])]);
});
after(async () => {
  await db?.close();
});

test('the in-memory copy ranks and scores exactly like bm25.sql', async () => {
  const sql = readFileSync(new URL('../../tools/knowledge/sql/bm25.sql', import.meta.url), 'utf8').replaceAll('{{schema}}', 'kb');
  const index = Bm25Index.build([...lists.values()] as PostingList[]);
  const average = tokenTotal / chunkCount;
  for (const query of ['refund ledger', 'the settlement of a payout', 'webhook retries', 'doc 7 currency limit', 'nothing matches zzz']) {
    const terms = [...new Set(tokenize(query))];
    const fromSql = (await db.query<{ id: string; score: number }>(sql, [KB, terms, chunkCount, average, 25])).rows;
    const fromCopy = index.search(terms, chunkCount, average, 25);
    assert.deepEqual(fromCopy.map((hit) => hit.id), fromSql.map((row) => row.id), query);
    fromCopy.forEach((hit, i) => assert.ok(Math.abs(hit.score - Number(fromSql[i]?.score)) < 1e-9, `${query}: ${hit.score} vs ${String(fromSql[i]?.score)}`));
    if (query.includes('zzz')) continue;
    assert.ok(fromCopy.length > 0, query);
  }
});
