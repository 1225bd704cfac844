/**
 * ctx.elicit / ctx.sample / ctx.clientCapabilities: a tool asks the client that called it (MCP
 * elicitation and sampling) through real MCP clients of both SDK generations that declare the
 * capability and answer. A client that did not declare it, a call over stateless HTTP and an
 * in-process call are refused with ANVIL_E_CLIENT_CAPABILITY; a client that answers with an error
 * or with content outside the requested schema is ANVIL_E_UPSTREAM_FAILED.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InMemoryTransport } from '@modelcontextprotocol/server';
import { Client as Client1 } from '@modelcontextprotocol/sdk/client/index.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { definePlugin, type SampleContent, type ToolInvoker, z } from 'anvil/plugin';
import { createTestHost, flatten, type TestHost } from 'anvil/testing';
import { createServerFactory } from '../../server/mcp/server-factory.ts';
import { localPrincipal } from '../../server/auth/principal.ts';

let invoker: ToolInvoker | undefined;

const approveSchema = {
  type: 'object',
  properties: { approve: { type: 'boolean', title: 'Approve?' }, note: { type: 'string', maxLength: 40 } },
  required: ['approve'],
} as const;

function blocks(content: SampleContent | readonly SampleContent[]): readonly SampleContent[] {
  return Array.isArray(content) ? content : [content as SampleContent];
}

const asker = definePlugin({
  id: 'asker',
  version: '1.0.0',
  register(ctx) {
    ctx.tool({
      name: 'caps',
      description: 'Reports what the calling client declared',
      input: z.object({}),
      output: z.object({ elicitation: z.boolean(), sampling: z.boolean(), samplingTools: z.boolean() }),
      handler: async (_input, context) => ({
        elicitation: context.clientCapabilities.elicitation !== undefined,
        sampling: context.clientCapabilities.sampling !== undefined,
        samplingTools: context.clientCapabilities.sampling?.tools !== undefined,
      }),
    });
    ctx.tool({
      name: 'confirm',
      description: 'Asks the person at the client to approve',
      input: z.object({ what: z.string().max(80) }),
      output: z.object({ action: z.string(), approve: z.boolean().optional(), note: z.string().optional() }),
      handler: async ({ what }, context) => {
        const outcome = await context.elicit({ message: `Approve ${what}?`, requestedSchema: approveSchema }, { timeoutMs: 5_000 });
        const approve = outcome.content?.approve;
        const note = outcome.content?.note;
        return { action: outcome.action, ...(typeof approve === 'boolean' ? { approve } : {}), ...(typeof note === 'string' ? { note } : {}) };
      },
    });
    ctx.tool({
      name: 'complete',
      description: "Asks the client's model, with or without tools",
      input: z.object({ prompt: z.string().max(200), withTools: z.boolean().default(false) }),
      output: z.object({ model: z.string(), text: z.string(), toolCalls: z.array(z.object({ name: z.string(), input: z.record(z.string(), z.unknown()) })) }),
      handler: async ({ prompt, withTools }, context) => {
        const result = await context.sample({
          messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
          systemPrompt: 'Answer briefly.',
          maxTokens: 64,
          ...(withTools ? { tools: [{ name: 'lookup', description: 'Looks a word up', inputSchema: { type: 'object', properties: { word: { type: 'string' } } } }] } : {}),
        });
        const content = blocks(result.content);
        const text = content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('');
        const toolCalls = content.flatMap((block) => (block.type === 'tool_use' ? [{ name: block.name, input: { ...block.input } }] : []));
        return { model: result.model, text, toolCalls };
      },
    });
  },
});

const proxy = definePlugin({
  id: 'proxy',
  version: '1.0.0',
  permissions: ['tools'],
  register(ctx) {
    invoker = ctx.tools;
  },
});

let host: TestHost;

before(async () => {
  host = await createTestHost({ plugins: [asker, proxy] });
});

after(async () => {
  await host?.close();
});

describe('a client that declared nothing', () => {
  test('clientCapabilities is empty and elicit/sample are refused with ANVIL_E_CLIENT_CAPABILITY', async () => {
    const caps = await host.call('asker_caps');
    assert.deepEqual(caps.structured, { elicitation: false, sampling: false, samplingTools: false });
    const asked = await host.call('asker_confirm', { what: 'the rollout' });
    assert.equal(asked.isError, true);
    assert.match(asked.text, /^ANVIL_E_CLIENT_CAPABILITY: Elicitation is not available for this call: the client did not declare the elicitation capability/);
    const sampled = await host.call('asker_complete', { prompt: 'hi' });
    assert.equal(sampled.isError, true);
    assert.match(sampled.text, /^ANVIL_E_CLIENT_CAPABILITY: Sampling is not available.*did not declare the sampling capability/);
  });
});

describe('elicitation', () => {
  test('a client that declares elicitation is asked, and its answer reaches the tool', async () => {
    const questions: string[] = [];
    const client = await host.connect(undefined, {
      onElicit: (request) => {
        questions.push(request.message);
        assert.deepEqual(request.requestedSchema.required, ['approve']);
        return { action: 'accept', content: { approve: true, note: 'go' } };
      },
    });
    const caps = flatten(await client.callTool({ name: 'asker_caps', arguments: {} }));
    assert.deepEqual(caps.structured, { elicitation: true, sampling: false, samplingTools: false });
    const outcome = flatten(await client.callTool({ name: 'asker_confirm', arguments: { what: 'the rollout' } }));
    assert.equal(outcome.isError, false, outcome.text);
    assert.deepEqual(outcome.structured, { action: 'accept', approve: true, note: 'go' });
    assert.deepEqual(questions, ['Approve the rollout?']);
  });

  test('decline and cancel come back as such, without content', async () => {
    for (const action of ['decline', 'cancel'] as const) {
      const client = await host.connect(undefined, { onElicit: () => ({ action }) });
      const outcome = flatten(await client.callTool({ name: 'asker_confirm', arguments: { what: 'x' } }));
      assert.deepEqual(outcome.structured, { action });
    }
  });

  test('content outside the requested schema, or a failing client, is ANVIL_E_UPSTREAM_FAILED', async () => {
    const liar = await host.connect(undefined, { onElicit: () => ({ action: 'accept', content: { approve: 'yes please' } }) });
    const lied = flatten(await liar.callTool({ name: 'asker_confirm', arguments: { what: 'x' } }));
    assert.equal(lied.isError, true);
    assert.match(lied.text, /^ANVIL_E_UPSTREAM_FAILED: Elicitation: the client answered with an error/);
    const broken = await host.connect(undefined, {
      onElicit: () => {
        throw new Error('the form crashed');
      },
    });
    const failed = flatten(await broken.callTool({ name: 'asker_confirm', arguments: { what: 'x' } }));
    assert.equal(failed.isError, true);
    assert.match(failed.text, /^ANVIL_E_UPSTREAM_FAILED: .*the form crashed/);
  });

  test('a 1.x SDK client (setRequestHandler(ElicitRequestSchema)) is asked the same way', async () => {
    const factory = createServerFactory({
      catalog: () => host.server.plugins.catalog,
      deps: host.server.runtime.toolCallDeps,
      transport: 'in-memory',
      localPrincipal: localPrincipal('sdk1', 'default', ['*']),
    });
    const server = await factory({ era: 'legacy' });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client1({ name: 'sdk1-elicit', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async (request) => ({ action: 'accept', content: { approve: false, note: request.params.message.slice(0, 20) } }));
    await client.connect(clientSide);
    try {
      const outcome = flatten(await client.callTool({ name: 'asker_confirm', arguments: { what: 'a refund' } }));
      assert.deepEqual(outcome.structured, { action: 'accept', approve: false, note: 'Approve a refund?' });
    } finally {
      await client.close();
    }
  });
});

describe('sampling', () => {
  test("the client's model answers with text, and with tool calls when offered tools", async () => {
    const seen: Array<{ tools: number; system: string | undefined }> = [];
    const client = await host.connect(undefined, {
      onSample: (request) => {
        seen.push({ tools: request.tools?.length ?? 0, system: request.systemPrompt });
        if (request.tools) return { model: 'scripted-1', role: 'assistant', content: [{ type: 'tool_use', id: 'c1', name: 'lookup', input: { word: 'anvil' } }], stopReason: 'toolUse' };
        return { model: 'scripted-1', role: 'assistant', content: { type: 'text', text: 'hello there' }, stopReason: 'endTurn' };
      },
    });
    const plain = flatten(await client.callTool({ name: 'asker_complete', arguments: { prompt: 'greet' } }));
    assert.deepEqual(plain.structured, { model: 'scripted-1', text: 'hello there', toolCalls: [] });
    const withTools = flatten(await client.callTool({ name: 'asker_complete', arguments: { prompt: 'define anvil', withTools: true } }));
    assert.deepEqual(withTools.structured, { model: 'scripted-1', text: '', toolCalls: [{ name: 'lookup', input: { word: 'anvil' } }] });
    assert.deepEqual(seen, [
      { tools: 0, system: 'Answer briefly.' },
      { tools: 1, system: 'Answer briefly.' },
    ]);
  });

  test('sampling with tools is refused when the client declared sampling without tools', async () => {
    const client = await host.connect(undefined, {
      capabilities: { sampling: {} },
      onSample: () => ({ model: 'plain', role: 'assistant', content: { type: 'text', text: 'ok' } }),
    });
    const plain = flatten(await client.callTool({ name: 'asker_complete', arguments: { prompt: 'x' } }));
    assert.equal(plain.isError, false, plain.text);
    const refused = flatten(await client.callTool({ name: 'asker_complete', arguments: { prompt: 'x', withTools: true } }));
    assert.equal(refused.isError, true);
    assert.match(refused.text, /^ANVIL_E_CLIENT_CAPABILITY: Sampling with tools is not available.*without tools/);
  });
});

describe('calls that cannot reach a client', () => {
  test('over stateless HTTP: refused, naming the transport', async () => {
    const response = await host.request('/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'asker_confirm', arguments: { what: 'x' } } }),
    });
    const body = await response.text();
    assert.equal(response.status, 200, body);
    assert.match(body, /ANVIL_E_CLIENT_CAPABILITY: Elicitation is not available for this call: Anvil serves HTTP statelessly/);
  });

  test('in-process (ctx.tools.call): refused, even for a principal whose client could answer', async () => {
    assert.ok(invoker);
    const result = await invoker.call('asker_confirm', { what: 'x' }, { principal: localPrincipal('agent', 'default', ['*']) });
    assert.equal(result.isError, true);
    const first = result.content[0];
    assert.ok(first && first.type === 'text');
    assert.match(first.text, /^ANVIL_E_CLIENT_CAPABILITY: Elicitation is not available for this call: this call was made in-process/);
  });
});
