/**
 * `anvil serve --stdio` end to end: both MCP client generations spawn the real CLI through their
 * StdioClientTransport, and a hand-driven child proves stdout carries nothing but JSON-RPC.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Client as Client2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioTransport2 } from '@modelcontextprotocol/client/stdio';
import { Client as Client1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as StdioTransport1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { anvilCommand, assertEmbeddedStatusHealthy, childEnv, createHome, isRecord, type Sdk, type TempHome, type ToolOutcome, toOutcome } from '../support/anvil-process.ts';
import { coreMigrations } from '../../server/db/migrate.ts';

interface Listing {
  tools: string[];
}

/** The calls this file makes, over either client generation. */
interface StdioSession {
  protocolVersion(): string | undefined;
  listTools(): Promise<Listing>;
  callTool(name: string, args?: Record<string, unknown>): Promise<ToolOutcome>;
  readResource(uri: string): Promise<unknown>;
  getPrompt(name: string, args: Record<string, string>): Promise<unknown>;
  stderr(): string;
  pid(): number | null;
  close(): Promise<void>;
}

function names(result: unknown): Listing {
  assert.ok(isRecord(result) && Array.isArray(result.tools), 'tools/list returns { tools: [...] }');
  return { tools: result.tools.map((tool) => (isRecord(tool) ? String(tool.name) : '')) };
}

async function connectStdio(sdk: Sdk, home: string): Promise<StdioSession> {
  const { command, args } = anvilCommand(['serve', '--stdio']);
  const env = childEnv({ ANVIL_HOME: home });
  let stderr = '';
  const clientInfo = { name: `anvil-e2e-stdio-${sdk}`, version: '1.0.0' };
  if (sdk === 'sdk1') {
    const transport = new StdioTransport1({ command, args, env, stderr: 'pipe' });
    transport.stderr?.on('data', (chunk: Buffer | string) => (stderr += chunk.toString()));
    // The 1.x client hands the negotiated revision to transports that accept it; record it.
    let negotiated: string | undefined;
    Object.assign(transport, { setProtocolVersion: (version: string) => (negotiated = version) });
    const client = new Client1(clientInfo);
    await client.connect(transport).catch(async (error: unknown) => {
      await transport.close().catch(() => {});
      throw new Error(`1.x client could not connect over stdio: ${String(error)}; stderr:\n${stderr}`);
    });
    return {
      protocolVersion: () => negotiated,
      listTools: async () => names(await client.listTools()),
      callTool: async (name, toolArgs = {}) => toOutcome(await client.callTool({ name, arguments: toolArgs })),
      readResource: (uri) => client.readResource({ uri }),
      getPrompt: (name, promptArgs) => client.getPrompt({ name, arguments: promptArgs }),
      stderr: () => stderr,
      pid: () => transport.pid,
      close: () => client.close(),
    };
  }
  const transport = new StdioTransport2({ command, args, env, stderr: 'pipe' });
  transport.stderr?.on('data', (chunk: Buffer | string) => (stderr += chunk.toString()));
  const client = new Client2(clientInfo, { versionNegotiation: { mode: 'auto' } });
  await client.connect(transport).catch(async (error: unknown) => {
    await transport.close().catch(() => {});
    throw new Error(`2.x client could not connect over stdio: ${String(error)}; stderr:\n${stderr}`);
  });
  return {
    protocolVersion: () => client.getNegotiatedProtocolVersion(),
    listTools: async () => names(await client.listTools()),
    callTool: async (name, toolArgs = {}) => toOutcome(await client.callTool({ name, arguments: toolArgs })),
    readResource: (uri) => client.readResource({ uri }),
    getPrompt: (name, promptArgs) => client.getPrompt({ name, arguments: promptArgs }),
    stderr: () => stderr,
    pid: () => transport.pid,
    close: () => client.close(),
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const expectedEra: Record<Sdk, string> = { sdk1: '2025-11-25', sdk2: '2026-07-28' };

describe('anvil serve --stdio', () => {
  let home: TempHome;
  const spawnedPids: number[] = [];

  before(async () => {
    home = await createHome();
  });

  after(() => {
    for (const pid of spawnedPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    home?.remove();
  });

  for (const sdk of ['sdk1', 'sdk2'] as const) {
    it(`${sdk} client: tools, whoami, status, resource and prompt; ends on ${expectedEra[sdk]}`, async () => {
      const session = await connectStdio(sdk, home.home);
      const pid = session.pid();
      if (pid !== null) spawnedPids.push(pid);
      try {
        assert.equal(session.protocolVersion(), expectedEra[sdk]);

        const { tools } = await session.listTools();
        assert.ok(tools.includes('anvil_status'), `tools/list has anvil_status: ${tools.join(', ')}`);
        assert.ok(tools.includes('anvil_whoami'), `tools/list has anvil_whoami: ${tools.join(', ')}`);

        const whoami = await session.callTool('anvil_whoami');
        assert.equal(whoami.isError, false, whoami.text);
        assert.deepEqual(whoami.structured, { principal: 'local:local', kind: 'local', project: 'default', scopes: ['*'] });

        const status = await session.callTool('anvil_status');
        const structured = assertEmbeddedStatusHealthy(status);
        assert.deepEqual(structured.migrations, [{ scope: 'core', current: coreMigrations().migrations.length, latest: coreMigrations().migrations.length, pending: 0 }]);

        const invalid = await session.callTool('anvil_status', { bogus: 1 });
        assert.equal(invalid.isError, true);
        assert.match(invalid.text, /^ANVIL_E_INVALID_INPUT: .*bogus/);

        const resource = await session.readResource('anvil://server/about');
        assert.ok(isRecord(resource) && Array.isArray(resource.contents) && isRecord(resource.contents[0]), JSON.stringify(resource));
        const content = resource.contents[0];
        assert.equal(content.uri, 'anvil://server/about');
        assert.equal(content.mimeType, 'application/json');
        assert.equal(typeof content.text, 'string');
        const about: unknown = JSON.parse(String(content.text));
        assert.ok(isRecord(about));
        assert.equal(about.principal, 'local:local');
        assert.equal(about.project, 'default');
        assert.equal(about.storage, 'pglite');
        assert.equal(about.queue, 'bullmq-postgres');
        assert.match(String(about.version), /^\d+\.\d+\.\d+/);

        const prompt = await session.getPrompt('anvil_getting_started', { goal: 'train an intent classifier' });
        assert.ok(isRecord(prompt) && Array.isArray(prompt.messages) && isRecord(prompt.messages[0]), JSON.stringify(prompt));
        const message = prompt.messages[0];
        assert.equal(message.role, 'user');
        assert.ok(isRecord(message.content) && typeof message.content.text === 'string');
        assert.match(message.content.text, /local:local/);
        assert.match(message.content.text, /train an intent classifier/);

        assert.match(session.stderr(), /serving MCP on stdio/, 'the banner and logs go to stderr');
      } finally {
        await session.close();
      }
      if (pid !== null) {
        // The client closed stdin; the server must be gone (the transport SIGTERMs only after 2 s).
        for (let i = 0; i < 50 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
        assert.equal(isAlive(pid), false, `server pid ${pid} still runs after the client closed`);
      }
      assert.match(session.stderr(), /"reason":"stdin closed"/, 'the server shut down because stdin closed, not because it was signalled');
    });
  }

  it('stdout carries nothing but JSON-RPC, and closing stdin exits 0', async () => {
    const { command, args } = anvilCommand(['serve', '--stdio']);
    // Debug logging makes the server as chatty as it gets; all of it must land on stderr.
    const child = spawn(command, args, { env: childEnv({ ANVIL_HOME: home.home, ANVIL_LOG_LEVEL: 'debug' }), stdio: ['pipe', 'pipe', 'pipe'] });
    if (child.pid !== undefined) spawnedPids.push(child.pid);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const answered = new Map<number, unknown>();
    let waiter: (() => void) | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      for (const line of stdout.split('\n')) {
        try {
          const message: unknown = JSON.parse(line);
          if (isRecord(message) && typeof message.id === 'number') answered.set(message.id, message);
        } catch {
          // A partial line (or garbage, caught by the assertions below).
        }
      }
      waiter?.();
    });
    const waitFor = async (ids: number[], ms: number) => {
      const deadline = Date.now() + ms;
      while (!ids.every((id) => answered.has(id))) {
        if (Date.now() > deadline) throw new Error(`no answer to ids ${ids.filter((id) => !answered.has(id)).join(',')} within ${ms} ms; stderr:\n${stderr}`);
        await new Promise<void>((resolve) => {
          waiter = resolve;
          setTimeout(resolve, 200);
        });
      }
    };

    try {
      const send = (message: unknown) => child.stdin.write(`${typeof message === 'string' ? message : JSON.stringify(message)}\n`);
      send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1.0.0' } } });
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      // A line that is not JSON: the server must neither answer it on stdout with garbage nor die.
      send('this line is not JSON');
      send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'anvil_whoami', arguments: {} } });
      send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'anvil_status', arguments: {} } });
      send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'anvil_status', arguments: { bogus: 1 } } });
      send({ jsonrpc: '2.0', id: 5, method: 'no/such/method' });
      await waitFor([1, 2, 3, 4, 5], 60_000);

      child.stdin.end();
      let timer: NodeJS.Timeout | undefined;
      const { code, signal } = await Promise.race([
        exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no exit within 20 s of closing stdin; stderr:\n${stderr}`)), 20_000);
        }),
      ]).finally(() => clearTimeout(timer));
      assert.equal(signal, null);
      assert.equal(code, 0, `exit code after stdin closed; stderr:\n${stderr}`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }

    const lines = stdout.split('\n');
    assert.equal(lines.pop(), '', 'stdout ends with a newline-terminated message');
    assert.ok(lines.length >= 5, `at least the five answers on stdout, got:\n${stdout}`);
    for (const line of lines) {
      let message: unknown;
      assert.doesNotThrow(() => (message = JSON.parse(line)), `stdout line is not JSON: ${line}`);
      assert.ok(isRecord(message), `stdout line is not a JSON object: ${line}`);
      assert.equal(message.jsonrpc, '2.0', `stdout line is not JSON-RPC 2.0: ${line}`);
      const isResponse = 'id' in message && ('result' in message || 'error' in message);
      const isNotificationOrRequest = typeof message.method === 'string';
      assert.ok(isResponse || isNotificationOrRequest, `stdout line is neither a response nor a request/notification: ${line}`);
    }

    const initialize = answered.get(1);
    assert.ok(isRecord(initialize) && isRecord(initialize.result), JSON.stringify(initialize));
    assert.equal(initialize.result.protocolVersion, '2025-11-25');
    const whoami = answered.get(2);
    assert.ok(isRecord(whoami) && isRecord(whoami.result));
    assert.deepEqual(whoami.result.structuredContent, { principal: 'local:local', kind: 'local', project: 'default', scopes: ['*'] });
    const status = answered.get(3);
    assert.ok(isRecord(status) && isRecord(status.result) && isRecord(status.result.structuredContent));
    assert.ok(isRecord(status.result.structuredContent.storage));
    assert.equal(status.result.structuredContent.storage.kind, 'pglite');
    const invalid = toOutcome(isRecord(answered.get(4)) ? (answered.get(4) as Record<string, unknown>).result : undefined);
    assert.equal(invalid.isError, true);
    assert.match(invalid.text, /^ANVIL_E_INVALID_INPUT: .*bogus/);
    const unknown = answered.get(5);
    assert.ok(isRecord(unknown) && isRecord(unknown.error), JSON.stringify(unknown));
    assert.equal(unknown.error.code, -32601);

    // What the server said to people went to stderr: the banner and structured (pino) log lines.
    assert.match(stderr, /Anvil \S+ serving MCP on stdio/);
    assert.match(stderr, /"msg":"anvil serving"/);
    assert.match(stderr, /"msg":"stopped"/);
  });
});
