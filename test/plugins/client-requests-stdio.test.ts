/**
 * ctx.elicit / ctx.sample end to end over stdio: a real `anvil serve --stdio` loading a fixture
 * plugin, driven by the 1.x SDK client that declares elicitation and sampling and answers them; a
 * 2.x client on MCP 2026-07-28 (no server-to-client requests) is refused with ANVIL_E_CLIENT_CAPABILITY.
 * (A client that declares nothing is refused the same way in-memory: test/plugins/client-requests.test.ts.)
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { Client as Client2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioTransport2 } from '@modelcontextprotocol/client/stdio';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { anvilCommand, childEnv, createHome, toOutcome, type TempHome } from '../support/anvil-process.ts';

const pluginModule = fileURLToPath(new URL('../fixtures/plugins/asks-client.ts', import.meta.url));

describe('server-to-client requests over stdio', () => {
  let stderr = '';
  const clients: Array<{ close(): Promise<void> }> = [];
  const homes: TempHome[] = [];

  after(async () => {
    await Promise.allSettled(clients.map((client) => client.close()));
    for (const home of homes) home.remove();
  });

  /** A server of its own per client: one home is one server (the home is locked while it runs). */
  const spawnArgs = async () => {
    const home = await createHome();
    homes.push(home);
    writeFileSync(path.join(home.home, 'anvil.config.json'), JSON.stringify({ plugins: [pluginModule] }));
    const { command, args } = anvilCommand(['serve', '--stdio']);
    return { command, args, env: childEnv({ ANVIL_HOME: home.home }), stderr: 'pipe' as const };
  };

  it('a 1.x client that declares elicitation and sampling is asked, and answers', async () => {
    const transport = new StdioClientTransport(await spawnArgs());
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const client = new Client({ name: 'stdio-asked', version: '1.0.0' }, { capabilities: { elicitation: {}, sampling: {} } });
    const asked: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request.params.message);
      return { action: 'accept', content: { confirm: true } };
    });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({ model: 'stdio-model', role: 'assistant', content: { type: 'text', text: 'pong' } }));
    await client.connect(transport);
    clients.push(client);
    const confirmed = toOutcome(await client.callTool({ name: 'asks_confirm', arguments: { what: 'the rollback' } }));
    assert.equal(confirmed.isError, false, `${confirmed.text}\n${stderr}`);
    assert.deepEqual(confirmed.structured, { action: 'accept', confirmed: true });
    assert.deepEqual(asked, ['Confirm the rollback?']);
    const sampled = toOutcome(await client.callTool({ name: 'asks_complete', arguments: { prompt: 'ping' } }));
    assert.deepEqual(sampled.structured, { model: 'stdio-model', text: 'pong' });
  });

  it('a 2.x client on MCP 2026-07-28 is refused: that revision has no server-to-client requests', async () => {
    const client = new Client2(
      { name: 'stdio-modern', version: '1.0.0' },
      { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { confirm: true } }));
    await client.connect(new StdioTransport2(await spawnArgs()));
    clients.push(client);
    assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
    const refused = toOutcome(await client.callTool({ name: 'asks_confirm', arguments: { what: 'x' } }));
    assert.equal(refused.isError, true);
    assert.match(refused.text, /^ANVIL_E_CLIENT_CAPABILITY: .*2026-07-28 has no server-to-client requests/);
  });
});
