/**
 * The caller-facing jobs tools and resources, end to end through an MCP client (anvil/testing).
 * Most tests run with the local worker off so that submitted jobs stay queued; the last one runs
 * diagnostics.counter on the local worker.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/client';
import { InMemoryTransport, type McpServer } from '@modelcontextprotocol/server';
import { createTestHost, flatten, type TestHost } from 'anvil/testing';
import { localPrincipal } from '../../server/auth/principal.ts';
import { createServerFactory } from '../../server/mcp/server-factory.ts';
import { perKeyThrottle, startNotifications, urisFor } from '../../tools/jobs/tools/notifications.ts';
import { jobsPlugin } from '../../tools/jobs/index.ts';
import type { JobsRuntime } from '../../tools/jobs/runtime.ts';

let host: TestHost;
let jobs: JobsRuntime;

before(async () => {
  host = await createTestHost({ plugins: [], config: { jobs: { localWorker: 'off' } } });
  const exported = host.server.plugins.exportsOf(jobsPlugin);
  assert.ok(exported, 'the jobs plugin is active');
  jobs = exported.jobs();
});

after(async () => {
  await host?.close();
});

async function submit(args: Record<string, unknown> = {}): Promise<string> {
  const outcome = await host.call('jobs_submit', { recipe: 'diagnostics.counter', params: { steps: 3, stepMs: 10 }, ...args });
  assert.equal(outcome.isError, false, outcome.text);
  return String(outcome.structured?.id);
}

test('jobs_submit queues a job; jobs_get shows it with timings and no artifacts', async () => {
  const submitted = await host.call('jobs_submit', { recipe: 'diagnostics.counter', params: { steps: 3, stepMs: 10 }, priority: 5, timeoutSeconds: 60 });
  assert.equal(submitted.isError, false, submitted.text);
  assert.equal(submitted.structured?.state, 'queued');
  assert.equal(submitted.structured?.created, true);
  assert.equal(submitted.structured?.resourceClass, 'cpu');
  const id = String(submitted.structured?.id);

  const got = await host.call('jobs_get', { id });
  assert.equal(got.isError, false, got.text);
  const job = got.structured as Record<string, unknown> & { timings: Record<string, unknown> };
  assert.equal(job.id, id);
  assert.equal(job.state, 'queued');
  assert.equal(job.recipe, 'diagnostics.counter');
  assert.equal(job.priority, 5);
  assert.equal(job.attempt, 1);
  assert.equal(job.maxAttempts, 3);
  assert.equal(job.worker, null);
  assert.equal(job.checkpointStep, null);
  assert.equal(job.logLines, 0);
  assert.deepEqual(job.artifacts, []);
  assert.equal(job.timedOut, false);
  assert.match(String(job.timings.createdAt), /^\d{4}-\d\d-\d\dT/);
  assert.equal(job.timings.startedAt, null);
});

test('jobs_submit with an idempotency key returns the first job; unknown recipes are refused', async () => {
  const first = await host.call('jobs_submit', { recipe: 'diagnostics.counter', params: { steps: 2, stepMs: 10 }, idempotencyKey: 'once' });
  const again = await host.call('jobs_submit', { recipe: 'diagnostics.counter', params: { steps: 2, stepMs: 10 }, idempotencyKey: 'once' });
  assert.equal(again.structured?.id, first.structured?.id);
  assert.equal(again.structured?.created, false);
  const unknown = await host.call('jobs_submit', { recipe: 'no.such.recipe' });
  assert.equal(unknown.isError, true);
  assert.match(unknown.text, /^ANVIL_E_INVALID_INPUT/);
});

test('another project cannot see, list or cancel the job', async () => {
  const id = await submit();
  const other = await host.connect({ project: 'elsewhere' });
  const got = flatten(await other.callTool({ name: 'jobs_get', arguments: { id } }));
  assert.equal(got.isError, true);
  assert.match(got.text, /^ANVIL_E_NOT_FOUND/);
  const cancelled = flatten(await other.callTool({ name: 'jobs_cancel', arguments: { id } }));
  assert.match(cancelled.text, /^ANVIL_E_NOT_FOUND/);
  const listed = flatten(await other.callTool({ name: 'jobs_list', arguments: {} }));
  assert.deepEqual(listed.structured?.jobs, []);
  const logs = flatten(await other.callTool({ name: 'jobs_logs', arguments: { id } }));
  assert.match(logs.text, /^ANVIL_E_NOT_FOUND/);
});

test('jobs_list pages newest first with a cursor and filters by state', async () => {
  const client = await host.connect({ project: 'paging' });
  const call = async (name: string, args: Record<string, unknown>) => flatten(await client.callTool({ name, arguments: args }));
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push(String((await call('jobs_submit', { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 10 } })).structured?.id));
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await call('jobs_list', { limit: 2, ...(cursor ? { cursor } : {}) });
    assert.equal(page.isError, false, page.text);
    const jobsOnPage = page.structured?.jobs as Array<{ id: string; state: string }>;
    assert.ok(jobsOnPage.length <= 2);
    seen.push(...jobsOnPage.map((job) => job.id));
    cursor = (page.structured?.nextCursor as string | null) ?? undefined;
    pages++;
  } while (cursor && pages < 10);
  assert.equal(pages, 3);
  assert.deepEqual(seen, [...ids].reverse());

  await call('jobs_cancel', { id: ids[0] });
  const cancelled = await call('jobs_list', { states: ['cancelled'] });
  assert.deepEqual((cancelled.structured?.jobs as Array<{ id: string }>).map((job) => job.id), [ids[0]]);
  const queued = await call('jobs_list', { states: ['queued'], recipe: 'diagnostics.counter' });
  assert.equal((queued.structured?.jobs as unknown[]).length, 4);
});

test('jobs_cancel cancels a queued job at once; a second cancel is a CONFLICT', async () => {
  const id = await submit();
  const cancelled = await host.call('jobs_cancel', { id, reason: 'changed my mind' });
  assert.equal(cancelled.isError, false, cancelled.text);
  assert.deepEqual(cancelled.structured, { id, outcome: 'cancelled', state: 'cancelled' });
  const again = await host.call('jobs_cancel', { id });
  assert.equal(again.isError, true);
  assert.match(again.text, /^ANVIL_E_CONFLICT/);
  const explained = await host.call('jobs_explain', { id });
  assert.match(String(explained.structured?.summary), /was cancelled/);
});

test('jobs_quota reads defaults, sets with the operator scope, and refuses set without it', async () => {
  const client = await host.connect({ project: 'quota', scopes: ['jobs:admin', 'cluster:operate'] });
  const call = async (args: Record<string, unknown>) => flatten(await client.callTool({ name: 'jobs_quota', arguments: args }));
  const initial = await call({});
  assert.equal(initial.isError, false, initial.text);
  assert.deepEqual(initial.structured?.quota, { maxConcurrentJobs: null, maxGpus: null, maxPriority: 100, priorityClass: null, source: 'default' });
  assert.deepEqual(initial.structured?.usage, { jobs: 0, gpus: 0 });

  const set = await call({ set: { maxConcurrentJobs: 1, maxGpus: 0 } });
  assert.equal(set.isError, false, set.text);
  assert.deepEqual(set.structured?.quota, { maxConcurrentJobs: 1, maxGpus: 0, maxPriority: 100, priorityClass: null, source: 'project' });
  assert.equal(set.structured?.updated, true);

  const reader = await host.connect({ project: 'quota', scopes: ['jobs:write'] });
  const refused = flatten(await reader.callTool({ name: 'jobs_quota', arguments: { set: { maxConcurrentJobs: 5, maxGpus: null } } }));
  assert.equal(refused.isError, true);
  assert.match(refused.text, /^ANVIL_E_FORBIDDEN.*cluster:operate/);
  const read = flatten(await reader.callTool({ name: 'jobs_quota', arguments: {} }));
  assert.equal((read.structured?.quota as { maxConcurrentJobs: number }).maxConcurrentJobs, 1, 'the refused set changed nothing');

  // Another project's settings are the operator's to read: a project key only ever sees its own.
  const foreign = flatten(await reader.callTool({ name: 'jobs_quota', arguments: { project: 'default' } }));
  assert.equal(foreign.isError, true);
  assert.match(foreign.text, /^ANVIL_E_FORBIDDEN.*cluster:observe/);
});

test('jobs_explain: a quota-held job and a job with no worker that could serve it', async () => {
  const client = await host.connect({ project: 'explain', scopes: ['jobs:admin', 'cluster:operate'] });
  const call = async (name: string, args: Record<string, unknown>) => flatten(await client.callTool({ name, arguments: args }));
  await call('jobs_quota', { set: { maxConcurrentJobs: 1, maxGpus: null } });
  const first = String((await call('jobs_submit', { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 10 } })).structured?.id);
  const second = String((await call('jobs_submit', { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 10 } })).structured?.id);

  const dispatched = await call('jobs_explain', { id: first });
  assert.equal(dispatched.isError, false, dispatched.text);
  assert.equal(dispatched.structured?.dispatched, true);
  assert.equal(dispatched.structured?.etaSeconds, null);
  assert.equal(dispatched.structured?.freeSlots, 0);
  assert.deepEqual(dispatched.structured?.workers, []);
  assert.match(String(dispatched.structured?.summary), /no active worker could serve it/);

  const held = await call('jobs_explain', { id: second });
  assert.equal(held.structured?.dispatched, false);
  const quota = held.structured?.quota as { full: boolean; activeJobs: number; maxConcurrentJobs: number; source: string };
  assert.equal(quota.full, true);
  assert.equal(quota.activeJobs, 1);
  assert.equal(quota.source, 'project');
  assert.deepEqual(held.structured?.dependencies, { status: 'none', waitingOn: [], failed: [] });
  assert.match(String(held.structured?.summary), /quota is full/);
  assert.ok((held.structured?.position as { ahead: number }).ahead >= 1);

  const waiting = await call('jobs_submit', { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 10 }, dependsOn: [second] });
  const explainedWaiting = await call('jobs_explain', { id: String(waiting.structured?.id) });
  assert.deepEqual((explainedWaiting.structured?.dependencies as { waitingOn: string[] }).waitingOn, [second]);
  assert.match(String(explainedWaiting.structured?.summary), /waits for 1 dependency/);
});

test('jobs_explain counts only the caller\'s own jobs ahead; other projects\' work is named, never counted', async () => {
  const alpha = await host.connect({ project: 'queue-alpha', scopes: ['jobs:write'] });
  const beta = await host.connect({ project: 'queue-beta', scopes: ['jobs:write'] });
  const submitAs = async (client: Client) =>
    String(flatten(await client.callTool({ name: 'jobs_submit', arguments: { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 10 }, priority: 7 } })).structured?.id);
  for (let i = 0; i < 3; i += 1) await submitAs(alpha);
  await submitAs(beta);
  const mine = await submitAs(beta);
  const explained = flatten(await beta.callTool({ name: 'jobs_explain', arguments: { id: mine } }));
  assert.equal(explained.isError, false, explained.text);
  const position = explained.structured?.position as { ahead: number; otherProjectsAhead: boolean };
  assert.equal(position.ahead, 1, "only beta's own earlier job is counted");
  assert.equal(position.otherProjectsAhead, true);
  assert.doesNotMatch(String(explained.structured?.summary), /\b[34] (jobs|of)/, 'no total that includes alpha\'s jobs');
  assert.match(String(explained.structured?.summary), /1 of this project's job and other projects' work/);
});

test('jobs_logs pages within the byte budget and says how to read on', async () => {
  const id = await submit();
  await jobs.service.store.appendLogs(
    id,
    Array.from({ length: 50 }, (_, i) => ({ message: `line ${i + 1} ${'x'.repeat(90)}`, level: i === 49 ? ('error' as const) : ('info' as const) })),
  );
  const first = await host.call('jobs_logs', { id, maxBytes: 1_000 });
  assert.equal(first.isError, false, first.text);
  const lines = first.structured?.lines as Array<{ seq: number; message: string; level: string }>;
  assert.ok(lines.length >= 1 && lines.length < 50);
  assert.ok(lines.reduce((sum, line) => sum + Buffer.byteLength(line.message), 0) <= 1_000);
  assert.equal(lines[0]?.seq, 1);
  assert.equal(first.structured?.truncated, true);
  assert.equal(first.structured?.lastSeq, 50);
  assert.match(String(first.structured?.hint), new RegExp(`afterSeq ${String(first.structured?.nextSeq)}`));

  const rest = await host.call('jobs_logs', { id, afterSeq: first.structured?.nextSeq, maxBytes: 262_144 });
  const restLines = rest.structured?.lines as Array<{ seq: number }>;
  assert.equal(restLines[restLines.length - 1]?.seq, 50);
  assert.equal(rest.structured?.truncated, false);

  const tail = await host.call('jobs_logs', { id, tail: 2 });
  assert.deepEqual((tail.structured?.lines as Array<{ seq: number; level: string }>).map((line) => [line.seq, line.level]), [
    [49, 'info'],
    [50, 'error'],
  ]);
  const tooBig = await host.call('jobs_logs', { id, maxBytes: 262_145 });
  assert.equal(tooBig.isError, true);

  const resource = await host.client.readResource({ uri: `anvil://jobs/${id}/logs` });
  const text = (resource.contents[0] as { text: string }).text;
  assert.match(text, /^\[1 info\] line 1 x+/);
  assert.match(text, /\[50 error\] line 50 x+$/);
});

test('jobs_metrics downsamples and flags NaN, spikes and plateaus', async () => {
  const id = await submit();
  const loss = Array.from({ length: 1_000 }, (_, step) => ({ name: 'loss', step, value: step < 800 ? 2 - step / 500 : 0.4 }));
  (loss[300] as { value: number }).value = 40; // a spike
  const accuracy = Array.from({ length: 10 }, (_, step) => ({ name: 'accuracy', step, value: step === 9 ? Number.NaN : step / 10 }));
  await jobs.service.store.appendMetrics(id, [...loss, ...accuracy]);

  const outcome = await host.call('jobs_metrics', { id, maxPoints: 50 });
  assert.equal(outcome.isError, false, outcome.text);
  const metrics = outcome.structured?.metrics as Array<{ name: string; points: Array<{ step: number; value: number | string }>; downsampled: boolean; summary: Record<string, unknown> & { flags: Record<string, boolean> } }>;
  const lossSeries = metrics.find((metric) => metric.name === 'loss');
  const accuracySeries = metrics.find((metric) => metric.name === 'accuracy');
  assert.ok(lossSeries && accuracySeries);
  assert.equal(lossSeries.downsampled, true);
  assert.ok(lossSeries.points.length <= 50);
  assert.deepEqual(lossSeries.points[0], { step: 0, value: 2 });
  assert.deepEqual(lossSeries.points[lossSeries.points.length - 1], { step: 999, value: 0.4 });
  assert.ok(lossSeries.points.some((point) => point.step === 300 && point.value === 40), 'the spike survives downsampling');
  assert.equal(lossSeries.summary.count, 1_000);
  assert.equal(lossSeries.summary.max, 40);
  assert.equal(lossSeries.summary.min, 0.4);
  assert.equal(lossSeries.summary.lastStep, 999);
  assert.deepEqual(lossSeries.summary.flags, { nan: false, spike: true, plateau: true });

  assert.equal(accuracySeries.downsampled, false);
  assert.equal(accuracySeries.summary.last, 'NaN');
  assert.equal(accuracySeries.summary.max, 0.8);
  assert.equal(accuracySeries.summary.flags.nan, true);
  assert.deepEqual(accuracySeries.points[9], { step: 9, value: 'NaN' });

  const only = await host.call('jobs_metrics', { id, names: ['accuracy'] });
  assert.deepEqual((only.structured?.metrics as Array<{ name: string }>).map((metric) => metric.name), ['accuracy']);

  const resource = await host.client.readResource({ uri: `anvil://jobs/${id}/metrics` });
  const body = JSON.parse((resource.contents[0] as { text: string }).text) as { metrics: Array<{ name: string; summary: { flags: Record<string, boolean> } }> };
  assert.equal(body.metrics.find((metric) => metric.name === 'loss')?.summary.flags.spike, true);
});

test('the job resource is jobs_get as JSON, and NOT_FOUND for another project', async () => {
  const id = await submit();
  const resource = await host.client.readResource({ uri: `anvil://jobs/${id}` });
  const body = JSON.parse((resource.contents[0] as { text: string }).text) as Record<string, unknown>;
  assert.equal(body.id, id);
  assert.equal(body.state, 'queued');
  const other = await host.connect({ project: 'elsewhere' });
  await assert.rejects(other.readResource({ uri: `anvil://jobs/${id}` }), /No job .* in project elsewhere/);
});

test('scopes: a jobs:read caller cannot submit; workers_list needs workers:read', async () => {
  const reader = await host.connect({ scopes: ['jobs:read'] });
  const refused = flatten(await reader.callTool({ name: 'jobs_submit', arguments: { recipe: 'diagnostics.counter' } }));
  assert.equal(refused.isError, true);
  assert.match(refused.text, /ANVIL_E_FORBIDDEN/);
  const workers = flatten(await reader.callTool({ name: 'workers_list', arguments: {} }));
  assert.match(workers.text, /ANVIL_E_FORBIDDEN/);
  const listed = await host.call('workers_list', {});
  assert.equal(listed.isError, false, listed.text);
  assert.deepEqual(listed.structured?.workers, []);
});

test('jobs_get with waitSeconds returns when the job ends (a cancel) and when time runs out', async () => {
  const id = await submit();
  const started = Date.now();
  const waiting = host.call('jobs_get', { id, waitSeconds: 1 });
  const timedOut = await waiting;
  assert.equal(timedOut.structured?.state, 'queued');
  assert.equal(timedOut.structured?.timedOut, true);
  assert.ok(Date.now() - started >= 900);

  const second = await submit();
  const until = host.call('jobs_get', { id: second, waitSeconds: 30 });
  await new Promise((resolve) => setTimeout(resolve, 200));
  await jobs.service.cancel('default', second, 'test');
  const ended = await until;
  assert.equal(ended.structured?.state, 'cancelled');
  assert.equal(ended.structured?.timedOut, false);
  assert.ok(Date.now() - started < 10_000);
});

test('diagnostics.counter runs to success on the local worker, watched with jobs_get waitSeconds', async () => {
  const withWorker = await createTestHost({ plugins: [] });
  try {
    const submitted = await withWorker.call('jobs_submit', { recipe: 'diagnostics.counter', params: { steps: 5, stepMs: 20 } });
    assert.equal(submitted.isError, false, submitted.text);
    const id = String(submitted.structured?.id);
    const progress: number[] = [];
    const result = flatten(
      await withWorker.client.callTool({ name: 'jobs_get', arguments: { id, waitSeconds: 60 } }, { onprogress: (update) => progress.push(update.progress), timeout: 90_000 }),
    );
    assert.equal(result.isError, false, result.text);
    assert.equal(result.structured?.state, 'succeeded', JSON.stringify(result.structured?.error));
    assert.equal(result.structured?.timedOut, false);
    assert.ok(progress.length >= 1, 'progress was reported');
    for (let i = 1; i < progress.length; i++) assert.ok((progress[i] as number) > (progress[i - 1] as number), 'progress increases');
    const metrics = await withWorker.call('jobs_metrics', { id, names: ['count'] });
    const count = (metrics.structured?.metrics as Array<{ summary: { last: number } }>)[0];
    assert.equal(count?.summary.last, 5);
    const explained = await withWorker.call('jobs_explain', { id });
    assert.match(String(explained.structured?.summary), /succeeded/);
  } finally {
    await withWorker.close();
  }
});

test('resource notifications: bus changes become throttled resourceUpdated calls for the right URIs', async () => {
  assert.deepEqual(urisFor({ type: 'job', project: 'p', jobId: 'j', kind: 'state' }), ['anvil://jobs/j']);
  assert.deepEqual(urisFor({ type: 'job', project: 'p', jobId: 'j', kind: 'logs' }), ['anvil://jobs/j/logs']);
  assert.deepEqual(urisFor({ type: 'job', project: 'p', jobId: 'j', kind: 'metrics' }), ['anvil://jobs/j/metrics']);
  assert.deepEqual(urisFor({ type: 'stop', jobId: 'j', worker: 'w', why: 'cancelled' }), []);

  const emitted: string[] = [];
  const throttle = perKeyThrottle((key) => emitted.push(key), 100);
  for (let i = 0; i < 5; i++) throttle.push('a');
  throttle.push('b');
  assert.deepEqual(emitted, ['a', 'b'], 'the first of a burst goes out at once');
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.deepEqual(emitted, ['a', 'b', 'a'], 'the rest of the burst is folded into one at the end of the window');
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.deepEqual(emitted, ['a', 'b', 'a'], 'nothing more without new changes');
  throttle.stop();

  const seen: string[] = [];
  const detach = host.server.runtime.services.resources.attach((uri) => seen.push(uri));
  startNotifications(jobs);
  const id = await submit();
  await jobs.bus.publish({ type: 'job', project: 'default', jobId: id, kind: 'logs' });
  await jobs.bus.publish({ type: 'job', project: 'default', jobId: id, kind: 'metrics' });
  await jobs.service.cancel('default', id);
  detach();
  assert.ok(seen.includes(`anvil://jobs/${id}`), JSON.stringify(seen));
  assert.ok(seen.includes(`anvil://jobs/${id}/logs`));
  assert.ok(seen.includes(`anvil://jobs/${id}/metrics`));
});

test('resources/subscribe is accepted and kept per server instance; updates reach the subscriber', async () => {
  const subscribed = new Map<unknown, Set<string>>();
  const factory = createServerFactory({
    catalog: () => host.server.plugins.catalog,
    deps: host.server.runtime.toolCallDeps,
    transport: 'in-memory',
    localPrincipal: localPrincipal('sub', 'default', ['*']),
    subscriptions: {
      subscribe: (server, uri) => subscribed.set(server, new Set([...(subscribed.get(server) ?? []), uri])),
      unsubscribe: (server, uri) => subscribed.get(server)?.delete(uri),
    },
  });
  const server = await factory({ era: 'legacy' });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'subscriber', version: '1.0.0' });
  await client.connect(clientSide);
  try {
    assert.equal(client.getServerCapabilities()?.resources?.subscribe, true);
    const id = await submit();
    const uri = `anvil://jobs/${id}`;
    const updates: string[] = [];
    client.setNotificationHandler('notifications/resources/updated', (notification) => {
      updates.push(notification.params.uri);
    });
    await client.subscribeResource({ uri });
    assert.deepEqual([...(subscribed.get(server) ?? [])], [uri]);
    await (server as McpServer).server.sendResourceUpdated({ uri });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(updates, [uri]);
    await client.unsubscribeResource({ uri });
    assert.deepEqual([...(subscribed.get(server) ?? [])], []);
  } finally {
    await client.close();
  }
});
