/**
 * Watching a job from outside, against real server processes on embedded storage (the local worker
 * runs the recipe): a stdio client subscribed to `anvil://jobs/{id}` receives
 * `notifications/resources/updated`, and `GET /events?job=<id>` streams the job's state, logs and
 * metrics as Server-Sent Events until it ends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { anvilCommand, type AnvilServerProcess, childEnv, createHome, connectHttp, type CreatedKey, startAnvil, type TempHome } from '../support/anvil-process.ts';

const counter = { recipe: 'diagnostics.counter', params: { steps: 6, stepMs: 100 } };

describe('watching a job', () => {
  let home: TempHome | undefined;
  let server: AnvilServerProcess | undefined;
  let key: CreatedKey;

  before(async () => {
    home = await createHome();
    server = await startAnvil({ freshHome: true });
    key = await server.createKey('default', 'jobs:read,jobs:write');
  });
  after(async () => {
    await server?.dispose();
    home?.remove();
  });

  it('over stdio, a subscribed client is told when the job changes', async () => {
    const { command, args } = anvilCommand(['serve', '--stdio']);
    const transport = new StdioClientTransport({ command, args, env: childEnv({ ANVIL_HOME: home?.home }), stderr: 'pipe' });
    const client = new Client({ name: 'watcher', version: '1.0.0' });
    const updated: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => {
      updated.push(notification.params.uri);
    });
    await client.connect(transport);
    try {
      const submitted = await client.callTool({ name: 'jobs_submit', arguments: counter });
      const id = String((submitted.structuredContent as { id: string }).id);
      const uri = `anvil://jobs/${id}`;
      await client.subscribeResource({ uri });
      await client.subscribeResource({ uri: `${uri}/metrics` });
      const done = await client.callTool({ name: 'jobs_get', arguments: { id, waitSeconds: 60 } }, undefined, { timeout: 90_000 });
      assert.equal((done.structuredContent as { state: string }).state, 'succeeded', JSON.stringify(done));
      // A last notification may trail the answer by the 250 ms throttle.
      const deadline = Date.now() + 3_000;
      while (!(updated.includes(uri) && updated.includes(`${uri}/metrics`)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(updated.includes(uri), `state updates: ${updated.join(', ')}`);
      assert.ok(updated.includes(`${uri}/metrics`), `metrics updates: ${updated.join(', ')}`);
      assert.ok(!updated.some((each) => each.endsWith('/logs')), 'only subscribed URIs are notified');
      const read = await client.readResource({ uri });
      assert.match(JSON.stringify(read.contents), /succeeded/);
    } finally {
      await client.close();
    }
  });

  it('GET /events streams the job over SSE until it ends; another project sees nothing of it', async () => {
    const running = server as AnvilServerProcess;
    const session = await connectHttp('sdk1', running.mcpUrl, { key: key.key });
    let id: string;
    try {
      const submitted = await session.callTool('jobs_submit', counter);
      assert.equal(submitted.isError, false, submitted.text);
      id = String(submitted.structured?.id);
    } finally {
      await session.close();
    }
    const response = await fetch(`${running.baseUrl}/events?job=${id}`, { headers: { authorization: `Bearer ${key.key}`, accept: 'text/event-stream' } });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const deadline = Date.now() + 60_000;
    while (!/event: end/.test(text) && Date.now() < deadline) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
    await reader.cancel().catch(() => {});
    const events = [...text.matchAll(/^event: (\w+)$/gm)].map((match) => match[1]);
    assert.ok(events.includes('state'), events.join(','));
    assert.ok(events.includes('metrics'), events.join(','));
    assert.ok(events.includes('end'), events.join(','));
    assert.match(text, /succeeded/);

    const stranger = await running.createKey('elsewhere', 'jobs:read');
    const refused = await fetch(`${running.baseUrl}/events?job=${id}`, { headers: { authorization: `Bearer ${stranger.key}` } });
    assert.equal(refused.status, 404);
    await refused.body?.cancel();
    const anonymous = await fetch(`${running.baseUrl}/events?job=${id}`);
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();
  });
});
