/**
 * notifications/tools/list_changed over stdio, end to end: a real `anvil serve --stdio` loading a
 * fixture plugin from ANVIL_HOME/anvil.config.json, the 1.x SDK client. Switching the plugin off
 * for the project notifies the client and removes its tools from the next tools/list; switching it
 * back on notifies again and restores them.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { anvilCommand, childEnv, createHome, type TempHome } from '../support/anvil-process.ts';

const pluginModule = fileURLToPath(new URL('../fixtures/plugins/other.ts', import.meta.url));

/** Counts list_changed notifications and lets a test wait for the next one. */
class ChangeWatcher {
  count = 0;
  private waiters: Array<() => void> = [];

  seen(): void {
    this.count += 1;
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves once more than `already` notifications have arrived; rejects after `timeoutMs`. */
  async after(already: number, timeoutMs = 5_000): Promise<void> {
    if (this.count > already) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no notifications/tools/list_changed within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

describe('tools/list_changed over stdio', () => {
  let home: TempHome;
  let client: Client;
  let transport: StdioClientTransport;
  let stderr = '';
  const changes = new ChangeWatcher();

  const toolNames = async () => (await client.listTools()).tools.map((tool) => tool.name);
  const call = async (name: string, args: Record<string, unknown>) => {
    const result = await client.callTool({ name, arguments: args });
    assert.notEqual(result.isError, true, JSON.stringify(result.content));
    return result;
  };

  before(async () => {
    home = await createHome();
    writeFileSync(path.join(home.home, 'anvil.config.json'), JSON.stringify({ plugins: [pluginModule] }));
    const { command, args } = anvilCommand(['serve', '--stdio']);
    transport = new StdioClientTransport({ command, args, env: childEnv({ ANVIL_HOME: home.home }), stderr: 'pipe' });
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    client = new Client({ name: 'anvil-list-changed-test', version: '1.0.0' });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => changes.seen());
    await client.connect(transport);
  });

  after(async () => {
    await client?.close().catch(() => {});
    home?.remove();
  });

  it('advertises tools.listChanged', () => {
    assert.equal(client.getServerCapabilities()?.tools?.listChanged, true);
  });

  it('notifies when a plugin is switched off, and the next tools/list lacks its tools', async () => {
    const before = await toolNames();
    assert.ok(before.includes('other_one') && before.includes('other_two'), `${before.join(', ')}\n${stderr}`);
    const seen = changes.count;
    await call('anvil_plugins_disable', { plugin: 'other' });
    await changes.after(seen);
    const now = await toolNames();
    assert.ok(!now.some((name) => name.startsWith('other_')), now.join(', '));
    assert.ok(now.includes('anvil_plugins_enable'), now.join(', '));
  });

  it('notifies again when it is switched back on, and the tools return', async () => {
    const seen = changes.count;
    await call('anvil_plugins_enable', { plugin: 'other' });
    await changes.after(seen);
    const now = await toolNames();
    assert.ok(now.includes('other_one') && now.includes('other_two'), now.join(', '));
  });
});
