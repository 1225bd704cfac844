/**
 * What Anvil answers to bad input, end to end: malformed and non-JSON-RPC bodies, unknown methods
 * and tools, invalid arguments, oversized bodies and DNS-rebinding attempts over raw HTTP (one
 * `--no-auth` server and one with keys), and bad command lines and configuration for the CLI.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AnvilServerProcess, type CliResult, type CreatedKey, createHome, isRecord, mcpPostHeaders, parseMessages, postMcp, type RawResponse, runCli, startAnvil, type TempHome } from '../support/anvil-process.ts';

/** The JSON-RPC error object of the only message in a response. */
function rpcError(response: RawResponse): { code: number; message: string; id: unknown } {
  assert.equal(response.messages.length, 1, `one JSON-RPC message expected: ${response.body}`);
  const message = response.messages[0];
  assert.ok(isRecord(message) && message.jsonrpc === '2.0' && isRecord(message.error), `a JSON-RPC error object expected: ${response.body}`);
  const { code, message: text } = message.error;
  assert.equal(typeof code, 'number', response.body);
  assert.equal(typeof text, 'string', response.body);
  assert.ok(String(text).length > 10, `a message a person can act on: ${response.body}`);
  return { code: code as number, message: String(text), id: message.id };
}

function rpcResult(response: RawResponse): Record<string, unknown> {
  assert.equal(response.status, 200, response.body);
  const message = response.messages[0];
  assert.ok(isRecord(message) && isRecord(message.result), `a JSON-RPC result expected: ${response.body}`);
  return message.result;
}

/** A request through node:http, which (unlike fetch) may set Host and stream without a length. */
function nodeRequest(
  url: URL,
  options: { method?: string; headers?: Record<string, string>; chunks?: string[] },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: options.method ?? 'POST', headers: options.headers ?? {} }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      response.on('error', reject);
    });
    request.on('error', reject);
    for (const chunk of options.chunks ?? []) request.write(chunk);
    request.end();
  });
}

const call = (id: number, name: string, args: unknown = {}) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

describe('bad input over HTTP', () => {
  let open: AnvilServerProcess;
  let secured: AnvilServerProcess;
  let key: CreatedKey;
  const started: AnvilServerProcess[] = [];
  const maxBody = 10_000;

  before(async () => {
    const results = await Promise.allSettled([startAnvil({ args: ['--no-auth'], env: { ANVIL_MAX_BODY_BYTES: String(maxBody) } }), startAnvil()]);
    for (const result of results) if (result.status === 'fulfilled') started.push(result.value);
    const [first, second] = results;
    if (first?.status !== 'fulfilled') throw first?.reason;
    if (second?.status !== 'fulfilled') throw second?.reason;
    open = first.value;
    secured = second.value;
    key = await secured.createKey('alpha', 'anvil:read');
  });

  after(async () => {
    await Promise.all(started.map((server) => server.dispose()));
  });

  it('stateless 2025-11-25 serving needs no initialize (with or without MCP-Protocol-Version)', async () => {
    const withHeader = await postMcp(open.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const tools = rpcResult(withHeader).tools;
    assert.ok(Array.isArray(tools) && tools.length >= 2, withHeader.body);
    const { ['mcp-protocol-version']: _omitted, ...bare } = mcpPostHeaders;
    const response = await fetch(open.mcpUrl, { method: 'POST', headers: bare, body: JSON.stringify(call(2, 'anvil_whoami')) });
    const body = await response.text();
    const withoutHeader: RawResponse = { status: response.status, headers: response.headers, body, messages: parseMessages(response.headers.get('content-type'), body) };
    const structured = rpcResult(withoutHeader).structuredContent;
    assert.ok(isRecord(structured));
    assert.equal(structured.principal, 'anonymous', '--no-auth serves every caller as anonymous');
  });

  it('malformed JSON is a 400 with a JSON-RPC parse error (-32700)', async () => {
    const response = await postMcp(open.mcpUrl, '{"jsonrpc":"2.0","id":1,"method":"tools/li');
    assert.equal(response.status, 400, response.body);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const error = rpcError(response);
    assert.equal(error.code, -32700);
    assert.match(error.message, /parse error/i);
    assert.equal(error.id, null);
  });

  it('bodies that are not a JSON-RPC message are a 400 invalid request (-32600)', async () => {
    for (const body of ['42', '"text"', 'null', '{}', '{"jsonrpc":"2.0"}', '[]', '{"jsonrpc":"1.0","id":1,"method":"ping"}']) {
      const response = await postMcp(open.mcpUrl, body);
      assert.equal(response.status, 400, `${body} -> ${response.status} ${response.body}`);
      assert.equal(rpcError(response).code, -32600, `${body} -> ${response.body}`);
    }
  });

  it('a JSON-RPC batch is answered per request or refused as a whole, never half', async (t) => {
    const response = await postMcp(open.mcpUrl, [
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
    ]);
    if (response.status === 200) {
      const ids = response.messages.map((message) => (isRecord(message) ? message.id : undefined)).sort();
      assert.deepEqual(ids, [1, 2], response.body);
      t.diagnostic('a 2-request batch is accepted (200) and each request answered as its own SSE event');
    } else {
      assert.equal(response.status, 400, response.body);
      rpcError(response);
      t.diagnostic(`a batch is refused: ${response.body}`);
    }
  });

  it('an unknown method is -32601', async () => {
    const response = await postMcp(open.mcpUrl, { jsonrpc: '2.0', id: 7, method: 'no/such/method' });
    assert.equal(response.status, 200, response.body);
    const error = rpcError(response);
    assert.equal(error.code, -32601);
    assert.equal(error.id, 7);
  });

  it('calling an unknown tool is a JSON-RPC error naming the tool', async () => {
    const response = await postMcp(open.mcpUrl, call(8, 'definitely_not_a_tool'));
    const error = rpcError(response);
    assert.equal(error.code, -32602);
    assert.match(error.message, /definitely_not_a_tool/);
  });

  it('invalid tool arguments are an isError result with ANVIL_E_INVALID_INPUT naming the field', async () => {
    const result = rpcResult(await postMcp(open.mcpUrl, call(9, 'anvil_status', { bogus: 1 })));
    assert.equal(result.isError, true);
    assert.ok(Array.isArray(result.content) && isRecord(result.content[0]));
    const text = String(result.content[0].text);
    assert.match(text, /^ANVIL_E_INVALID_INPUT: /);
    assert.match(text, /\bbogus\b/);
    assert.ok(isRecord(result._meta) && isRecord(result._meta['dev.anvil/error']), JSON.stringify(result));
    assert.equal(result._meta['dev.anvil/error'].code, 'ANVIL_E_INVALID_INPUT');
  });

  it('invalid prompt arguments are a JSON-RPC error naming the argument', async () => {
    const response = await postMcp(open.mcpUrl, { jsonrpc: '2.0', id: 10, method: 'prompts/get', params: { name: 'anvil_getting_started', arguments: { goal: 'x'.repeat(600) } } });
    const error = rpcError(response);
    assert.equal(error.code, -32602);
    assert.match(error.message, /^ANVIL_E_INVALID_INPUT: .*\bgoal\b/);
  });

  it('a body over the limit is 413, with or without Content-Length', async () => {
    const big = JSON.stringify(call(11, 'anvil_whoami', { padding: 'x'.repeat(maxBody * 2) }));
    const sized = await postMcp(open.mcpUrl, big);
    assert.equal(sized.status, 413, sized.body);
    assert.match(rpcError(sized).message, new RegExp(String(maxBody)));

    const chunked = await nodeRequest(open.mcpUrl, { headers: { ...mcpPostHeaders, 'transfer-encoding': 'chunked' }, chunks: [big.slice(0, 4_000), big.slice(4_000)] });
    assert.equal(chunked.status, 413, chunked.body);
  });

  it('a foreign Host header is 403 (DNS rebinding)', async () => {
    const response = await nodeRequest(open.mcpUrl, { headers: { ...mcpPostHeaders, host: 'evil.example:1234' }, chunks: [JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' })] });
    assert.equal(response.status, 403, response.body);
    assert.match(response.body, /evil\.example/);
    const health = await nodeRequest(new URL('/healthz', open.baseUrl), { method: 'GET', headers: { host: 'evil.example:1234' } });
    assert.equal(health.status, 403, 'the guard covers every route');
  });

  it('a foreign Origin is 403; a loopback Origin is served', async () => {
    const evil = await postMcp(open.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { origin: 'http://evil.example' });
    assert.equal(evil.status, 403, evil.body);
    assert.match(rpcError(evil).message, /evil\.example/);
    const local = await postMcp(open.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { origin: `http://localhost:${open.port}` });
    assert.equal(local.status, 200, local.body);
  });

  it('wrong Content-Type is 415 and an Accept without SSE is 406', async () => {
    const text = await postMcp(open.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'ping' }, { 'content-type': 'text/plain' });
    assert.equal(text.status, 415, text.body);
    rpcError(text);
    const accept = await postMcp(open.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'ping' }, { accept: 'application/json' });
    assert.equal(accept.status, 406, accept.body);
    rpcError(accept);
  });

  it('an unknown route is a 404 naming it', async () => {
    const response = await fetch(new URL('/nope', open.baseUrl));
    assert.equal(response.status, 404);
    const body: unknown = await response.json();
    assert.ok(isRecord(body));
    assert.match(String(body.error), /^ANVIL_E_NOT_FOUND: .*\/nope/);
  });

  it('with auth: nothing is parsed before the key is checked; after it, the same answers', async () => {
    const malformed = '{"jsonrpc":"2.0",';
    const anonymous = await postMcp(secured.mcpUrl, malformed);
    assert.equal(anonymous.status, 401, anonymous.body);
    assert.match(rpcError(anonymous).message, /^ANVIL_E_UNAUTHENTICATED: /);

    const keyed = await postMcp(secured.mcpUrl, malformed, { authorization: `Bearer ${key.key}` });
    assert.equal(keyed.status, 400, keyed.body);
    assert.equal(rpcError(keyed).code, -32700);

    const invalid = rpcResult(await postMcp(secured.mcpUrl, call(3, 'anvil_status', { bogus: 1 }), { authorization: `Bearer ${key.key}` }));
    assert.equal(invalid.isError, true);
  });

  it('with auth: the default body limit (4 MiB) answers 413 for a larger body', async () => {
    const limit = 4 * 1024 * 1024;
    const prefix = JSON.stringify(call(4, 'anvil_whoami', { padding: '' })).slice(0, -3);
    const body = `${prefix}${'x'.repeat(limit + 1 - prefix.length)}"}}}`;
    assert.ok(Buffer.byteLength(body) > limit);
    const response = await postMcp(secured.mcpUrl, body, { authorization: `Bearer ${key.key}` });
    assert.equal(response.status, 413, response.body.slice(0, 500));
    rpcError(response);
  });

  it('with auth: a foreign Host is refused before authentication', async () => {
    const response = await nodeRequest(secured.mcpUrl, { headers: { ...mcpPostHeaders, host: 'evil.example:1234' }, chunks: ['{}'] });
    assert.equal(response.status, 403, response.body);
  });
});

describe('bad command lines and configuration', () => {
  let scratch: TempHome | undefined;
  let env: Record<string, string>;
  const runs = new Map<string, Promise<CliResult>>();
  const run = (name: string) => {
    const result = runs.get(name);
    assert.ok(result, name);
    return result;
  };

  before(async () => {
    scratch = await createHome({ fresh: true });
    env = { ANVIL_HOME: path.join(scratch.home, 'home') };
    // All of them at once: each is a separate Node process, and none touches the others' state.
    runs.set('unsafe bind', runCli(['serve', '--http', '--no-auth', '--host', '0.0.0.0', '--port', '0'], env));
    runs.set('bad port env', runCli(['config', 'check'], { ...env, ANVIL_PORT: 'abc' }));
    runs.set('bad port flag', runCli(['serve', '--port', 'abc'], env));
    runs.set('unknown flag', runCli(['serve', '--http', '--bogus-flag'], env));
    runs.set('unknown keys flag', runCli(['keys', 'list', '--frobnicate'], env));
    runs.set('unknown command', runCli(['frobnicate'], env));
    runs.set('good config', runCli(['config', 'check', '--json'], { ...env, ANVIL_PORT: '7999' }));
  });

  after(async () => {
    await Promise.allSettled(runs.values());
    scratch?.remove();
  });

  it('--no-auth on a non-loopback host exits 2 with ANVIL_E_UNSAFE_BIND and never serves', async () => {
    const result = await run('unsafe bind');
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /ANVIL_E_UNSAFE_BIND/);
    assert.match(result.stderr, /0\.0\.0\.0/);
    assert.doesNotMatch(result.stderr, /serving MCP/);
  });

  it('`anvil config check` with ANVIL_PORT=abc exits 2 naming http.port and ANVIL_PORT', async () => {
    const result = await run('bad port env');
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /ANVIL_E_CONFIG_INVALID/);
    assert.match(result.stderr, /http\.port/);
    assert.match(result.stderr, /ANVIL_PORT/);
    assert.match(result.stderr, /"abc"/);
  });

  it('the same check passes for a valid value and reports where it came from', async () => {
    const result = await run('good config');
    assert.equal(result.code, 0, result.stderr);
    const parsed: unknown = JSON.parse(result.stdout);
    assert.ok(isRecord(parsed) && isRecord(parsed.config) && isRecord(parsed.config.http) && isRecord(parsed.sources));
    assert.equal(parsed.config.http.port, 7999);
    assert.equal(parsed.sources['http.port'], 'env ANVIL_PORT');
  });

  it('`anvil serve --port abc` exits 2', async () => {
    const result = await run('bad port flag');
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /ANVIL_E_USAGE: --port/);
  });

  it('unknown flags and commands exit 2 with usage', async () => {
    for (const [name, flag] of [
      ['unknown flag', '--bogus-flag'],
      ['unknown keys flag', '--frobnicate'],
    ] as const) {
      const result = await run(name);
      assert.equal(result.code, 2, `${name}: ${result.stderr}`);
      assert.match(result.stderr, /ANVIL_E_USAGE/, `${name}: ${result.stderr}`);
      assert.match(result.stderr, new RegExp(flag), `${name}: ${result.stderr}`);
    }
    const command = await run('unknown command');
    assert.equal(command.code, 2, command.stderr);
    assert.match(command.stderr, /Unknown command "frobnicate"/, command.stderr);
    assert.match(command.stderr, /Usage: anvil <command>/, command.stderr);
  });
});
