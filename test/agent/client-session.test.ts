/**
 * What an ops_ask caller's own client does for its run: it plans with the client's model (MCP
 * sampling) before any contributed or offline planner, and a step that waits for a person is put to
 * the person at that client (MCP elicitation) while the call is open — approve runs the step, deny
 * stops the run, and a client without elicitation leaves the approval to approvals_decide.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { createTestHost, flatten, type TestHost } from 'anvil/testing';
import sidefx from '../fixtures/agent/sidefx-plugin.ts';

type Row = Record<string, unknown>;

const PRINCIPAL = { project: 'alpha', name: 'chat', scopes: ['agent:write', 'sidefx:write', 'approvals:read'] };

/** The client's model: asked to plan, it calls sidefx_wipe once. */
function wipePlan(target: string) {
  return () => ({ model: 'chat-model-1', role: 'assistant' as const, content: [{ type: 'tool_use' as const, id: 'c1', name: 'sidefx_wipe', input: { target, _why: 'the person asked' } }], stopReason: 'toolUse' });
}

describe('ops_ask with the caller\'s own client', () => {
  let host: TestHost;
  const asked: string[] = [];

  before(async () => {
    host = await createTestHost({ plugins: [sidefx], config: { plugins: [{ id: 'agent', config: { settleMs: 15_000, resumeEveryMs: 60_000 } }] } });
  });
  after(() => host?.close());

  const wipes = async (client: Client) => Number((flatten(await client.callTool({ name: 'sidefx_count', arguments: {} })).structured as { wipes: number }).wipes);

  test('sampling plans first; an approval asked in the chat and approved runs the step in the same call', async () => {
    const client = await host.connect(PRINCIPAL, {
      onSample: wipePlan('cache'),
      onElicit: (request) => {
        asked.push(request.message);
        return { action: 'accept', content: { decision: 'approve' } };
      },
    });
    const before = await wipes(client);
    const outcome = flatten(await client.callTool({ name: 'ops_ask', arguments: { command: 'wipe the cache' } }));
    assert.equal(outcome.isError, false, outcome.text);
    const run = outcome.structured as Row & { plan: { steps: Array<{ tool: string }> }; steps: Row[] };
    assert.match(String(run.planner), /^sampling/);
    assert.deepEqual(run.plan.steps.map((step) => step.tool), ['sidefx_wipe']);
    assert.equal(run.status, 'succeeded', JSON.stringify(run));
    assert.equal(await wipes(client), before + 1);
    assert.equal(asked.length, 1);
    assert.match(asked[0] as string, /sidefx_wipe .*"target":"cache".*argument hash [0-9a-f]{64}/);
  });

  test('denied in the chat: the run stops and nothing is wiped', async () => {
    const client = await host.connect(PRINCIPAL, { onSample: wipePlan('disk'), onElicit: () => ({ action: 'accept', content: { decision: 'deny' } }) });
    const before = await wipes(client);
    const run = flatten(await client.callTool({ name: 'ops_ask', arguments: { command: 'wipe the disk' } })).structured as Row;
    assert.equal(run.status, 'rejected', JSON.stringify(run));
    assert.equal(await wipes(client), before);
  });

  test('a client that cannot be asked leaves the step waiting for approvals_decide', async () => {
    const client = await host.connect(PRINCIPAL, { onSample: wipePlan('logs') });
    const before = await wipes(client);
    const run = flatten(await client.callTool({ name: 'ops_ask', arguments: { command: 'wipe the logs' } })).structured as Row;
    assert.equal(run.status, 'waiting_approval', JSON.stringify(run));
    assert.equal(await wipes(client), before);
  });
});
