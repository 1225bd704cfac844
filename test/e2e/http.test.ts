/**
 * `anvil serve --http` with API keys, end to end: the real CLI as a child process, keys made with
 * `anvil keys create` while the server runs (attaching through its embedded-database socket), both
 * MCP client generations, raw HTTP for status codes and challenges, the audit trail read back
 * from the data dir after a SIGTERM, and a restart on the same home.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openEmbeddedStorage } from '../../server/db/embedded.ts';
import { type AnvilServerProcess, assertEmbeddedStatusHealthy, connectHttp, type CreatedKey, createHome, isRecord, postMcp, sdks, startAnvil, type TempHome, withHttpSession } from '../support/anvil-process.ts';

const whoamiRequest = (id = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'anvil_whoami', arguments: {} } });

/** The first JSON-RPC message of a raw response, which must be a result carrying `structuredContent`. */
function structuredOf(messages: unknown[]): Record<string, unknown> {
  const message = messages[0];
  assert.ok(isRecord(message) && isRecord(message.result) && isRecord(message.result.structuredContent), JSON.stringify(messages));
  return message.result.structuredContent;
}

function errorOf(body: string): { code: unknown; message: string } {
  const parsed: unknown = JSON.parse(body);
  assert.ok(isRecord(parsed) && isRecord(parsed.error), `expected a JSON-RPC error body, got ${body}`);
  assert.equal(parsed.jsonrpc, '2.0');
  return { code: parsed.error.code, message: String(parsed.error.message) };
}

interface AuditRow {
  request_id: string;
  principal: string;
  project_id: string;
  tool: string;
  args_sha256: string;
  outcome: string;
  error_code: string | null;
  duration_ms: number;
  transport: string;
}

describe('anvil serve --http with API keys', () => {
  let parent: TempHome | undefined;
  let home: string;
  let server: AnvilServerProcess;
  let restarted: AnvilServerProcess | undefined;
  let a1: CreatedKey; // alpha, anvil:read
  let a2: CreatedKey; // alpha, training:read (no anvil scope)
  let b1: CreatedKey; // beta, *
  let revocable: CreatedKey; // alpha, anvil:read; revoked mid-run
  /** Tool calls, by `principal|tool|outcome`, including scope refusals: what the audit log must hold. */
  const expectedAudit = new Map<string, number>();
  const count = (key: CreatedKey, tool: string, outcome = 'ok', n = 1) => {
    const id = `key:${key.id}|${tool}|${outcome}`;
    expectedAudit.set(id, (expectedAudit.get(id) ?? 0) + n);
  };
  const tracedRequestId = 'e2e-trace-0000000001';

  before(async () => {
    parent = await createHome({ fresh: true });
    // A home that does not exist yet: the first start creates it and runs PGlite's initdb.
    home = path.join(parent.home, 'h');
    server = await startAnvil({ home, env: { ANVIL_KEY_CACHE_TTL_MS: '0' } });
    // Sequential on purpose: each is a separate `anvil keys create` attaching through the socket.
    a1 = await server.createKey('alpha', 'anvil:read', 'a1');
    a2 = await server.createKey('alpha', 'training:read', 'a2');
    b1 = await server.createKey('beta', '*', 'b1');
    revocable = await server.createKey('alpha', 'anvil:read', 'to-revoke');
  });

  after(async () => {
    await restarted?.dispose();
    await server?.dispose();
    parent?.remove();
  });

  it('the CLI created the keys through the running server', () => {
    assert.deepEqual(
      [a1, a2, b1, revocable].map((key) => [key.project, key.scopes]),
      [
        ['alpha', ['anvil:read']],
        ['alpha', ['training:read']],
        ['beta', ['*']],
        ['alpha', ['anvil:read']],
      ],
    );
    for (const key of [a1, a2, b1, revocable]) assert.match(key.key, new RegExp(`^anv_${key.id}_[A-Za-z0-9_-]{43}$`));
  });

  for (const sdk of sdks) {
    it(`${sdk}: anvil_whoami answers with each key's principal, project and scopes`, async () => {
      for (const [key, project, scopes] of [
        [a1, 'alpha', ['anvil:read']],
        [a2, 'alpha', ['training:read']],
        [b1, 'beta', ['*']],
      ] as const) {
        await withHttpSession(sdk, server.mcpUrl, { key: key.key }, async (session) => {
          assert.equal(session.protocolVersion(), sdk === 'sdk1' ? '2025-11-25' : '2026-07-28');
          const tools = await session.listTools();
          // tools/list shows a principal only what it may call: anvil_status needs anvil:read.
          assert.ok(tools.includes('anvil_whoami'), tools.join(', '));
          assert.equal(tools.includes('anvil_status'), key !== a2, tools.join(', '));
          assert.equal(tools.includes('anvil_plugins_enable'), key === b1, tools.join(', '));
          const whoami = await session.callTool('anvil_whoami');
          assert.equal(whoami.isError, false, whoami.text);
          assert.deepEqual(whoami.structured, { principal: `key:${key.id}`, kind: 'api-key', project, scopes: [...scopes] });
          count(key, 'anvil_whoami');
        });
      }
    });

    it(`${sdk}: anvil_status works with anvil:read`, async () => {
      await withHttpSession(sdk, server.mcpUrl, { key: a1.key }, async (session) => {
        const status = await session.callTool('anvil_status');
        assertEmbeddedStatusHealthy(status);
        count(a1, 'anvil_status');
        const invalid = await session.callTool('anvil_status', { bogus: 1 });
        assert.equal(invalid.isError, true);
        assert.match(invalid.text, /^ANVIL_E_INVALID_INPUT: .*bogus/);
        count(a1, 'anvil_status', 'error');
      });
    });

    it(`${sdk}: anvil_status without anvil:read is refused with the scope named`, async () => {
      await withHttpSession(sdk, server.mcpUrl, { key: a2.key }, async (session) => {
        const refused = await session.callTool('anvil_status').then(
          (outcome) => ({ outcome }),
          (error: unknown) => ({ error }),
        );
        assert.ok('error' in refused, `expected a rejected call, got ${JSON.stringify(refused)}`);
        const message = refused.error instanceof Error ? refused.error.message : String(refused.error);
        assert.match(message, /anvil:read/);
        // The 1.x client surfaces the JSON-RPC error body; the 2.x client raises its own
        // InsufficientScopeError from the 403 challenge (it never reads the body without an OAuth provider).
        if (sdk === 'sdk1') assert.match(message, /insufficient_scope/);
        if (sdk === 'sdk1') assert.match(message, /ANVIL_E_FORBIDDEN/, 'the refusal carries its Anvil code');
        count(a2, 'anvil_status', 'denied');
        // The same session still works for what the key may do.
        const whoami = await session.callTool('anvil_whoami');
        assert.equal(whoami.isError, false, whoami.text);
        count(a2, 'anvil_whoami');
      });
    });
  }

  it('raw HTTP: a missing scope is 403 with an RFC 6750 insufficient_scope challenge and a JSON-RPC error carrying ANVIL_E_FORBIDDEN', async () => {
    const response = await postMcp(server.mcpUrl, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'anvil_status', arguments: {} } }, { authorization: `Bearer ${a2.key}` });
    assert.equal(response.status, 403, response.body);
    const challenge = response.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer /);
    assert.match(challenge, /error="insufficient_scope"/);
    assert.match(challenge, /scope="anvil:read"/);
    const reply = JSON.parse(response.body) as { jsonrpc?: string; id?: unknown; error?: { code?: unknown; message?: string; data?: Record<string, unknown> } };
    assert.equal(reply.jsonrpc, '2.0', response.body);
    assert.equal(reply.id, 7, 'the error answers the request by its id');
    assert.equal(reply.error?.code, -32001);
    assert.match(reply.error?.message ?? '', /^ANVIL_E_FORBIDDEN: anvil_status requires scope anvil:read/);
    assert.deepEqual(reply.error?.data, { code: 'ANVIL_E_FORBIDDEN', error: 'insufficient_scope', scopes: ['anvil:read'] });
    count(a2, 'anvil_status', 'denied');
  });

  it('raw HTTP: no key, a garbage key and a well-formed unknown key are 401 with a Bearer challenge', async () => {
    const none = await postMcp(server.mcpUrl, whoamiRequest());
    assert.equal(none.status, 401, none.body);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);
    assert.match(errorOf(none.body).message, /^ANVIL_E_UNAUTHENTICATED: /);

    const garbage = await postMcp(server.mcpUrl, whoamiRequest(), { authorization: 'Bearer not-a-key' });
    assert.equal(garbage.status, 401, garbage.body);
    assert.match(garbage.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/);

    const forged = `anv_${a1.id}_${'A'.repeat(43)}`;
    const wrongSecret = await postMcp(server.mcpUrl, whoamiRequest(), { authorization: `Bearer ${forged}` });
    assert.equal(wrongSecret.status, 401, wrongSecret.body);

    const basic = await postMcp(server.mcpUrl, whoamiRequest(), { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` });
    assert.equal(basic.status, 401, basic.body);
  });

  it('a key revoked with `anvil keys revoke` stops working (key cache TTL 0)', async () => {
    const before = await postMcp(server.mcpUrl, whoamiRequest(), { authorization: `Bearer ${revocable.key}` });
    assert.equal(before.status, 200, before.body);
    assert.equal(structuredOf(before.messages).principal, `key:${revocable.id}`);
    count(revocable, 'anvil_whoami');

    const revoke = await server.cli(['keys', 'revoke', revocable.id, '--json']);
    assert.equal(revoke.code, 0, revoke.stderr);
    const revoked: unknown = JSON.parse(revoke.stdout);
    assert.ok(isRecord(revoked));
    assert.equal(revoked.id, revocable.id);
    assert.equal(typeof revoked.revokedAt, 'string');

    const afterRevoke = await postMcp(server.mcpUrl, whoamiRequest(), { authorization: `Bearer ${revocable.key}` });
    assert.equal(afterRevoke.status, 401, afterRevoke.body);
    assert.match(afterRevoke.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    assert.match(errorOf(afterRevoke.body).message, /revoked/);
  });

  it('X-Anvil-Project naming another project than the key\'s is 403', async () => {
    const other = await postMcp(server.mcpUrl, whoamiRequest(), { authorization: `Bearer ${a1.key}`, 'x-anvil-project': 'beta' });
    assert.equal(other.status, 403, other.body);
    const error = errorOf(other.body);
    assert.match(error.message, /^ANVIL_E_FORBIDDEN: /);
    assert.match(error.message, /alpha/);

    const own = await postMcp(server.mcpUrl, whoamiRequest(), { authorization: `Bearer ${a1.key}`, 'x-anvil-project': 'alpha', 'x-request-id': tracedRequestId });
    assert.equal(own.status, 200, own.body);
    assert.equal(own.headers.get('x-request-id'), tracedRequestId);
    assert.equal(structuredOf(own.messages).project, 'alpha');
    count(a1, 'anvil_whoami');
  });

  for (const sdk of sdks) {
    it(`${sdk}: two concurrent clients of different projects never see each other's principal`, async () => {
      const alpha = await connectHttp(sdk, server.mcpUrl, { key: a1.key });
      const beta = await connectHttp(sdk, server.mcpUrl, { key: b1.key });
      try {
        const calls: Array<Promise<{ expected: CreatedKey; principal: unknown; project: unknown }>> = [];
        for (let i = 0; i < 50; i++) {
          for (const [session, expected] of [
            [alpha, a1],
            [beta, b1],
          ] as const) {
            calls.push(session.callTool('anvil_whoami').then((outcome) => ({ expected, principal: outcome.structured?.principal, project: outcome.structured?.project })));
          }
        }
        const results = await Promise.all(calls);
        const wrong = results.filter((result) => result.principal !== `key:${result.expected.id}` || result.project !== result.expected.project);
        assert.deepEqual(wrong, [], `${wrong.length} of ${results.length} calls answered as another principal`);
        count(a1, 'anvil_whoami', 'ok', 50);
        count(b1, 'anvil_whoami', 'ok', 50);
      } finally {
        await alpha.close().catch(() => {});
        await beta.close().catch(() => {});
      }
    });
  }

  it('/healthz, /readyz and /metrics (the operator scope cluster:observe, never a project\'s *)', async () => {
    const health = await fetch(new URL('/healthz', server.baseUrl));
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });

    const ready = await fetch(new URL('/readyz', server.baseUrl));
    assert.equal(ready.status, 200);
    const readyBody: unknown = await ready.json();
    assert.ok(isRecord(readyBody));
    assert.equal(readyBody.status, 'ready');

    const anonymous = await fetch(new URL('/metrics', server.baseUrl));
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();

    // Tool calls of every project are a cluster-wide read: a project's * key (b1) is refused too.
    for (const key of [a1, b1]) {
      const withoutScope = await fetch(new URL('/metrics', server.baseUrl), { headers: { authorization: `Bearer ${key.key}` } });
      assert.equal(withoutScope.status, 403);
      assert.match(withoutScope.headers.get('www-authenticate') ?? '', /error="insufficient_scope".*scope="cluster:observe"/);
      await withoutScope.body?.cancel();
    }

    const operator = await server.createKey('beta', 'cluster:observe', 'observer');
    const metrics = await fetch(new URL('/metrics', server.baseUrl), { headers: { authorization: `Bearer ${operator.key}` } });
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await metrics.text();
    const line = /^anvil_tool_calls_total\{tool="anvil_whoami",outcome="ok"\} (\d+)$/m.exec(text);
    assert.ok(line, `metrics lack anvil_tool_calls_total{tool="anvil_whoami",outcome="ok"}:\n${text.slice(0, 2000)}`);
    const whoamiOk = [...expectedAudit].filter(([id]) => id.endsWith('|anvil_whoami|ok')).reduce((sum, [, n]) => sum + n, 0);
    assert.equal(Number(line[1]), whoamiOk, 'the counter counts every successful whoami made so far');
  });

  it('SIGTERM exits 0 and the audit log holds every tool call', async (t) => {
    const { code, signal } = await server.stop();
    assert.equal(signal, null);
    assert.equal(code, 0, server.stderr());
    assert.doesNotMatch(server.stderr(), /"level":(50|60)/, 'no error or fatal log lines');

    const storage = await openEmbeddedStorage({ home, role: 'command' });
    let rows: AuditRow[];
    try {
      rows = (
        await storage.query<AuditRow>(
          'select request_id, principal, project_id, tool, args_sha256, outcome, error_code, duration_ms, transport from anvil.audit_log order by at',
        )
      ).rows;
    } finally {
      await storage.close();
    }

    for (const row of rows) {
      assert.match(row.args_sha256, /^[0-9a-f]{64}$/, JSON.stringify(row));
      assert.ok(row.duration_ms >= 0, JSON.stringify(row));
      assert.ok(row.request_id.length > 0, JSON.stringify(row));
      assert.equal(row.transport, 'http');
      assert.match(row.principal, /^key:[a-z0-9]{12}$/);
    }
    const projects = new Map([a1, a2, b1, revocable].map((key) => [`key:${key.id}`, key.project]));
    for (const row of rows) assert.equal(row.project_id, projects.get(row.principal), `project of ${JSON.stringify(row)}`);

    const actual = new Map<string, number>();
    for (const row of rows) {
      const id = `${row.principal}|${row.tool}|${row.outcome}`;
      actual.set(id, (actual.get(id) ?? 0) + 1);
    }
    // Exactly the calls made, refusals included: nothing lost by the batched writer on shutdown.
    assert.deepEqual(Object.fromEntries([...actual].sort()), Object.fromEntries([...expectedAudit].sort()));

    const invalid = rows.filter((row) => row.outcome === 'error');
    assert.ok(invalid.length > 0 && invalid.every((row) => row.error_code === 'ANVIL_E_INVALID_INPUT'), JSON.stringify(invalid));
    assert.ok(rows.some((row) => row.request_id === tracedRequestId && row.tool === 'anvil_whoami'), 'the caller-supplied X-Request-Id reaches the audit row');
    const emptyArgsHash = rows.find((row) => row.tool === 'anvil_whoami')?.args_sha256;
    assert.ok(rows.filter((row) => row.tool === 'anvil_whoami').every((row) => row.args_sha256 === emptyArgsHash), 'same arguments, same hash');

    const denied = rows.filter((row) => row.principal === `key:${a2.id}` && row.tool === 'anvil_status');
    assert.ok(denied.length > 0 && denied.every((row) => row.outcome === 'denied' && row.error_code === 'ANVIL_E_FORBIDDEN'), JSON.stringify(denied));
    t.diagnostic(`audit rows in total: ${rows.length}`);
  });

  it('restarted on the same home, the keys are still there (and the revoked one still refused)', async () => {
    restarted = await startAnvil({ home, env: { ANVIL_KEY_CACHE_TTL_MS: '0' } });
    await withHttpSession('sdk1', restarted.mcpUrl, { key: a1.key }, async (session) => {
      const whoami = await session.callTool('anvil_whoami');
      assert.deepEqual(whoami.structured, { principal: `key:${a1.id}`, kind: 'api-key', project: 'alpha', scopes: ['anvil:read'] });
    });
    await withHttpSession('sdk2', restarted.mcpUrl, { key: b1.key }, async (session) => {
      const status = await session.callTool('anvil_status');
      assert.equal(status.isError, false, status.text);
    });
    const revokedCall = await postMcp(restarted.mcpUrl, whoamiRequest(), { authorization: `Bearer ${revocable.key}` });
    assert.equal(revokedCall.status, 401, revokedCall.body);

    const list = await restarted.cli(['keys', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const keys: unknown = JSON.parse(list.stdout);
    assert.ok(Array.isArray(keys));
    const byId = new Map(keys.filter(isRecord).map((key) => [String(key.id), key]));
    for (const key of [a1, a2, b1]) assert.equal(byId.get(key.id)?.revokedAt, null, `${key.id} is active`);
    assert.equal(typeof byId.get(revocable.id)?.revokedAt, 'string', 'the revoked key stays revoked');
    assert.equal(typeof byId.get(a1.id)?.lastUsedAt, 'string', 'last used is recorded');

    const { code } = await restarted.stop();
    assert.equal(code, 0, restarted.stderr());
  });
});
