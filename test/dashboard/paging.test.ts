/**
 * Server-side paging of the dashboard's detail lists, through the dashboard's own API
 * (`POST /ui/api/call/:tool` as a signed-in session) on embedded PGlite: 120 documents of a
 * knowledge base, 120 versions of a model and its alias history are walked page by page with the
 * tools' cursors, and every row comes back exactly once; another project sees none of it and
 * cannot use the first project's cursors.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createTestHost, type TestHost } from 'anvil/testing';
import { modelsPlugin } from '../../tools/models/index.ts';
import type { ModelRegistry } from '../../tools/models/registry.ts';

const ORIGIN = 'http://127.0.0.1';
const SCOPES = ['knowledge:read', 'knowledge:write', 'models:read'];
const ROWS = 120;
const SHA = 'c'.repeat(64);

interface Session {
  cookie: string;
  csrf: string;
}

describe('dashboard lists page on the server', () => {
  let host: TestHost;
  let root: string;
  let registry: ModelRegistry;
  let alpha: Session;
  let beta: Session;

  const signIn = async (project: string): Promise<Session> => {
    const response = await host.request('/ui/api/session', { method: 'POST', as: { project, scopes: SCOPES }, headers: { origin: ORIGIN } });
    assert.equal(response.status, 200, await response.clone().text());
    const body = (await response.json()) as { csrf: string };
    return { cookie: /anvil_session=([^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[0] ?? '', csrf: body.csrf };
  };
  const call = async (session: Session, tool: string, args: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await host.request(`/ui/api/call/${tool}`, {
      method: 'POST',
      as: null,
      headers: { cookie: session.cookie, origin: ORIGIN, 'content-type': 'application/json', 'x-anvil-csrf': session.csrf },
      body: JSON.stringify({ arguments: args }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const result = async (session: Session, tool: string, args: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const answer = await call(session, tool, args);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body.result as Record<string, unknown>;
  };
  /** Every row of a listing, page by page: the keys in order and how many pages it took. */
  const walk = async (session: Session, tool: string, args: Record<string, unknown>, rowsOf: (page: Record<string, unknown>) => unknown[], cursorOf: (page: Record<string, unknown>) => unknown, keyOf: (row: Record<string, unknown>) => string) => {
    const keys: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await result(session, tool, { ...args, ...(cursor ? { cursor } : {}) });
      pages += 1;
      keys.push(...(rowsOf(page) as Array<Record<string, unknown>>).map(keyOf));
      const next = cursorOf(page);
      assert.ok(next === null || typeof next === 'string', `cursor: ${JSON.stringify(next)}`);
      cursor = next ?? undefined;
      assert.ok(pages <= ROWS, 'the cursor must end');
    } while (cursor);
    return { keys, pages };
  };

  before(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'anvil-dash-paging-'));
    host = await createTestHost({ plugins: [], env: { ANVIL_DATASET_ROOTS: root }, config: { jobs: { localWorker: 'off' } } });
    const exported = host.server.plugins.exportsOf(modelsPlugin);
    if (!exported) throw new Error('the models plugin is not active');
    registry = exported.registry();
    alpha = await signIn('alpha');
    beta = await signIn('beta');
  });
  after(async () => {
    await host?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('walks 120 documents of a knowledge base 25 at a time, each exactly once; kb_list pages by name', async () => {
    const ids = Array.from({ length: ROWS }, (_, index) => `doc-${String(index).padStart(3, '0')}`);
    const corpus = path.join(root, 'corpus.jsonl');
    writeFileSync(corpus, ids.map((id, index) => JSON.stringify({ id, text: `Document ${index} explains topic ${index % 7} for paging.` })).join('\n') + '\n');
    for (const kb of ['docs', 'beta-notes', 'archive']) await result(alpha, 'kb_create', { name: kb });
    const { task } = (await result(alpha, 'kb_ingest', { kb: 'docs', path: corpus })) as { task: string };
    for (let tries = 0; ; tries += 1) {
      const status = (await result(alpha, 'kb_task', { task })) as { state: string };
      if (status.state === 'succeeded') break;
      assert.notEqual(status.state, 'failed', JSON.stringify(status));
      assert.ok(tries < 600, 'ingest did not finish');
      await sleep(100);
    }

    const documents = await walk(alpha, 'kb_get', { kb: 'docs', limit: 25 }, (page) => page.documentList as unknown[], (page) => page.documentsNextCursor, (row) => String(row.id));
    assert.equal(documents.pages, 5, '120 documents: four pages of 25 and one of 20');
    assert.equal(new Set(documents.keys).size, documents.keys.length, 'no document twice');
    assert.deepEqual([...documents.keys].sort(), ids);

    const kbs = await walk(alpha, 'kb_list', { limit: 2 }, (page) => page.knowledgeBases as unknown[], (page) => page.nextCursor, (row) => String(row.name));
    assert.deepEqual(kbs.keys, ['archive', 'beta-notes', 'docs']);
    assert.equal(kbs.pages, 2);

    // Another project: none of it, and alpha's cursor does not open alpha's rows.
    const first = await result(alpha, 'kb_get', { kb: 'docs', limit: 25 });
    const cursor = first.documentsNextCursor as string;
    assert.deepEqual((await result(beta, 'kb_list', { limit: 2 })).knowledgeBases, []);
    assert.equal((await call(beta, 'kb_get', { kb: 'docs', limit: 25, cursor })).status, 404);
    await result(beta, 'kb_create', { name: 'docs' });
    const refused = await call(beta, 'kb_get', { kb: 'docs', limit: 25, cursor });
    assert.equal(refused.status, 400, 'a cursor of another knowledge base is refused');
    assert.match(JSON.stringify(refused.body), /cursor/);
  });

  it('walks 120 versions of a model and its alias history, each exactly once, newest first', async () => {
    for (let index = 0; index < ROWS; index += 1) {
      await registry.registerVersion('alpha', {
        name: 'paged',
        task: 'text-classification',
        recipe: 'text-classifier-finetune',
        metrics: { accuracy: index / ROWS },
        signature: { inputs: [{ name: 'text', type: 'string' }], outputs: [{ name: 'label', type: 'string' }], labels: ['a', 'b'] },
        lineage: { dataset: null, jobId: null, codeVersion: null, params: {} },
        artifacts: [{ name: 'model.onnx', sha256: SHA, size: 1, mediaType: 'application/onnx' }],
        createdBy: 'local:test',
      });
    }
    const versions = await walk(alpha, 'models_list', { name: 'paged', limit: 25 }, (page) => (page.versions as unknown[]) ?? [], (page) => page.nextCursor, (row) => String(row.version));
    assert.equal(versions.pages, 5);
    assert.deepEqual(versions.keys.map(Number), Array.from({ length: ROWS }, (_, index) => ROWS - index), 'v120 … v1, each once');

    for (let index = 1; index <= 30; index += 1) await registry.setAlias('alpha', 'paged', index % 2 ? 'champion' : 'challenger', index, 'local:test', `move ${index}`);
    const history = await walk(alpha, 'models_alias_history', { name: 'paged', limit: 7 }, (page) => page.changes as unknown[], (page) => page.nextCursor, (row) => String(row.reason));
    assert.equal(history.pages, 5, '30 changes: four pages of 7 and one of 2');
    assert.deepEqual(history.keys, Array.from({ length: 30 }, (_, index) => `move ${30 - index}`));

    assert.equal((await call(beta, 'models_list', { name: 'paged', limit: 25 })).status, 404);
    assert.equal((await call(beta, 'models_alias_history', { name: 'paged', limit: 7 })).status, 404);
  });
});
