import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { definePlugin, z } from 'anvil/plugin';
import { loadConfig } from '../../server/config/load.ts';
import { openEmbeddedStorage } from '../../server/db/embedded.ts';
import { silentLogger } from '../../server/log.ts';
import { startAnvilServer } from '../../server/server.ts';
import { createPgliteHome } from '../support/backends.ts';

/** Resolves the waiters of a marker once the handler for that marker runs (the call is in flight). */
const entered = new Map<string, () => void>();
function inFlight(marker: string): Promise<void> {
  return new Promise((resolve) => entered.set(marker, resolve));
}

const testPlugin = definePlugin({
  id: 'test',
  version: '1.0.0',
  permissions: ['sql'],
  register(ctx) {
    ctx.migrations(new URL('./fixtures/shutdown-migrations/', import.meta.url));
    ctx.tool({
      name: 'slow',
      description: 'Sleeps, then writes a row: stands in for a call that is in flight at shutdown.',
      input: z.object({ ms: z.number().int().min(0).max(10_000), marker: z.string() }),
      output: z.object({ marker: z.string(), aborted: z.boolean() }),
      async handler({ ms, marker }, { sql, signal }) {
        entered.get(marker)?.();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          });
        });
        await sql.query('insert into {{schema}}.marks values ($1)', [marker]);
        return { marker, aborted: signal.aborted };
      },
    });
  },
});

const homes: Array<{ remove(): void }> = [];
after(() => homes.forEach((home) => home.remove()));

async function start(graceMs: number) {
  const created = await createPgliteHome();
  homes.push(created);
  const { home } = created;
  const { config } = loadConfig({ env: { ANVIL_HOME: home, ANVIL_PORT: '0', ANVIL_SHUTDOWN_GRACE_MS: String(graceMs) }, overrides: { http: { auth: false } } });
  const server = await startAnvilServer({ config, log: silentLogger(), extraPlugins: [{ descriptor: testPlugin, permissions: ['sql'] }], pluginBaseDir: home, http: true, stdio: false, defaultMetrics: false });
  const client = new Client({ name: 'shutdown-test', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${server.http?.url}/mcp`)));
  return { home, server, client };
}

async function marks(home: string): Promise<string[]> {
  const storage = await openEmbeddedStorage({ home, role: 'command' });
  try {
    const audit = await storage.query<{ tool: string; outcome: string }>("select tool, outcome from anvil.audit_log where tool = 'test_slow'");
    const rows = await storage.query<{ marker: string }>('select marker from plugin_test.marks order by marker');
    return [...rows.rows.map((row) => row.marker), ...audit.rows.map((row) => `audit:${row.outcome}`)];
  } finally {
    await storage.close();
  }
}

describe('graceful shutdown', () => {
  it('finishes in-flight calls, refuses new ones, and loses no write', async () => {
    const { home, server, client } = await start(5_000);
    const running = inFlight('finished');
    const inflight = client.callTool({ name: 'test_slow', arguments: { ms: 400, marker: 'finished' } });
    // Shutdown starts once the call runs (a fixed sleep lost the race on a loaded machine).
    await running;
    const stopping = server.shutdown('test');
    const refused = await client.callTool({ name: 'anvil_whoami', arguments: {} }).then(
      (late) => (late.isError ? JSON.stringify(late.content) : 'accepted'),
      (error: unknown) => String(error),
    );
    assert.notEqual(refused, 'accepted', 'a call arriving after shutdown began is refused');
    const result = await inflight;
    assert.equal(result.isError, undefined);
    assert.deepEqual(result.structuredContent, { marker: 'finished', aborted: false });
    await stopping;
    await client.close().catch(() => {});
    assert.deepEqual(await marks(home), ['finished', 'audit:ok']);
  });

  it('aborts calls still running when the grace period ends', async () => {
    const { home, server, client } = await start(100);
    const running = inFlight('aborted');
    const inflight = client.callTool({ name: 'test_slow', arguments: { ms: 5_000, marker: 'aborted' } });
    await running;
    const started = Date.now();
    await server.shutdown('test');
    assert.ok(Date.now() - started < 3_000, 'shutdown is bounded by the grace period');
    await inflight.catch(() => undefined);
    await client.close().catch(() => {});
    // The handler saw the abort and still wrote its row and audit entry before storage closed.
    assert.deepEqual(await marks(home), ['aborted', 'audit:ok']);
  });
});
