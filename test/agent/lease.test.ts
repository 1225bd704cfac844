/**
 * Two servers on one Postgres database: while one drives a run (its tool call takes longer than the
 * lease, which it renews), the other's resume schedule never takes the run over, so the step runs
 * once. Needs DATABASE_URL; skipped without it.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { createTestHost, type TestHost } from 'anvil/testing';
import sidefx from '../fixtures/agent/sidefx-plugin.ts';
import { createTempDatabase, type TempDatabase } from '../support/temp-db.ts';

type Row = Record<string, unknown>;
const required = process.env.ANVIL_TEST_REQUIRE_SERVICES === '1';
const skip = !process.env.DATABASE_URL && !required ? 'skipped: DATABASE_URL not set' : false;
const PRINCIPAL = { project: 'alpha', name: 'requester', scopes: ['agent:write', 'agent:read', 'sidefx:write', 'sidefx:read'] };

async function call(client: Client, name: string, args: Row = {}): Promise<Row> {
  const result = (await client.callTool({ name, arguments: args })) as { isError?: boolean; content?: Array<{ text?: string }>; structuredContent?: Row };
  assert.notEqual(result.isError, true, result.content?.map((part) => part.text).join('\n'));
  return result.structuredContent ?? {};
}

describe('one run, two servers', { skip }, () => {
  let db: TempDatabase;
  let first: TestHost;
  let second: TestHost;

  before(async () => {
    db = await createTempDatabase();
    const config = { plugins: [{ id: 'agent', config: { leaseMs: 1_000, settleMs: 300, resumeEveryMs: 600_000 } }] };
    const env = { DATABASE_URL: db.url, ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}) };
    first = await createTestHost({ plugins: [sidefx], config, env, principal: PRINCIPAL });
    second = await createTestHost({ plugins: [sidefx], config, env, principal: PRINCIPAL });
  });
  after(async () => {
    await first?.close();
    await second?.close();
    await db?.drop();
  });

  test('the other server never takes over a run whose lease is being renewed', async () => {
    const a = await first.connect(PRINCIPAL);
    const b = await second.connect(PRINCIPAL);
    const run = await call(a, 'ops_ask', { command: 'slow note' });
    assert.equal(run.status, 'running');
    // The slow tool sleeps 5 s, five leases long; the second server tries to resume all the while.
    const deadline = Date.now() + 30_000;
    let done: Row;
    for (;;) {
      await second.runScheduled('agent', 'resume-runs');
      done = await call(b, 'ops_get', { runId: run.runId });
      if (done.status !== 'running') break;
      if (Date.now() > deadline) throw new Error(`still running: ${JSON.stringify(done)}`);
      await sleep(200);
    }
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal(((done.steps as Row[])[0] as Row).attempts, 1, 'called once, by the server holding the lease');
    assert.equal((await call(b, 'sidefx_count')).count, 1);
  });
});
