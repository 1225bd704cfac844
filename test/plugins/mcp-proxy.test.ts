/**
 * The built-in mcp-proxy plugin against real upstream MCP servers (test/fixtures/upstream-mcp-server.ts):
 * one started by the proxy over stdio, one the test starts over HTTP behind a token header, and
 * one that cannot be reached. Everything goes through a real Anvil (createTestHost) and MCP client.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createTestHost, flatten, type TestHost } from 'anvil/testing';
import { expandEnv, mcpProxyConfig } from '../../tools/mcp-proxy/config.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const fixture = fileURLToPath(new URL('../fixtures/upstream-mcp-server.ts', import.meta.url));
const TOKEN_VAR = 'ANVIL_TEST_MCP_PROXY_TOKEN';
const GREETING_VAR = 'ANVIL_TEST_MCP_PROXY_GREETING';

/** Starts the fixture over HTTP on a free port; resolves with its /mcp URL. */
async function startHttpUpstream(token: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, '--http', '--port', '0'], {
    cwd: repoRoot,
    env: { ...process.env, UPSTREAM_TOKEN: token },
    // Its stdin is a pipe from this process: if this process dies, the upstream exits too.
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the HTTP upstream did not start within 15 s: ${stderr}`)), 15_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening (http:\/\/\S+)/.exec(stderr);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the HTTP upstream exited with ${code}: ${stderr}`));
    });
  });
  return { child, url };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface StatusEntry {
  name: string;
  transport: string;
  connected: boolean;
  tools: number;
  reconnects: number;
  lastError: string | null;
  era: string | null;
}

describe('mcp-proxy: upstream MCP servers mounted as Anvil tools', () => {
  let host: TestHost | undefined;
  let httpUpstream: ChildProcess | undefined;
  const stdioPids = new Set<number>();
  const savedEnv = { token: process.env[TOKEN_VAR], greeting: process.env[GREETING_VAR] };

  before(async () => {
    const token = `tok-${process.pid}-${Date.now()}`;
    const started = await startHttpUpstream(token);
    httpUpstream = started.child;
    // The config names variables; the values live only in this (Anvil's) process environment.
    process.env[TOKEN_VAR] = token;
    process.env[GREETING_VAR] = 'hello from the environment';
    host = await createTestHost({
      plugins: [],
      config: {
        plugins: [
          {
            id: 'mcp-proxy',
            config: {
              servers: {
                up: {
                  command: process.execPath,
                  args: ['--import', 'tsx', fixture, '--stdio'],
                  cwd: repoRoot,
                  env: { FIXTURE_GREETING: `\${${GREETING_VAR}}` },
                  timeoutMs: 15_000,
                },
                web: { url: started.url, headers: { 'x-upstream-token': `\${${TOKEN_VAR}}` }, tools: ['echo', 'add', 'sleep', 'nope'], timeoutMs: 1_000 },
                down: { url: 'http://127.0.0.1:1/mcp', timeoutMs: 5_000 },
                // A 1.x SDK server speaks only the 2025 revisions: negotiation falls back to initialize.
                old: { command: process.execPath, args: ['--import', 'tsx', fixture, '--stdio', '--sdk1'], cwd: repoRoot, scopes: ['legacy:read'] },
              },
            },
          },
        ],
      },
    });
  });

  after(async () => {
    // Record the stdio child the proxy runs now, so that a failed close cannot leave it behind.
    for (const tool of ['up_pid', 'old_pid']) {
      const pid = host ? (await host.call(tool).catch(() => undefined))?.structured?.pid : undefined;
      if (typeof pid === 'number') stdioPids.add(pid);
    }
    try {
      await host?.close();
    } finally {
      httpUpstream?.kill('SIGKILL');
      for (const each of stdioPids) if (isAlive(each)) process.kill(each, 'SIGKILL');
      if (savedEnv.token === undefined) delete process.env[TOKEN_VAR];
      else process.env[TOKEN_VAR] = savedEnv.token;
      if (savedEnv.greeting === undefined) delete process.env[GREETING_VAR];
      else process.env[GREETING_VAR] = savedEnv.greeting;
    }
  });

  function running(): TestHost {
    assert.ok(host, 'the test host did not start');
    return host;
  }

  it('lists the stdio upstream tools as <name>_<tool>, described and annotated, with their input schema', async () => {
    const { tools } = await running().client.listTools();
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    for (const name of ['up_echo', 'up_add', 'up_fail', 'up_pid', 'up_env', 'up_sleep', 'up_crash', 'proxy_status']) assert.ok(byName.has(name), `${name} missing from ${[...byName.keys()].join(', ')}`);
    const add = byName.get('up_add');
    assert.equal(add?.description, '[up] Adds two numbers.');
    assert.deepEqual(add?.annotations, { readOnlyHint: true });
    assert.deepEqual(add?.inputSchema.required, ['a', 'b']);
    assert.equal(add?.outputSchema, undefined);
  });

  it('round-trips calls: text, structured content, and the upstream environment given as ${VAR}', async () => {
    const echo = await running().call('up_echo', { text: 'hi there' });
    assert.equal(echo.isError, false, echo.text);
    assert.equal(echo.text, 'hi there');
    assert.deepEqual(echo.structured, { text: 'hi there' });
    const sum = await running().call('up_add', { a: 2, b: 40 });
    assert.deepEqual(sum.structured, { sum: 42 });
    const env = await running().call('up_env', { name: 'FIXTURE_GREETING' });
    assert.deepEqual(env.structured, { value: 'hello from the environment' });
    // Only what the config gives (plus PATH, HOME and the like) reaches the child, not Anvil's whole environment.
    assert.deepEqual((await running().call('up_env', { name: TOKEN_VAR })).structured, { value: null });
  });

  it('refuses invalid arguments itself, naming the field, before anything reaches the upstream', async () => {
    const refused = await running().call('up_add', { a: 'two', b: 2 });
    assert.equal(refused.isError, true);
    assert.match(refused.text, /^ANVIL_E_INVALID_INPUT: Invalid arguments for up_add: a: must be number/);
    const missing = await running().call('up_echo', {});
    assert.match(missing.text, /^ANVIL_E_INVALID_INPUT: .*text/);
  });

  it('passes an upstream tool error through as an isError result', async () => {
    const failed = await running().call('up_fail');
    assert.equal(failed.isError, true);
    assert.equal(failed.text, 'upstream says no');
  });

  it('keeps the tools from a principal without the scope: not listed, and refused as ANVIL_E_FORBIDDEN', async () => {
    const narrow = await running().connect({ scopes: ['anvil:read'] });
    const names = (await narrow.listTools()).tools.map((tool) => tool.name);
    assert.ok(!names.some((name) => name.startsWith('up_') || name.startsWith('web_')), names.join(', '));
    assert.ok(names.includes('proxy_status'), names.join(', '));
    const refused = flatten(await narrow.callTool({ name: 'up_echo', arguments: { text: 'x' } }));
    assert.equal(refused.isError, true);
    assert.match(refused.text, /^ANVIL_E_FORBIDDEN: up_echo requires scope up:write/);

    const upOnly = await running().connect({ scopes: ['up:write'] });
    const visible = (await upOnly.listTools()).tools.map((tool) => tool.name);
    assert.ok(visible.includes('up_echo') && !visible.includes('web_echo'), visible.join(', '));
    assert.equal(flatten(await upOnly.callTool({ name: 'up_echo', arguments: { text: 'ok' } })).text, 'ok');
  });

  it('stops waiting for the upstream when the caller cancels', async () => {
    const controller = new AbortController();
    const call = running().client.callTool({ name: 'up_sleep', arguments: { ms: 5_000 } }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    await assert.rejects(call);
    await running().server.runtime.audit.flush();
    const deadline = Date.now() + 3_000;
    let rows: Array<{ outcome: string; duration_ms: number }> = [];
    while (rows.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await running().server.runtime.audit.flush();
      ({ rows } = await running().server.runtime.services.storage.query<{ outcome: string; duration_ms: number }>(
        "select outcome, duration_ms from anvil.audit_log where tool = 'up_sleep'",
      ));
    }
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.outcome, 'error');
    assert.ok((rows[0]?.duration_ms ?? Infinity) < 2_000, `the proxied call ran ${rows[0]?.duration_ms} ms`);
  });

  it('records every call in the audit log, with the upstream tool it went to', async () => {
    await running().server.runtime.audit.flush();
    const { rows } = await running().server.runtime.services.storage.query<{ tool: string; outcome: string; error_code: string | null; details: Record<string, unknown> | null }>(
      "select tool, outcome, error_code, details from anvil.audit_log where tool like 'up\\_%' order by at",
    );
    const seen = rows.map((row) => `${row.tool}:${row.outcome}:${row.error_code ?? '-'}`);
    for (const expected of ['up_echo:ok:-', 'up_add:ok:-', 'up_env:ok:-', 'up_add:error:ANVIL_E_INVALID_INPUT', 'up_fail:error:-', 'up_echo:denied:ANVIL_E_FORBIDDEN']) {
      assert.ok(seen.includes(expected), `${expected} not in ${seen.join(', ')}`);
    }
    const add = rows.find((row) => row.tool === 'up_add' && row.outcome === 'ok');
    assert.deepEqual(add?.details, { upstream: 'up', upstreamTool: 'add' });
    // The refused call never reached the handler, so nothing was forwarded.
    const invalid = rows.find((row) => row.error_code === 'ANVIL_E_INVALID_INPUT');
    assert.equal(invalid?.details ?? null, null);
  });

  it('restarts a stdio upstream whose process died, on the next call', async () => {
    const before = await running().call('up_pid');
    const pid = before.structured?.pid;
    assert.equal(typeof pid, 'number', before.text);
    stdioPids.add(pid as number);
    process.kill(pid as number, 'SIGKILL');
    const after = await running().call('up_pid');
    assert.equal(after.isError, false, after.text);
    const next = after.structured?.pid;
    assert.equal(typeof next, 'number');
    assert.notEqual(next, pid);
    stdioPids.add(next as number);
    assert.equal(isAlive(pid as number), false);
    const status = (await running().call('proxy_status')).structured?.upstreams as StatusEntry[];
    const up = status.find((entry) => entry.name === 'up');
    assert.equal(up?.connected, true);
    assert.equal(up?.reconnects, 1);
  });

  it('reports a call that lost its connection without repeating it (it may have run), then works again', async () => {
    const crashed = await running().call('up_crash');
    assert.equal(crashed.isError, true);
    assert.match(crashed.text, /^ANVIL_E_UPSTREAM_FAILED: upstream up lost its connection during crash .*not repeated/);
    const pid = (await running().call('up_pid')).structured?.pid;
    assert.equal(typeof pid, 'number');
    stdioPids.add(pid as number);
  });

  it('restarts an upstream known to be down before the call, for any tool', async () => {
    const pid = (await running().call('up_pid')).structured?.pid as number;
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 5_000;
    let up: StatusEntry | undefined;
    do {
      await new Promise((resolve) => setTimeout(resolve, 25));
      up = ((await running().call('proxy_status')).structured?.upstreams as StatusEntry[]).find((entry) => entry.name === 'up');
    } while (up?.connected !== false && Date.now() < deadline);
    assert.equal(up?.connected, false);
    assert.match(up?.lastError ?? '', /process exited/);
    // `fail` is not marked read-only or idempotent: it runs because the connection was down before the call.
    const failed = await running().call('up_fail');
    assert.equal(failed.text, 'upstream says no');
    const next = (await running().call('up_pid')).structured?.pid as number;
    assert.notEqual(next, pid);
    stdioPids.add(next);
  });

  it('mounts a 2025-era upstream (1.x SDK) through version negotiation', async () => {
    const echo = await running().call('old_echo', { text: 'from 2025' });
    assert.equal(echo.isError, false, echo.text);
    assert.deepEqual(echo.structured, { text: 'from 2025' });
    const pid = (await running().call('old_pid')).structured?.pid;
    if (typeof pid === 'number') stdioPids.add(pid);
    const narrow = await running().connect({ scopes: ['legacy:read'] });
    const names = (await narrow.listTools()).tools.map((tool) => tool.name);
    assert.deepEqual(names.filter((name) => name.startsWith('old_')).sort(), ['old_echo', 'old_pid']);
  });

  it('mounts the HTTP upstream (token header from ${VAR}), within its tools allowlist', async () => {
    const names = (await running().client.listTools()).tools.map((tool) => tool.name).filter((name) => name.startsWith('web_'));
    assert.deepEqual(names.sort(), ['web_add', 'web_echo', 'web_sleep']);
    const echo = await running().call('web_echo', { text: 'over http' });
    assert.equal(echo.isError, false, echo.text);
    assert.deepEqual(echo.structured, { text: 'over http' });
    assert.deepEqual((await running().call('web_add', { a: 1, b: 2 })).structured, { sum: 3 });
  });

  it('starts without an unreachable upstream, and proxy_status reports each upstream', async () => {
    const names = (await running().client.listTools()).tools.map((tool) => tool.name);
    assert.ok(!names.some((name) => name.startsWith('down_')), names.join(', '));
    const status = await running().call('proxy_status');
    assert.equal(status.isError, false, status.text);
    const upstreams = status.structured?.upstreams as Array<StatusEntry & { skipped: string[]; target: string }>;
    assert.deepEqual(
      upstreams.map((entry) => [entry.name, entry.transport, entry.connected, entry.tools]),
      [
        ['up', 'stdio', true, 8], // echo, add, fail, pid, env, sleep, crash, grow
        ['web', 'http', true, 3],
        ['down', 'http', false, 0],
        ['old', 'stdio', true, 2],
      ],
      JSON.stringify(upstreams),
    );
    assert.deepEqual(
      upstreams.map((entry) => entry.era),
      ['modern', 'modern', null, 'legacy'],
    );
    const down = upstreams.find((entry) => entry.name === 'down');
    assert.match(down?.lastError ?? '', /fetch failed|ECONNREFUSED/);
    const web = upstreams.find((entry) => entry.name === 'web');
    assert.equal(web?.lastError, null);
    assert.deepEqual(web?.skipped, ['nope: in the tools allowlist, but the upstream does not offer it']);
    // Status never shows header values.
    assert.ok(!JSON.stringify(status.structured).includes(process.env[TOKEN_VAR] ?? '<none>'));
  });

  it('answers ANVIL_E_UPSTREAM_FAILED when an upstream does not answer within its timeoutMs', async () => {
    const started = Date.now();
    const late = await running().call('web_sleep', { ms: 3_000 });
    assert.equal(late.isError, true);
    assert.equal(late.text, 'ANVIL_E_UPSTREAM_FAILED: upstream web did not answer sleep within 1000 ms');
    assert.ok(Date.now() - started < 2_500);
    const web = ((await running().call('proxy_status')).structured?.upstreams as StatusEntry[]).find((entry) => entry.name === 'web');
    assert.equal(web?.lastError, 'upstream web did not answer sleep within 1000 ms');
    assert.equal(web?.connected, true);
  });

  it('answers ANVIL_E_UPSTREAM_FAILED when an upstream cannot be reached again', async () => {
    httpUpstream?.kill('SIGKILL');
    await new Promise((resolve) => httpUpstream?.once('exit', resolve));
    const failed = await running().call('web_echo', { text: 'anyone?' });
    assert.equal(failed.isError, true);
    assert.match(failed.text, /^ANVIL_E_UPSTREAM_FAILED: upstream web /);
    // The stdio upstream is unaffected.
    assert.equal((await running().call('up_echo', { text: 'still here' })).text, 'still here');
  });
});

describe('mcp-proxy configuration', () => {
  function problems(servers: Record<string, unknown>): string {
    const parsed = mcpProxyConfig.safeParse({ servers });
    return parsed.success ? 'ok' : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
  }

  it('tells stdio from HTTP servers by their keys, with defaults', () => {
    const parsed = mcpProxyConfig.parse({ servers: { files: { command: 'mcp-files' }, remote: { url: 'https://example.com/mcp', tools: ['search'] } } });
    assert.deepEqual(parsed.servers.files, {
      connection: { transport: 'stdio', command: 'mcp-files', args: [], env: {}, cwd: undefined },
      scopes: undefined,
      tools: undefined,
      timeoutMs: 60_000,
      refreshMs: 60_000,
      reconnectMaxMs: 60_000,
    });
    assert.equal(parsed.servers.remote?.connection.transport, 'http');
  });

  it('names the key of each mistake', () => {
    assert.match(problems({ Bad: { command: 'x' } }), /^servers\.Bad: server names are/);
    assert.match(problems({ anvil: { command: 'x' } }), /reserved/);
    assert.match(problems({ both: { command: 'x', url: 'http://h/mcp' } }), /^servers\.both\.url: give either command .* or url/);
    assert.match(problems({ none: { args: [] } }), /^servers\.none\.command: required/);
    assert.match(problems({ web: { url: 'http://h/mcp', env: { A: 'b' } } }), /^servers\.web\.env: env applies to stdio servers/);
    assert.match(problems({ cli: { command: 'x', headers: { a: 'b' } } }), /^servers\.cli\.headers: headers apply to HTTP servers/);
    assert.match(problems({ web: { url: 'ftp://h/mcp' } }), /^servers\.web\.url: expected an http/);
    assert.match(problems({ cli: { command: 'x', scopes: ['cli:run'] } }), /^servers\.cli\.scopes\.0: expected a scope/);
    assert.match(problems({ cli: { command: 'x', extra: 1 } }), /extra/);
  });

  it('expands ${VAR} from the environment, refuses unset ones without showing any value, and keeps $${ literal', () => {
    const env = { TOKEN: 's3cret' };
    assert.equal(expandEnv('Bearer ${TOKEN}', 'servers.a.headers.authorization', env), 'Bearer s3cret');
    assert.equal(expandEnv('cost: $${TOKEN}', 'x', env), 'cost: ${TOKEN}');
    assert.throws(() => expandEnv('${MISSING}', 'servers.a.env.KEY', env), /^Error: servers\.a\.env\.KEY references \$\{MISSING\}, which is not set in Anvil's environment$/);
    assert.throws(() => expandEnv('${not valid}', 'servers.a.env.KEY', env), /not a valid environment variable reference/);
  });
});
