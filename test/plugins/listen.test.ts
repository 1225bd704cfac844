import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { definePlugin, z } from 'anvil/plugin';
import { loadConfig } from '../../server/config/load.ts';
import { silentLogger } from '../../server/log.ts';
import { startAnvilServer, type AnvilServer } from '../../server/server.ts';
import { createPgliteHome } from '../support/backends.ts';

const echo = definePlugin({
  id: 'echo',
  version: '1.0.0',
  register(ctx) {
    ctx.tool({
      name: 'say',
      description: 'Echoes its text.',
      input: z.object({ text: z.string() }),
      output: z.object({ text: z.string() }),
      async handler({ text }) {
        return { text };
      },
    });
  },
});

describe('tools/list_changed over stateless HTTP (2026-07-28 subscriptions/listen)', () => {
  let server: AnvilServer;
  let remove: () => void;
  before(async () => {
    const temp = await createPgliteHome();
    remove = temp.remove;
    const { config } = loadConfig({ env: { ANVIL_HOME: temp.home, ANVIL_PORT: '0' }, overrides: { http: { auth: false } } });
    server = await startAnvilServer({ config, log: silentLogger(), http: true, stdio: false, pluginBaseDir: temp.home, defaultMetrics: false, extraPlugins: [{ descriptor: echo }] });
  });
  after(async () => {
    await server?.shutdown('test done');
    remove?.();
  });

  it('a listening client hears that a plugin was switched off, and the list follows', async () => {
    const client = new Client({ name: 'listener', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.http?.url}/mcp`)));
    let changes = 0;
    let heard!: () => void;
    const notified = new Promise<void>((resolve) => {
      heard = resolve;
    });
    client.setNotificationHandler('notifications/tools/list_changed', () => {
      changes += 1;
      heard();
    });
    const subscription = await client.listen({ toolsListChanged: true });
    assert.ok((await client.listTools()).tools.some((tool) => tool.name === 'echo_say'));

    const off = await client.callTool({ name: 'anvil_plugins_disable', arguments: { plugin: 'echo' } });
    assert.equal(off.isError, undefined, JSON.stringify(off.content));
    await Promise.race([notified, new Promise((_, reject) => setTimeout(() => reject(new Error('no tools/list_changed within 5 s')), 5_000))]);
    assert.equal(changes, 1);
    assert.ok(!(await client.listTools()).tools.some((tool) => tool.name === 'echo_say'));
    await subscription.close();
    await client.close();
  });
});
