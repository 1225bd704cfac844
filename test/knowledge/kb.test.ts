/**
 * Knowledge bases end to end through an MCP client on an in-process Anvil (embedded PGlite): a PDF,
 * a DOCX, an HTML page and a Markdown file written by the test; citations whose text equals the
 * source slice and name the right page; re-ingest as a no-op; an edit replacing chunks; removal;
 * reindex while searching; another project seeing nothing; bad input.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { createTestHost, flatten, type CallOutcome, type TestHost } from 'anvil/testing';
import { docx, pdfWithPages } from './files.ts';

function ok<T>(outcome: CallOutcome): T {
  assert.equal(outcome.isError, false, outcome.text);
  return outcome.structured as T;
}

interface Result {
  quote: { text: string; source: string };
  citation: { document: string; page: number | null; offsets: { start: number; end: number }; uri: string; headingPath: string[] };
  ranks: { lexical: number | null; dense: number | null };
}

const topics = ['refunds', 'chargebacks', 'settlement', 'payouts', 'invoices', 'mandates', 'ledger', 'disputes', 'webhooks', 'currencies', 'retries', 'limits'];

describe('knowledge bases', () => {
  let host: TestHost;
  let root: string;
  const file = (name: string, content: string | Buffer) => {
    const full = path.join(root, name);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, content);
    return full;
  };
  const waitTask = async (task: string, call = (args: Record<string, unknown>) => host.call('kb_task', args)) => {
    for (let i = 0; i < 600; i += 1) {
      const status = ok<{ state: string; result: Record<string, unknown> | null; error: unknown }>(await call({ task }));
      if (status.state === 'succeeded' || status.state === 'failed') return status;
      await sleep(100);
    }
    throw new Error(`task ${task} did not finish`);
  };
  const search = async (kb: string, query: string, extra: Record<string, unknown> = {}) => ok<{ results: Result[]; denseReady: boolean }>(await host.call('kb_search', { kb, query, ...extra }));
  const documentText = async (kb: string, id: string) => {
    const read = await host.client.readResource({ uri: `anvil://kb/${kb}/documents/${encodeURIComponent(id)}` });
    return (read.contents[0] as { text: string }).text;
  };

  before(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'anvil-kb-'));
    host = await createTestHost({ plugins: [], env: { ANVIL_DATASET_ROOTS: root } });
  });
  after(async () => {
    await host?.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('PDF, DOCX, HTML and Markdown: citations equal the source slice and name the page', async () => {
    ok(await host.call('kb_create', { name: 'docs' }));
    file('docs/policy.pdf', pdfWithPages(['Welcome to the payments handbook.', 'Refunds are issued within fourteen days of a valid claim.']));
    file('docs/runbook.docx', docx('Incident runbook', ['Page the on-call engineer when the settlement batch fails.', 'Escalate after thirty minutes.']));
    file('docs/api.html', '<html><body><h1>API limits</h1><p>Each key may send 600 requests per minute.</p><table><tr><th>Plan</th><th>Quota</th></tr><tr><td>Basic</td><td>1000</td></tr></table></body></html>');
    file('docs/guide.md', '# Guide\n\nIntro text.\n\n## Webhooks\n\nWebhooks retry with exponential backoff for three days.\n\n- one\n- two\n');
    file('docs/ignored.bin', Buffer.from([0, 1, 2]));
    const { task } = ok<{ task: string }>(await host.call('kb_ingest', { kb: 'docs', path: path.join(root, 'docs') }));
    const done = await waitTask(task);
    assert.equal(done.state, 'succeeded', JSON.stringify(done));
    assert.equal((done.result as { added: number }).added, 4);

    const refunds = await search('docs', 'how long do refunds take', { mode: 'lexical' });
    const top = refunds.results[0] as Result;
    assert.equal(top.citation.document, 'policy.pdf');
    assert.equal(top.citation.page, 2);
    assert.match(top.citation.uri, /^anvil:\/\/kb\/docs\/documents\/policy\.pdf#chars=\d+-\d+$/);
    const pdfText = await documentText('docs', 'policy.pdf');
    assert.equal(pdfText.slice(top.citation.offsets.start, top.citation.offsets.end), top.quote.text);
    assert.match(top.quote.text, /fourteen days/);

    for (const [query, document, heading] of [
      ['settlement batch fails on-call', 'runbook.docx', 'Incident runbook'],
      ['requests per minute quota', 'api.html', 'API limits'],
      ['webhooks exponential backoff', 'guide.md', 'Webhooks'],
    ] as const) {
      const hit = (await search('docs', query)).results[0] as Result;
      assert.equal(hit.citation.document, document, query);
      assert.ok(hit.citation.headingPath.includes(heading), `${query}: ${JSON.stringify(hit.citation.headingPath)}`);
      assert.equal((await documentText('docs', document)).slice(hit.citation.offsets.start, hit.citation.offsets.end), hit.quote.text);
    }
    const md = (await search('docs', 'webhooks exponential backoff')).results[0] as Result;
    const source = '# Guide\n\nIntro text.\n\n## Webhooks\n\nWebhooks retry with exponential backoff for three days.\n\n- one\n- two\n';
    assert.equal(source.slice(md.citation.offsets.start, md.citation.offsets.end), md.quote.text, 'Markdown offsets index the file itself');
    const table = (await search('docs', 'Basic plan quota', { mode: 'lexical' })).results[0] as Result;
    assert.match(table.quote.text, /Basic\s+1000/, 'the HTML table keeps its rows');

    // Re-ingest: nothing changes. An edit replaces the document's chunks.
    const again = await waitTask(ok<{ task: string }>(await host.call('kb_ingest', { kb: 'docs', path: path.join(root, 'docs') })).task);
    assert.deepEqual([(again.result as { added: number }).added, (again.result as { updated: number }).updated, (again.result as { unchanged: number }).unchanged], [0, 0, 4]);
    file('docs/guide.md', '# Guide\n\n## Webhooks\n\nWebhooks now retry with linear backoff for one day.\n');
    const edited = await waitTask(ok<{ task: string }>(await host.call('kb_ingest', { kb: 'docs', path: path.join(root, 'docs', 'guide.md') })).task);
    assert.equal((edited.result as { updated: number }).updated, 1);
    assert.equal((await search('docs', 'exponential', { mode: 'lexical' })).results.length, 0, 'old chunks are gone');
    assert.equal(((await search('docs', 'linear backoff', { mode: 'lexical' })).results[0] as Result).citation.document, 'guide.md');

    ok(await host.call('kb_remove_document', { kb: 'docs', document: 'guide.md' }));
    assert.equal((await search('docs', 'linear backoff webhooks')).results.filter((r) => r.citation.document === 'guide.md').length, 0);
    const got = ok<{ documents: number; documentList: Array<{ id: string }> }>(await host.call('kb_get', { kb: 'docs' }));
    assert.equal(got.documents, 3);
  });

  test('a JSONL corpus trains the built-in embedder; reindex keeps answering; eval tunes fusion no worse than lexical', async () => {
    ok(await host.call('kb_create', { name: 'corpus' }));
    const lines = topics.flatMap((topic, t) =>
      Array.from({ length: 4 }, (_, i) => JSON.stringify({ id: `${topic}-${i}`, text: `The ${topic} service handles ${topic} case ${i}. Operators review ${topic} queues daily and escalate stuck ${topic} items. Note ${t * 10 + i}.`, team: t % 2 === 0 ? 'red' : 'blue' })),
    );
    file('corpus.jsonl', lines.join('\n') + '\n');
    const done = await waitTask(ok<{ task: string }>(await host.call('kb_ingest', { kb: 'corpus', path: path.join(root, 'corpus.jsonl') })).task);
    assert.equal(done.state, 'succeeded', JSON.stringify(done));
    assert.equal((done.result as { embedder: { state: string } }).embedder.state, 'trained');
    const dense = await search('corpus', 'payouts queues', { mode: 'dense', k: 3 });
    assert.equal(dense.denseReady, true);
    assert.ok(dense.results.length > 0);
    const filtered = await search('corpus', 'refunds service', { filter: { team: 'blue' }, k: 10 });
    assert.ok(filtered.results.every((r) => !r.citation.document.startsWith('refunds')), 'refunds is team red');

    const before = ok<{ denseIndex: string }>(await host.call('kb_get', { kb: 'corpus' })).denseIndex;
    const { task } = ok<{ task: string }>(await host.call('kb_reindex', { kb: 'corpus', embedder: { kind: 'builtin', dimensions: 32 } }));
    let searches = 0;
    for (;;) {
      const status = ok<{ state: string }>(await host.call('kb_task', { task }));
      const hits = await search('corpus', 'settlement service');
      assert.ok(hits.results.length > 0, 'search answers during reindex');
      searches += 1;
      if (status.state === 'succeeded') break;
      assert.notEqual(status.state, 'failed');
    }
    assert.ok(searches >= 1);
    const afterIndex = ok<{ denseIndex: string; indexes: Array<{ id: string }> }>(await host.call('kb_get', { kb: 'corpus' }));
    assert.notEqual(afterIndex.denseIndex, before);
    assert.deepEqual(afterIndex.indexes.map((i) => i.id), [afterIndex.denseIndex], 'the old index is gone');

    // An ingest into a knowledge base with an active dense index embeds the new chunks in the same transaction.
    file('more.jsonl', JSON.stringify({ id: 'extra-1', text: 'Operators review ledger and payouts queues daily, then escalate stuck items.', team: 'red' }) + '\n');
    const more = { kb: 'corpus', path: path.join(root, 'more.jsonl'), idempotencyKey: 'more-1' };
    const first = ok<{ task: string; replayed: boolean }>(await host.call('kb_ingest', more));
    const replay = ok<{ task: string; replayed: boolean }>(await host.call('kb_ingest', more));
    assert.deepEqual([replay.task, replay.replayed], [first.task, true], 'a retry with the same key returns the first task');
    assert.equal((await waitTask(first.task)).state, 'succeeded');
    // The filter on the document id leaves only the new chunk: found by the dense leg only if it has a vector.
    const denseHit = (await search('corpus', 'ledger payouts queues', { mode: 'dense', k: 1, filter: { document: 'extra-1' } })).results[0] as Result;
    assert.equal(denseHit?.citation.document, 'extra-1');

    const queries = topics.map((topic) => ({ id: topic, text: `${topic} queues`, relevant: [0, 1, 2, 3].map((i) => `${topic}-${i}`) }));
    const evaluation = ok<{ modes: Record<string, { ndcg10: number }>; fusion: { best: { ndcg10: number }; stored: boolean } }>(await host.call('kb_eval', { kb: 'corpus', queries }));
    assert.ok(evaluation.fusion.best.ndcg10 >= (evaluation.modes.lexical as { ndcg10: number }).ndcg10);
    const answer = ok<{ mode: string; answer: string; citations: unknown[] }>(await host.call('kb_answer', { kb: 'corpus', question: 'who reviews ledger queues?' }));
    assert.equal(answer.mode, 'extractive');
    assert.match(answer.answer, /^Extractive answer/);
    assert.ok(answer.citations.length > 0);
  });

  test('another project sees nothing, not even counts', async () => {
    const other = await host.connect({ project: 'other' });
    const call = async (name: string, args: Record<string, unknown>) => flatten(await other.callTool({ name, arguments: args }));
    for (const [tool, args] of [
      ['kb_search', { kb: 'docs', query: 'refunds' }],
      ['kb_answer', { kb: 'docs', question: 'refunds' }],
      ['kb_eval', { kb: 'docs', queries: [{ id: 'q', text: 'refunds', relevant: ['policy.pdf'] }] }],
      ['kb_get', { kb: 'docs' }],
      ['kb_ingest', { kb: 'docs', path: root }],
      ['kb_remove_document', { kb: 'docs', document: 'policy.pdf' }],
    ] as const) {
      const outcome = await call(tool, args);
      assert.equal(outcome.isError, true, tool);
      assert.match(outcome.text, /ANVIL_E_NOT_FOUND/, tool);
      assert.doesNotMatch(outcome.text, /\d+ (chunks|documents)/, tool);
    }
    assert.deepEqual((await call('kb_list', {})).structured, { knowledgeBases: [], nextCursor: null });
    await assert.rejects(other.readResource({ uri: 'anvil://kb/docs/documents/policy.pdf' }));
    assert.equal(((await search('docs', 'refunds')).results.length > 0), true, 'the owner still finds it');
  });

  test('bad input: corrupt PDF, zero-text, unknown format, over-size, traversal; the rest of the folder ingests', async () => {
    ok(await host.call('kb_create', { name: 'bad' }));
    file('bad/corrupt.pdf', Buffer.from('%PDF-1.4\nthis is not really a pdf'));
    file('bad/empty.md', '   \n\n');
    file('bad/good.txt', 'The only good document talks about reconciliation.');
    file('bad/binary.txt', Buffer.from([0xff, 0xfe, 0x00, 0x81]));
    const done = await waitTask(ok<{ task: string }>(await host.call('kb_ingest', { kb: 'bad', path: path.join(root, 'bad') })).task);
    const result = done.result as { added: number; failed: Array<{ file: string; message: string }> };
    assert.equal(result.added, 1);
    assert.deepEqual(result.failed.map((f) => f.file).sort(), ['binary.txt', 'corrupt.pdf', 'empty.md']);
    assert.match(result.failed.find((f) => f.file === 'corrupt.pdf')?.message ?? '', /corrupt\.pdf: not a readable PDF/);
    assert.match(result.failed.find((f) => f.file === 'empty.md')?.message ?? '', /no text/);
    assert.equal((await search('bad', 'reconciliation')).results.length, 1);
    assert.equal((await search('bad', 'really pdf', { mode: 'lexical' })).results.length, 0, 'nothing of a failed file is visible');

    const unknown = file('notes.xyz', 'hello');
    const u = await waitTask(ok<{ task: string }>(await host.call('kb_ingest', { kb: 'bad', path: unknown })).task);
    assert.match(JSON.stringify(u.result), /notes\.xyz: unsupported format/);

    const big = file('big.txt', '');
    const handle = await import('node:fs/promises').then((fs) => fs.open(big, 'r+'));
    await handle.truncate(200 * 1024 * 1024);
    await handle.close();
    const b = await waitTask(ok<{ task: string }>(await host.call('kb_ingest', { kb: 'bad', path: big })).task);
    assert.match(JSON.stringify(b.result), /big\.txt: the file is 200 MB, over the 100 MB limit/);

    const traversal = await host.call('kb_ingest', { kb: 'bad', path: path.join(root, '..', '..', 'etc', 'passwd') });
    assert.equal(traversal.isError, true);
    assert.match(traversal.text, /ANVIL_E_FORBIDDEN.*outside the allowed directories/);
    const badName = await host.call('kb_create', { name: '../x' });
    assert.equal(badName.isError, true);
    assert.match(badName.text, /name/);
  });
});
