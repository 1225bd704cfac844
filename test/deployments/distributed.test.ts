/**
 * Two `anvil serve` processes on one Postgres (BullMQ on Redis, artifacts on a shared directory):
 * the same request keys reach the same variants through either server, and a canary advanced by
 * the controllers of both servers is stepped exactly once per step.
 *
 * Needs DATABASE_URL and REDIS_URL; skipped without them, failed without them when
 * ANVIL_TEST_REQUIRE_SERVICES=1 (CI).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { type AnvilServerProcess, connectHttp, type McpHttpSession, startAnvil } from '../support/anvil-process.ts';
import { createTempDatabase, type TempDatabase } from '../support/temp-db.ts';
import { banking77Missing, banking77Slice, ok, trainVersion, writeSliceCsv } from './support.ts';

const missingServices = (['DATABASE_URL', 'REDIS_URL'] as const).filter((name) => !process.env[name]);
const required = process.env.ANVIL_TEST_REQUIRE_SERVICES === '1';
const skip = banking77Missing() ?? (missingServices.length > 0 && !required ? `skipped: ${missingServices.join(' and ')} not set` : false);

interface View {
  variants: Array<{ version: number; weight: number }>;
  rollout: { state: string; stepIndex: number } | null;
  history: Array<{ action: string; detail: Record<string, unknown> }>;
}

describe('deployments: two servers on Postgres', { skip }, () => {
  let db: TempDatabase;
  let artifacts: string;
  const servers: AnvilServerProcess[] = [];
  const sessions: McpHttpSession[] = [];
  let good: number;
  let bad: number;

  before(async () => {
    if (missingServices.length > 0) throw new Error(`${missingServices.join(' and ')} not set, but ANVIL_TEST_REQUIRE_SERVICES=1`);
    db = await createTempDatabase();
    artifacts = mkdtempSync(path.join(os.tmpdir(), 'anvil-deploy-artifacts-'));
    const env = { DATABASE_URL: db.url, REDIS_URL: process.env.REDIS_URL, ANVIL_QUEUE_PREFIX: `deploy-${process.pid}`, ANVIL_ARTIFACT_DIR: artifacts };
    servers.push(await startAnvil({ env: { ...env, ANVIL_LOCAL_WORKER: 'on' } }));
    servers.push(await startAnvil({ env: { ...env, ANVIL_LOCAL_WORKER: 'off' } }));
    const key = await (servers[0] as AnvilServerProcess).createKey('default', '*');
    for (const server of servers) sessions.push(await connectHttp('sdk2', server.mcpUrl, { key: key.key }));
    const first = sessions[0] as McpHttpSession;
    const call = (tool: string, args?: Record<string, unknown>) => first.callTool(tool, args);
    const slice = banking77Slice();
    const home = (servers[0] as AnvilServerProcess).home;
    good = await trainVersion(call, writeSliceCsv(home, 'good.csv', slice.train), 'b77-good', 'intents');
    bad = await trainVersion(call, writeSliceCsv(home, 'bad.csv', slice.train, 99), 'b77-shuffled', 'intents');
    ok(await call('deployments_create', { name: 'intents', model: 'intents', version: good }));
  });
  after(async () => {
    for (const session of sessions) await session.close().catch(() => {});
    for (const server of servers) await server.dispose();
    await db?.drop().catch(() => {});
    if (artifacts) rmSync(artifacts, { recursive: true, force: true });
  });

  test('the same keys reach the same variants through either server', async () => {
    const [a, b] = sessions as [McpHttpSession, McpHttpSession];
    ok(await a.callTool('deployments_set_traffic', { name: 'intents', weights: { [`v${good}`]: 50, [`v${bad}`]: 50 } }));
    await sleep(1200);
    const seen = { [`v${good}`]: 0, [`v${bad}`]: 0 };
    for (let i = 0; i < 100; i++) {
      const requestKey = `customer-${i}`;
      const viaA = ok<{ predictions: Array<{ variant: string }> }>(await a.callTool('predict', { deployment: 'intents', inputs: ['my card is lost'], requestKey })).predictions[0]?.variant;
      const viaB = ok<{ predictions: Array<{ variant: string }> }>(await b.callTool('predict', { deployment: 'intents', inputs: ['my card is lost'], requestKey })).predictions[0]?.variant;
      assert.equal(viaA, viaB, requestKey);
      seen[viaA as string] = (seen[viaA as string] ?? 0) + 1;
    }
    assert.ok(Object.values(seen).every((n) => n > 20), JSON.stringify(seen));
    ok(await a.callTool('deployments_set_traffic', { name: 'intents', weights: { [`v${good}`]: 100 } }));
  });

  test('one controller: each canary step happens once although both servers run the controller', async () => {
    const [a, b] = sessions as [McpHttpSession, McpHttpSession];
    ok(
      await b.callTool('deployments_canary', {
        name: 'intents',
        candidate: bad,
        steps: [{ percent: 10, pauseSeconds: 1 }, { percent: 20, pauseSeconds: 1 }, { percent: 30, pauseSeconds: 1 }, { percent: 100, untilApproved: true }],
      }),
    );
    const end = Date.now() + 60_000;
    let view: View;
    for (;;) {
      view = ok<View>(await a.callTool('deployments_get', { name: 'intents' }));
      if (view.rollout?.state === 'awaiting-approval') break;
      assert.ok(Date.now() < end, JSON.stringify(view.rollout));
      await sleep(300);
    }
    const steps = view.history.filter((h) => h.action === 'canary_step').map((h) => h.detail.step);
    assert.deepEqual(steps.sort(), [1, 2, 3], 'every step exactly once');
    assert.deepEqual(view.variants.map((v) => [v.version, v.weight]), [[good, 0], [bad, 100]].filter(([, w]) => (w as number) > 0));
    const approved = ok<View>(await b.callTool('deployments_canary', { name: 'intents', action: 'approve' }));
    assert.equal(approved.rollout?.state, 'completed');
  });
});
