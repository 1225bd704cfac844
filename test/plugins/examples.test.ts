/**
 * The example plugins under plugins/examples, through a real in-process server (`anvil/testing`):
 * hello's tool round-trips; webhooks delivers signed events to local receivers, retries failures
 * with backoff, dead-letters what runs out of attempts, and shows each project only its own rows.
 */
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { createTestHost, flatten, type CallOutcome, type TestHost } from 'anvil/testing';
import { helloPlugin } from '../../plugins/examples/hello/index.ts';
import { signatureHeader, verifySignature, webhooksPlugin } from '../../plugins/examples/webhooks/index.ts';

// ---------------------------------------------------------------------------------------------
// A webhook receiver, as a customer would write one: verify the signature before trusting the body.

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** Checked here with node:crypto only, independently of the plugin's own helper. */
  signatureValid: boolean;
  status: number;
}

interface Receiver {
  readonly url: string;
  readonly secret: string;
  readonly requests: Received[];
  forEvent(eventId: string): Received[];
  close(): Promise<void>;
}

/** Verifies `t=<unix>,v1=<hex>` over "<t>.<body>" with a 5-minute tolerance, in constant time. */
function independentlyVerified(secret: string, body: string, header: string | undefined): boolean {
  const parts = Object.fromEntries((header ?? '').split(',').map((part) => part.split('=', 2) as [string, string]));
  const timestamp = Number(parts.t);
  if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > 300 || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** `answer(n)` gives the status for the n-th request (1-based) carrying the same event id. */
async function startReceiver(secret: string, answer: (attemptForEvent: number) => number): Promise<Receiver> {
  const requests: Received[] = [];
  const forEvent = (eventId: string) => requests.filter((request) => request.headers['anvil-event-id'] === eventId);
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = request.headers['anvil-signature'];
      const signatureValid = independentlyVerified(secret, body, typeof header === 'string' ? header : undefined);
      const eventId = String(request.headers['anvil-event-id']);
      const status = signatureValid ? answer(forEvent(eventId).length + 1) : 401;
      requests.push({ headers: request.headers, body, signatureValid, status });
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    secret,
    requests,
    forEvent,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls `check` until it returns a value; fails naming `what` after `timeoutMs`. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

interface DeliveryView {
  eventId: string;
  eventType: string;
  endpoint: string;
  attempt: number;
  statusCode: number | null;
  error: string | null;
}

interface DeadLetterView {
  eventId: string;
  endpoint: string;
  attempts: number;
  lastError: string;
  event: { id: string; type: string; project: string; payload: Record<string, unknown> };
}

function ok(outcome: CallOutcome): Record<string, unknown> {
  assert.equal(outcome.isError, false, outcome.text);
  assert.ok(outcome.structured);
  return outcome.structured;
}

// ---------------------------------------------------------------------------------------------

describe('example plugins', () => {
  const secrets = { ok: 'whsec_ok_0123456789abcdef', flaky: 'whsec_flaky_0123456789abcdef', down: 'whsec_down_0123456789abcdef' };
  let okReceiver: Receiver;
  let flakyReceiver: Receiver;
  let downReceiver: Receiver;
  let host: TestHost | undefined;
  let other: Client;
  const receivers: Receiver[] = [];

  const callAs = async (client: Client, tool: string, args: Record<string, unknown> = {}) => flatten(await client.callTool({ name: tool, arguments: args }));
  const deliveries = async (client: Client, args: Record<string, unknown> = {}) =>
    ok(await callAs(client, 'webhooks_deliveries', { limit: 100, ...args })).deliveries as DeliveryView[];
  const deadLetters = async (client: Client) => ok(await callAs(client, 'webhooks_dead_letters', { limit: 100 })).deadLetters as DeadLetterView[];
  const sendTest = async (client: Client, args: Record<string, unknown> = {}) => {
    const sent = ok(await callAs(client, 'webhooks_send_test', args));
    assert.equal(sent.type, 'webhooks.test');
    assert.match(String(sent.eventId), /^[0-9a-f-]{36}$/);
    return String(sent.eventId);
  };

  before(async () => {
    okReceiver = await startReceiver(secrets.ok, () => 200);
    receivers.push(okReceiver);
    flakyReceiver = await startReceiver(secrets.flaky, (attempt) => (attempt <= 2 ? 500 : 200));
    receivers.push(flakyReceiver);
    downReceiver = await startReceiver(secrets.down, () => 500);
    receivers.push(downReceiver);
    host = await createTestHost({
      plugins: [
        helloPlugin,
        {
          plugin: webhooksPlugin,
          config: {
            endpoints: [okReceiver, flakyReceiver, downReceiver].map((receiver) => ({ url: receiver.url, secret: receiver.secret, events: ['webhooks.*'] })),
            maxAttempts: 3,
            backoffMs: 50,
            timeoutMs: 5_000,
          },
        },
      ],
    });
    other = await host.connect({ project: 'other', name: 'outsider', scopes: ['*'] });
  });

  after(async () => {
    await host?.close();
    await Promise.allSettled(receivers.map((receiver) => receiver.close()));
  });

  const client = (): Client => {
    assert.ok(host);
    return host.client;
  };

  it('hello: greet round-trips through MCP, validated both ways', async () => {
    assert.ok(host);
    const { tools } = await host.client.listTools();
    const greet = tools.find((tool) => tool.name === 'hello_greet');
    assert.ok(greet, tools.map((tool) => tool.name).join(', '));
    assert.deepEqual(greet.inputSchema.required, ['name']);
    assert.deepEqual(ok(await host.call('hello_greet', { name: 'Ada' })), { message: 'Hello, Ada!', project: 'default' });
    const bad = await host.call('hello_greet', { name: '' });
    assert.equal(bad.isError, true);
    assert.match(bad.text, /^ANVIL_E_INVALID_INPUT: .*name/);
  });

  it('webhooks: send_test delivers a correctly signed event body to a subscribed endpoint', async () => {
    const eventId = await sendTest(client(), { message: 'hi', data: { answer: 42 } });
    const [received] = await waitFor('the ok receiver to get the event', () => {
      const got = okReceiver.forEvent(eventId);
      return got.length > 0 ? got : undefined;
    });
    assert.ok(received);
    assert.equal(received.signatureValid, true);
    assert.equal(received.headers['content-type'], 'application/json');
    const body = JSON.parse(received.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['at', 'id', 'payload', 'project', 'type']);
    assert.equal(body.id, eventId);
    assert.equal(body.type, 'webhooks.test');
    assert.equal(body.project, 'default');
    assert.ok(!Number.isNaN(Date.parse(String(body.at))));
    assert.deepEqual({ ...(body.payload as Record<string, unknown>), testId: 'x' }, { message: 'hi', data: { answer: 42 }, testId: 'x' });

    // The plugin's own helper (what the README tells receivers to use) agrees, and refuses tampering and replays.
    const header = String(received.headers['anvil-signature']);
    assert.deepEqual(verifySignature({ secret: secrets.ok, body: received.body, header }).ok, true);
    assert.deepEqual(verifySignature({ secret: secrets.flaky, body: received.body, header }), { ok: false, reason: 'signature does not match' });
    assert.deepEqual(verifySignature({ secret: secrets.ok, body: `${received.body} `, header }), { ok: false, reason: 'signature does not match' });
    assert.deepEqual(verifySignature({ secret: secrets.ok, body: received.body, header, now: Date.now() + 301_000 }), {
      ok: false,
      reason: 'timestamp outside the 300 s tolerance window',
    });
    const old = signatureHeader(secrets.ok, received.body, Math.floor(Date.now() / 1000) - 3_600);
    assert.equal(verifySignature({ secret: secrets.ok, body: received.body, header: old }).ok, false);

    const rows = await waitFor('the attempt to be recorded', async () => {
      const found = (await deliveries(client(), { eventId })).filter((row) => row.endpoint === okReceiver.url);
      return found.length > 0 ? found : undefined;
    });
    assert.deepEqual(
      rows.map((row) => [row.attempt, row.statusCode, row.error, row.eventType]),
      [[1, 200, null, 'webhooks.test']],
    );
  });

  it('webhooks: a receiver answering 500 twice, then 200, gets the event on attempt 3 (3 attempts recorded)', async () => {
    const eventId = await sendTest(client());
    const rows = await waitFor('the third, successful attempt', async () => {
      const found = (await deliveries(client(), { eventId })).filter((row) => row.endpoint === flakyReceiver.url);
      return found.some((row) => row.statusCode === 200) ? found : undefined;
    });
    assert.deepEqual(
      rows.map((row) => [row.attempt, row.statusCode, row.error]).reverse(),
      [
        [1, 500, 'HTTP 500'],
        [2, 500, 'HTTP 500'],
        [3, 200, null],
      ],
    );
    const received = flakyReceiver.forEvent(eventId);
    assert.deepEqual(
      received.map((request) => [request.headers['anvil-delivery-attempt'], request.status, request.signatureValid]),
      [
        ['1', 500, true],
        ['2', 500, true],
        ['3', 200, true],
      ],
    );
    assert.equal(new Set(received.map((request) => request.body)).size, 1, 'every attempt carries the same body');
    assert.ok(!(await deadLetters(client())).some((row) => row.eventId === eventId && row.endpoint === flakyReceiver.url));
  });

  it('webhooks: a receiver always answering 500 leaves a dead letter after maxAttempts (3)', async () => {
    const eventId = await sendTest(client(), { message: 'doomed' });
    const letter = await waitFor('the dead letter', async () => (await deadLetters(client())).find((row) => row.eventId === eventId));
    assert.equal(letter.endpoint, downReceiver.url);
    assert.equal(letter.attempts, 3);
    assert.equal(letter.lastError, 'HTTP 500');
    assert.equal(letter.event.id, eventId);
    assert.equal(letter.event.type, 'webhooks.test');
    assert.equal(letter.event.payload.message, 'doomed');
    const attempts = (await deliveries(client(), { eventId })).filter((row) => row.endpoint === downReceiver.url);
    assert.deepEqual(
      attempts.map((row) => [row.attempt, row.statusCode]).reverse(),
      [
        [1, 500],
        [2, 500],
        [3, 500],
      ],
    );
    assert.equal(downReceiver.forEvent(eventId).length, 3);
  });

  it("webhooks: another project's principal sees none of these deliveries or dead letters, only its own", async () => {
    assert.ok(host);
    const mine = await deliveries(client());
    assert.ok(mine.length >= 9, `default has ${mine.length} attempts`);
    assert.deepEqual(await deliveries(other), []);
    assert.deepEqual(await deadLetters(other), []);
    // Asking for one of default's events by id does not reach it either.
    assert.deepEqual(await deliveries(other, { eventId: mine[0]?.eventId }), []);

    const theirs = await sendTest(other);
    await waitFor("the other project's event to reach the ok receiver", () => (okReceiver.forEvent(theirs).length > 0 ? true : undefined));
    await waitFor("the other project's attempt to be recorded", async () => ((await deliveries(other)).some((row) => row.eventId === theirs) ? true : undefined));
    assert.ok((await deliveries(other)).every((row) => row.eventId === theirs));
    assert.ok(!(await deliveries(client())).some((row) => row.eventId === theirs));
    assert.equal(JSON.parse(okReceiver.forEvent(theirs)[0]?.body ?? '{}').project, 'other');
  });

  it('webhooks: deliveries page with cursor/nextCursor, without gaps or repeats', async () => {
    assert.ok(host);
    // Let every retry finish first, so that the pages and the whole list describe the same rows.
    const queue = host.server.runtime.services.queue.openQueue('webhooks-deliveries');
    await waitFor('the delivery queue to settle', async () => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed');
      return Object.values(counts).every((count) => count === 0) ? true : undefined;
    });
    const all = await deliveries(client());
    const seen: DeliveryView[] = [];
    let cursor: string | undefined;
    for (let pageNumber = 0; pageNumber < 50; pageNumber += 1) {
      const page = ok(await host.call('webhooks_deliveries', { limit: 2, ...(cursor ? { cursor } : {}) }));
      seen.push(...(page.deliveries as DeliveryView[]));
      if (page.nextCursor === null) break;
      cursor = String(page.nextCursor);
    }
    assert.deepEqual(seen, all);
  });

  it('webhooks: scopes: send_test needs webhooks:write, the read tools webhooks:read', async () => {
    assert.ok(host);
    const reader = await host.connect({ name: 'reader', scopes: ['webhooks:read'] });
    const refused = await callAs(reader, 'webhooks_send_test');
    assert.match(refused.text, /^ANVIL_E_FORBIDDEN: webhooks_send_test requires scope webhooks:write/);
    assert.equal((await callAs(reader, 'webhooks_deliveries')).isError, false);
    const outsider = await host.connect({ name: 'trainer', scopes: ['training:admin'] });
    assert.match((await callAs(outsider, 'webhooks_dead_letters')).text, /^ANVIL_E_FORBIDDEN: webhooks_dead_letters requires scope webhooks:read/);
    // Levels nest: write implies read.
    const writer = await host.connect({ name: 'writer', scopes: ['webhooks:write'] });
    assert.equal((await callAs(writer, 'webhooks_dead_letters')).isError, false);
  });

  it('webhooks: endpoint secrets are stored nowhere: not in the attempt log, dead letters or queued jobs', async () => {
    assert.ok(host);
    const { storage, queue } = host.server.runtime.services;
    const tables = await storage.query<{ text: string }>(
      `select row_to_json(d)::text as text from plugin_webhooks.deliveries d
       union all select row_to_json(l)::text from plugin_webhooks.dead_letters l`,
    );
    const jobs = await queue.openQueue('webhooks-deliveries').getJobs(['completed', 'failed', 'delayed', 'waiting', 'active']);
    assert.ok(jobs.length > 0 && tables.rows.length > 0);
    const stored = JSON.stringify([tables.rows, jobs.map((job) => [job.data, job.failedReason, job.returnvalue, job.stacktrace])]);
    for (const secret of Object.values(secrets)) assert.ok(!stored.includes(secret), 'a secret was stored');
    assert.ok(jobs.every((job) => /^[0-9a-f-]{36}\.[0-2]$/.test(String(job.id))), jobs.map((job) => job.id).join(', '));
  });
});
