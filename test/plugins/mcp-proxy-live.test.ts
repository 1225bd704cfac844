/**
 * mcp-proxy keeps up with its upstreams after start, through a real `anvil serve --stdio` (a real
 * MCP client that receives notifications) and real upstream processes
 * (test/fixtures/upstream-mcp-server.ts):
 * - a stdio upstream adds a tool and announces it (notifications/tools/list_changed): Anvil mounts
 *   it and tells its own clients;
 * - an HTTP upstream that is down when Anvil starts comes up later: Anvil reconnects (backoff) and
 *   mounts its tools; a tool it adds later (stateless HTTP cannot announce it) is found by the
 *   periodic re-list.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { anvilCommand, childEnv, createHome, repoRoot, type TempHome, toOutcome, track } from '../support/anvil-process.ts';

const fixture = fileURLToPath(new URL('../fixtures/upstream-mcp-server.ts', import.meta.url));

/** A port nothing listens on now (bound, then released). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('mcp-proxy picks up what upstreams add after Anvil started', () => {
  let home: TempHome;
  let client: Client;
  let port = 0;
  let late: ChildProcess | undefined;
  /** The tool lists this client fetched on each notifications/tools/list_changed. */
  const pushed: string[][] = [];

  before(async () => {
    home = await createHome();
    port = await freePort();
    writeFileSync(
      path.join(home.home, 'anvil.config.json'),
      JSON.stringify({
        plugins: [
          {
            id: 'mcp-proxy',
            config: {
              servers: {
                // refreshMs 0: only its notification can tell Anvil about a new tool.
                grow: { command: process.execPath, args: ['--import', 'tsx', fixture, '--stdio'], cwd: repoRoot, refreshMs: 0, scopes: ['anvil:read'] },
                late: { url: `http://127.0.0.1:${port}/mcp`, refreshMs: 500, reconnectMaxMs: 1_000, scopes: ['anvil:read'] },
              },
            },
          },
        ],
      }),
    );
    const { command, args } = anvilCommand(['serve', '--stdio']);
    // The 1.x client (what most assistants embed) on a 2025-11-25 connection, where Anvil pushes
    // notifications/tools/list_changed; on each, the client lists the tools again, as clients do.
    client = new Client({ name: 'mcp-proxy-live', version: '1.0.0' });
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      pushed.push((await client.listTools()).tools.map((tool) => tool.name));
    });
    await client.connect(new StdioClientTransport({ command, args, env: childEnv({ ANVIL_HOME: home.home }), stderr: 'ignore' }), { timeout: 120_000 });
  });

  after(async () => {
    await client?.close().catch(() => {});
    late?.kill('SIGTERM');
    home?.remove();
  });

  const names = async () => (await client.listTools()).tools.map((tool) => tool.name);
  const call = async (name: string, args: Record<string, unknown> = {}) => toOutcome(await client.callTool({ name, arguments: args }));

  it('mounts the stdio upstream (reconnecting if it was slow to start) while the HTTP one is down, reported by proxy_status', async () => {
    // On a loaded machine the stdio upstream may miss its 20 s connection bound at start: it is then
    // retried in the background, which this waits for.
    const tools = await until('grow_echo', async () => {
      const listed = await names();
      return listed.includes('grow_echo') ? listed : undefined;
    }, 180_000);
    assert.ok(tools.includes('grow_grow'), tools.join(', '));
    assert.ok(!tools.some((name) => name.startsWith('late_')), tools.join(', '));
    const status = await call('proxy_status');
    const upstreams = status.structured?.upstreams as Array<{ name: string; connected: boolean; lastError: string | null }>;
    assert.equal(upstreams.find((item) => item.name === 'late')?.connected, false);
  });

  it('a tool the stdio upstream adds and announces is mounted, and clients are told', async () => {
    const before = pushed.length;
    const grown = await call('grow_grow', { name: 'later' });
    assert.equal(grown.isError, false, grown.text);
    await until('grow_later in a pushed tool list', async () => (pushed.slice(before).some((list) => list.includes('grow_later')) ? true : undefined));
    assert.ok((await names()).includes('grow_later'));
    const answer = await call('grow_later');
    assert.deepEqual(answer.structured, { name: 'later' });
  });

  it('an HTTP upstream that comes up after start is connected (backoff) and its tools mounted; clients are told', async () => {
    const before = pushed.length;
    late = spawn(process.execPath, ['--import', 'tsx', fixture, '--http', '--port', String(port)], { cwd: repoRoot, env: { ...process.env }, stdio: ['pipe', 'ignore', 'ignore'] });
    track(late);
    await until('late_echo in a pushed tool list', async () => (pushed.slice(before).some((list) => list.includes('late_echo')) ? true : undefined));
    const echo = await call('late_echo', { text: 'up now' });
    assert.deepEqual(echo.structured, { text: 'up now' });
    const status = await call('proxy_status');
    const upstreams = status.structured?.upstreams as Array<{ name: string; connected: boolean; tools: number }>;
    const entry = upstreams.find((item) => item.name === 'late');
    assert.equal(entry?.connected, true);
    assert.ok((entry?.tools ?? 0) >= 8, JSON.stringify(entry));
  });

  it('a tool the HTTP upstream adds later (it cannot announce it) is found by the periodic re-list', async () => {
    const before = pushed.length;
    const grown = await call('late_grow', { name: 'extra' });
    assert.equal(grown.isError, false, grown.text);
    await until('late_extra in a pushed tool list', async () => (pushed.slice(before).some((list) => list.includes('late_extra')) ? true : undefined));
    assert.deepEqual((await call('late_extra')).structured, { name: 'extra' });
  });
});
