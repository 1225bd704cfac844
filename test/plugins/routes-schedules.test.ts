/**
 * ctx.route and ctx.every through the harness: third-party routes live under /api/<id>/, need a
 * credential with their scopes, and map AnvilErrors to statuses; `public` is for built-ins only.
 * Scheduled work runs from onReady, one run at a time, survives a throwing run, and can be run on
 * demand by a test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AnvilError, definePlugin, ErrorCodes } from 'anvil/plugin';
import { createTestHost, type TestHost } from 'anvil/testing';

let ticks = 0;
let concurrent = 0;
let maxConcurrent = 0;
let failNext = false;
let fastTicks = 0;

const counter = definePlugin({
  id: 'counter',
  version: '1.0.0',
  register(ctx) {
    ctx.route({
      method: 'GET',
      path: '/api/counter/whoami',
      scopes: ['counter:read'],
      handler: (c) => c.json({ project: c.get('principal').project, requestId: c.get('requestId') }),
    });
    ctx.route({
      method: 'POST',
      path: '/api/counter/items/:id',
      scopes: ['counter:write'],
      handler: async (c) => {
        if (c.req.param('id') === 'missing') throw new AnvilError(ErrorCodes.NOT_FOUND, 'no item missing');
        return c.json({ id: c.req.param('id'), body: (await c.req.json()) as unknown }, 201);
      },
    });
    ctx.every('slow', 3_600_000, async () => {
      concurrent += 1;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      try {
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (failNext) {
          failNext = false;
          throw new Error('this run fails');
        }
        ticks += 1;
      } finally {
        concurrent -= 1;
      }
    });
    ctx.every('fast', 20, () => {
      fastTicks += 1;
    });
  },
});

const outsidePath = definePlugin({
  id: 'outside-path',
  version: '1.0.0',
  register(ctx) {
    ctx.route({ method: 'GET', path: '/v2/models', handler: (c) => c.json({}) });
  },
});

const wantsPublic = definePlugin({
  id: 'wants-public',
  version: '1.0.0',
  register(ctx) {
    ctx.route({ method: 'GET', path: '/api/wants-public/open', public: true, handler: (c) => c.json({}) });
  },
});

describe('ctx.route and ctx.every through the test harness', () => {
  let host: TestHost;

  before(async () => {
    host = await createTestHost({ plugins: [counter, outsidePath, wantsPublic] });
  });
  after(() => host?.close());

  test('a third-party route outside /api/<id>/, or public, refuses the plugin', () => {
    const reports = host.server.plugins.reports;
    const outside = reports.find((report) => report.id === 'outside-path');
    assert.equal(outside?.status, 'failed');
    assert.match(outside?.error?.message ?? '', /\/v2\/models must start with \/api\/outside-path\//);
    const open = reports.find((report) => report.id === 'wants-public');
    assert.equal(open?.status, 'failed');
    assert.match(open?.error?.message ?? '', /only built-in plugins may serve routes without a credential/);
    assert.equal(reports.find((report) => report.id === 'counter')?.status, 'active');
  });

  test('a route answers the caller with its principal; no credential is 401, missing scopes 403', async () => {
    const ok = await host.request('/api/counter/whoami', { as: { project: 'alpha', scopes: ['counter:read'] } });
    assert.equal(ok.status, 200);
    const body = (await ok.json()) as { project: string; requestId: string };
    assert.equal(body.project, 'alpha');
    assert.ok(body.requestId.length > 0);

    const anonymous = await host.request('/api/counter/whoami', { as: null });
    assert.equal(anonymous.status, 401);
    const narrow = await host.request('/api/counter/whoami', { as: { project: 'alpha', scopes: ['anvil:read'] } });
    assert.equal(narrow.status, 403);
    const readOnly = await host.request('/api/counter/items/a', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' }, as: { scopes: ['counter:read'] } });
    assert.equal(readOnly.status, 403);
  });

  test('a thrown AnvilError becomes {error: {code, message}} with the status of its code', async () => {
    const created = await host.request('/api/counter/items/a1', { method: 'POST', body: JSON.stringify({ n: 1 }), headers: { 'content-type': 'application/json' } });
    assert.equal(created.status, 201);
    assert.deepEqual(await created.json(), { id: 'a1', body: { n: 1 } });
    const missing = await host.request('/api/counter/items/missing', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(missing.status, 404);
    const error = (await missing.json()) as { error: { code: string; message: string } };
    assert.equal(error.error.code, 'ANVIL_E_NOT_FOUND');
    assert.equal(error.error.message, 'no item missing');
  });

  test('scheduled work runs on its own from onReady, repeatedly', async () => {
    const deadline = Date.now() + 30_000;
    while (fastTicks < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(fastTicks >= 3, `the 20 ms schedule ran ${fastTicks} times`);
  });

  test('runScheduled runs the work now, never two runs at once; a throwing run rejects and the schedule goes on', async () => {
    const before = ticks;
    await Promise.all([host.runScheduled('counter', 'slow'), host.runScheduled('counter', 'slow'), host.runScheduled('counter', 'slow')]);
    assert.equal(ticks, before + 3);
    assert.equal(maxConcurrent, 1, 'runs of one schedule never overlap');

    failNext = true;
    await assert.rejects(host.runScheduled('counter', 'slow'), /this run fails/);
    await host.runScheduled('counter', 'slow');
    assert.equal(ticks, before + 4);
    await assert.rejects(host.runScheduled('counter', 'nope'), (error: unknown) => (error as { code?: string }).code === 'ANVIL_E_NOT_FOUND');
  });
});
