/**
 * ctx.tools: a plugin calling tools on a caller's behalf gets exactly what that caller would get
 * over MCP — scopes, key allowlist and project decide, refusals come back as isError results with
 * their code, every call is audited as in-process with the plugin named — and a plugin without the
 * `tools` permission cannot use it. `refresh` re-reads an API key, so a revoked key stops resumed work.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { definePlugin, type CallerPrincipal, type PluginContext, type ToolInvoker, z } from 'anvil/plugin';
import { createTestHost, type TestHost } from 'anvil/testing';

let invoker: ToolInvoker | undefined;
let refusedUse: string | undefined;

const target = definePlugin({
  id: 'target',
  version: '1.0.0',
  register(ctx) {
    ctx.tool({
      name: 'echo',
      description: 'Echoes its text and the caller it ran for',
      input: z.object({ text: z.string().max(20) }),
      output: z.object({ text: z.string(), project: z.string() }),
      scopes: ['target:read'],
      handler: async ({ text }, context) => ({ text, project: context.project }),
    });
    ctx.tool({
      name: 'wipe',
      description: 'Needs a write scope',
      input: z.object({}),
      output: z.object({ wiped: z.boolean() }),
      scopes: ['target:write'],
      handler: async () => ({ wiped: true }),
    });
  },
});

const caller = definePlugin({
  id: 'caller',
  version: '1.0.0',
  permissions: ['tools'],
  register(ctx) {
    invoker = ctx.tools;
  },
});

const uninvited = definePlugin({
  id: 'uninvited',
  version: '1.0.0',
  register(ctx: PluginContext) {
    try {
      void ctx.tools;
    } catch (error) {
      refusedUse = (error as { code?: string }).code;
    }
  },
});

const reader: CallerPrincipal = { id: 'local:reader', kind: 'local', project: 'alpha', scopes: ['target:read'] };

function errorCode(result: { _meta?: Record<string, unknown> }): string | undefined {
  return (result._meta?.['dev.anvil/error'] as { code?: string } | undefined)?.code;
}

describe('ctx.tools', () => {
  let host: TestHost;

  before(async () => {
    host = await createTestHost({ plugins: [target, caller, uninvited] });
  });
  after(() => host?.close());

  test('a plugin without the tools permission cannot reach ctx.tools', () => {
    assert.equal(refusedUse, 'ANVIL_E_PLUGIN_PERMISSION');
  });

  test('list shows only what the principal could call', async () => {
    assert.ok(invoker);
    const names = (await invoker.list(reader)).map((tool) => tool.name);
    assert.ok(names.includes('target_echo'));
    assert.ok(!names.includes('target_wipe'), 'a tool needing a scope the principal lacks is not listed');
    const echo = (await invoker.list(reader)).find((tool) => tool.name === 'target_echo');
    assert.deepEqual(echo?.scopes, ['target:read']);
    assert.equal((echo?.inputSchema as { type?: string }).type, 'object');
  });

  test('a call runs as the principal; missing scope, bad input and unknown tool are isError with codes', async () => {
    assert.ok(invoker);
    const ok = await invoker.call('target_echo', { text: 'hi' }, { principal: reader, requestId: 'run-1' });
    assert.equal(ok.isError, undefined);
    assert.deepEqual(ok.structuredContent, { text: 'hi', project: 'alpha' });

    const forbidden = await invoker.call('target_wipe', {}, { principal: reader });
    assert.equal(forbidden.isError, true);
    assert.equal(errorCode(forbidden), 'ANVIL_E_FORBIDDEN');

    const invalid = await invoker.call('target_echo', { text: 'x'.repeat(50) }, { principal: reader });
    assert.equal(errorCode(invalid), 'ANVIL_E_INVALID_INPUT');
    assert.match(invalid.content[0]?.type === 'text' ? invalid.content[0].text : '', /text/);

    const unknown = await invoker.call('nope_nothing', {}, { principal: reader });
    assert.equal(errorCode(unknown), 'ANVIL_E_NOT_FOUND');
  });

  test('a key allowlist applies to in-process calls too', async () => {
    assert.ok(invoker);
    const narrow: CallerPrincipal = { ...reader, id: 'local:narrow', tools: ['anvil_*'] };
    const refused = await invoker.call('target_echo', { text: 'hi' }, { principal: narrow });
    assert.equal(errorCode(refused), 'ANVIL_E_TOOL_UNAVAILABLE');
  });

  test('calls are audited as in-process, naming the plugin that made them', async () => {
    await host.server.runtime.audit.flush();
    const { rows } = await host.server.runtime.services.storage.query<{ transport: string; details: { via?: string } | null; request_id: string }>(
      `select transport, details, request_id from anvil.audit_log where tool = 'target_echo' and request_id = 'run-1'`,
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.transport, 'in-process');
    assert.equal(rows[0]?.details?.via, 'caller');
  });

  test('refresh re-reads an API key and refuses a revoked one', async () => {
    assert.ok(invoker);
    const created = await host.server.runtime.keys.create({ project: 'alpha', scopes: ['target:read'] });
    const stored: CallerPrincipal = { id: `key:${created.id}`, kind: 'api-key', keyId: created.id, project: 'alpha', scopes: ['*'] };
    const fresh = await invoker.refresh(stored);
    assert.deepEqual(fresh.scopes, ['target:read'], 'scopes come from the key, not from what was stored');
    await host.server.runtime.keys.revoke(created.id);
    await assert.rejects(invoker.refresh(stored), (error: unknown) => (error as { code?: string }).code === 'ANVIL_E_UNAUTHENTICATED');
    const local = await invoker.refresh(reader);
    assert.equal(local, reader);
  });
});
