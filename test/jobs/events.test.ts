/**
 * GET /events (tools/jobs/events.ts) on a real HTTP listener: the route is mounted on a small Hono
 * app with a fixed principal, fed by the jobs runtime of an in-process server (local worker off).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createTestHost, type TestHost } from 'anvil/testing';
import { localPrincipal } from '../../server/auth/principal.ts';
import type { AppEnv } from '../../server/http/env.ts';
import { errorResponse } from '../../server/http/routes.ts';
import { eventsRoute, type EventsRoute } from '../../tools/jobs/events.ts';
import { jobsPlugin } from '../../tools/jobs/index.ts';
import type { JobsRuntime } from '../../tools/jobs/runtime.ts';

let host: TestHost;
let jobs: JobsRuntime;
let route: EventsRoute;
let server: Server;
let base: string;

before(async () => {
  host = await createTestHost({ plugins: [], config: { jobs: { localWorker: 'off' } } });
  jobs = host.server.plugins.exportsOf(jobsPlugin)!.jobs();
  route = eventsRoute(() => jobs, { heartbeatMs: 100 });
  const app = new Hono<AppEnv>();
  app.get('/events', async (c) => {
    c.set('requestId', 'test');
    c.set('principal', localPrincipal('test', c.req.header('x-project') ?? 'default', ['*']));
    try {
      return await route.handler(c);
    } catch (error) {
      return errorResponse(c, error);
    }
  });
  server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(started as Server)) as Server;
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  route?.closeStreams();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await host?.close();
});

interface SseEvent {
  event: string;
  data: string;
}

/** Reads SSE events (and heartbeat comments, as event ':') from a response body. */
function sseReader(response: Response) {
  assert.ok(response.body);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let done = false;
  const next = async (timeoutMs = 5_000): Promise<SseEvent | null> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(':')) return { event: ':', data: block.slice(1).trim() };
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data: '))
          .map((line) => line.slice(6))
          .join('\n');
        return { event, data };
      }
      if (done) return null;
      const chunk = await Promise.race([reader.read(), new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), Math.max(1, deadline - Date.now())))]);
      if (chunk === 'timeout') throw new Error(`no SSE event within ${timeoutMs} ms (buffer: ${JSON.stringify(buffer)})`);
      if (chunk.done) done = true;
      else buffer += decoder.decode(chunk.value, { stream: true });
    }
  };
  /** The next event that is not a heartbeat. */
  const nextEvent = async (timeoutMs = 5_000): Promise<SseEvent | null> => {
    for (;;) {
      const event = await next(timeoutMs);
      if (event?.event !== ':') return event;
    }
  };
  return { next, nextEvent, cancel: () => reader.cancel().catch(() => {}) };
}

async function submit(project = 'default'): Promise<string> {
  const { job } = await jobs.service.submit(project, { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 10 } });
  return job.id;
}

test('a job stream sends its state, new log lines, metrics, and ends when the job does', async () => {
  const id = await submit();
  const response = await fetch(`${base}/events?job=${id}`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
  const sse = sseReader(response);
  const first = await sse.nextEvent();
  assert.equal(first?.event, 'state');
  assert.equal(JSON.parse(first.data).state, 'queued');

  await jobs.service.store.appendLogs(id, [{ message: 'hello' }, { message: 'world', level: 'warn' }]);
  await jobs.bus.publish({ type: 'job', project: 'default', jobId: id, kind: 'logs' });
  const logs = await sse.nextEvent();
  assert.equal(logs?.event, 'logs');
  const body = JSON.parse(logs.data) as { jobId: string; lines: Array<{ seq: number; message: string; level: string }>; nextSeq: number };
  assert.equal(body.jobId, id);
  assert.deepEqual(body.lines.map((line) => [line.seq, line.level, line.message]), [
    [1, 'info', 'hello'],
    [2, 'warn', 'world'],
  ]);
  assert.equal(body.nextSeq, 2);

  // Only lines after the last sent one.
  await jobs.service.store.appendLogs(id, [{ message: 'third' }]);
  await jobs.bus.publish({ type: 'job', project: 'default', jobId: id, kind: 'logs' });
  const more = await sse.nextEvent();
  assert.deepEqual((JSON.parse(more!.data) as { lines: Array<{ seq: number }> }).lines.map((line) => line.seq), [3]);

  await jobs.service.store.appendMetrics(id, [
    { name: 'loss', step: 1, value: 0.5 },
    { name: 'loss', step: 2, value: Number.NaN },
  ]);
  await jobs.bus.publish({ type: 'job', project: 'default', jobId: id, kind: 'metrics' });
  const metrics = await sse.nextEvent();
  assert.equal(metrics?.event, 'metrics');
  assert.deepEqual((JSON.parse(metrics.data) as { points: Array<{ name: string; step: number; value: unknown }> }).points.map(({ name, step, value }) => ({ name, step, value })), [
    { name: 'loss', step: 2, value: 'NaN' },
  ]);

  await jobs.service.cancel('default', id, 'done watching');
  const state = await sse.nextEvent();
  assert.equal(state?.event, 'state');
  assert.equal(JSON.parse(state.data).state, 'cancelled');
  const end = await sse.nextEvent();
  assert.equal(end?.event, 'end');
  assert.equal(await sse.nextEvent(), null, 'the stream closed');
});

test('afterSeq resumes a job’s log; types filters the events', async () => {
  const id = await submit();
  await jobs.service.store.appendLogs(id, [{ message: 'a' }, { message: 'b' }, { message: 'c' }]);
  const response = await fetch(`${base}/events?job=${id}&afterSeq=1&types=logs`);
  const sse = sseReader(response);
  const logs = await sse.nextEvent();
  assert.equal(logs?.event, 'logs', 'no state event: types=logs');
  assert.deepEqual((JSON.parse(logs.data) as { lines: Array<{ message: string }> }).lines.map((line) => line.message), ['b', 'c']);
  // A metrics change is not sent on a logs-only stream.
  await jobs.bus.publish({ type: 'job', project: 'default', jobId: id, kind: 'metrics' });
  await jobs.service.store.appendLogs(id, [{ message: 'd' }]);
  await jobs.bus.publish({ type: 'job', project: 'default', jobId: id, kind: 'logs' });
  const next = await sse.nextEvent();
  assert.equal(next?.event, 'logs');
  assert.deepEqual((JSON.parse(next.data) as { lines: Array<{ message: string }> }).lines.map((line) => line.message), ['d']);
  await sse.cancel();
});

test('a project stream sees its own jobs only, and sends heartbeats', async () => {
  const response = await fetch(`${base}/events?types=state`, { headers: { 'x-project': 'watcher' } });
  assert.equal(response.status, 200);
  const sse = sseReader(response);
  const heartbeat = await sse.next(2_000);
  assert.equal(heartbeat?.event, ':', 'a heartbeat comment comes first on an idle stream');
  await submit('default'); // another project: not shown
  const mine = await submit('watcher');
  for (;;) {
    const event = await sse.nextEvent();
    assert.equal(event?.event, 'state');
    const job = JSON.parse(event.data) as { id: string };
    assert.equal(job.id, mine, 'only the watcher project’s job');
    break;
  }
  await sse.cancel();
});

test('bad queries and other projects’ jobs are refused before streaming; closeStreams ends open streams', async () => {
  const badType = await fetch(`${base}/events?types=state,bogus`);
  assert.equal(badType.status, 400);
  assert.match(((await badType.json()) as { error: { message: string } }).error.message, /bogus/);
  const orphanSeq = await fetch(`${base}/events?afterSeq=3`);
  assert.equal(orphanSeq.status, 400);
  const id = await submit('default');
  const foreign = await fetch(`${base}/events?job=${id}`, { headers: { 'x-project': 'elsewhere' } });
  assert.equal(foreign.status, 404);

  const response = await fetch(`${base}/events?job=${id}&types=logs`);
  const sse = sseReader(response);
  await sse.next(2_000); // a heartbeat: the stream is open
  route.closeStreams();
  let event = await sse.next(2_000);
  while (event?.event === ':') event = await sse.next(2_000);
  assert.equal(event, null, 'the stream ended');
});
