/**
 * Agent runs survive SIGKILL, on embedded storage (PGlite) and on Postgres (DATABASE_URL): a run
 * waiting for approval is decided after a restart and its step runs once; a run killed while its
 * step's tool was running is resumed by the restarted server (after the dead server's lease ran
 * out) and the step's side effect happens once — the tool is called again with the same
 * idempotency key. Real spawned servers, real MCP over HTTP, real keys.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { connectHttp, createHome, startAnvil, type AnvilServerProcess, type EnvPatch, type McpHttpSession, type TempHome, type ToolOutcome } from '../support/anvil-process.ts';
import { createTempDatabase, type TempDatabase } from '../support/temp-db.ts';

type Row = Record<string, unknown>;
const fixture = fileURLToPath(new URL('../fixtures/agent/sidefx-plugin.ts', import.meta.url));
const LEASE_MS = 1_500;

function ok(outcome: ToolOutcome): Row {
  assert.equal(outcome.isError, false, outcome.text);
  return outcome.structured ?? {};
}

const stepOf = (run: Row, id: string) => (run.steps as Row[]).find((step) => step.id === id) as Row;

function configure(home: string): void {
  const file = path.join(home, 'anvil.config.json');
  const current = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Row) : {};
  const plugins = [
    { module: fixture, permissions: ['sql'] },
    { id: 'agent', config: { leaseMs: LEASE_MS, settleMs: 1_500, resumeEveryMs: 300 } },
  ];
  writeFileSync(file, JSON.stringify({ ...current, plugins }, null, 2));
}

async function until(session: McpHttpSession, runId: string, statuses: string[], timeoutMs = 45_000): Promise<Row> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = ok(await session.callTool('ops_get', { runId }));
    if (statuses.includes(run.status as string)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} stayed ${String(run.status)}: ${JSON.stringify(run)}`);
    await sleep(150);
  }
}

function legs(): Array<{ name: string; skip: string | false; env: () => Promise<{ env: EnvPatch; drop?: () => Promise<void> }> }> {
  const required = process.env.ANVIL_TEST_REQUIRE_SERVICES === '1';
  return [
    { name: 'embedded (PGlite)', skip: false, env: async () => ({ env: {} }) },
    {
      name: 'Postgres',
      skip: !process.env.DATABASE_URL && !required ? 'skipped: DATABASE_URL not set' : false,
      env: async () => {
        const db: TempDatabase = await createTempDatabase();
        return { env: { DATABASE_URL: db.url, ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}) }, drop: () => db.drop() };
      },
    },
  ];
}

for (const leg of legs()) {
  describe(`agent runs survive a SIGKILL: ${leg.name}`, { skip: leg.skip }, () => {
    let home: TempHome;
    let env: EnvPatch;
    let drop: (() => Promise<void>) | undefined;
    let server: AnvilServerProcess | undefined;
    let requesterKey: string;
    let approverKey: string;

    const start = async () => {
      server = await startAnvil({ home: home.home, env });
      return server;
    };
    const session = async (key: string) => connectHttp('sdk2', (server as AnvilServerProcess).mcpUrl, { key });
    const kill = async () => {
      await server?.stop({ signal: 'SIGKILL', timeoutMs: 5_000 });
      server = undefined;
    };

    before(async () => {
      home = await createHome();
      configure(home.home);
      ({ env, drop } = await leg.env());
      const first = await start();
      requesterKey = (await first.createKey('alpha', 'agent:write,sidefx:write,sidefx:read,approvals:read', 'requester')).key;
      approverKey = (await first.createKey('alpha', 'approvals:write,agent:read', 'approver')).key;
    });
    after(async () => {
      await server?.dispose();
      home?.remove();
      await drop?.();
    });

    test('killed while one run waits for approval and another is mid-step: after restart each step runs exactly once', async () => {
      let requester = await session(requesterKey);
      const waiting = ok(await requester.callTool('ops_ask', { command: 'wipe notes' }));
      assert.equal(waiting.status, 'waiting_approval', JSON.stringify(waiting));
      const approvalId = stepOf(waiting, 's2').approvalId as string;
      const notesBefore = ok(await requester.callTool('sidefx_count')).count as number;
      const running = ok(await requester.callTool('ops_ask', { command: 'slow note' }));
      assert.equal(running.status, 'running', JSON.stringify(running));
      // The slow tool has written its row and sleeps: kill the server now, mid-step.
      const deadline = Date.now() + 20_000;
      while ((ok(await requester.callTool('sidefx_count')).count as number) === notesBefore) {
        if (Date.now() > deadline) throw new Error('the slow note never wrote its row');
        await sleep(100);
      }
      await requester.close().catch(() => undefined);
      await kill();

      await start();
      const approver = await session(approverKey);
      ok(await approver.callTool('approvals_decide', { id: approvalId, decision: 'approve' }));
      await approver.close();
      requester = await session(requesterKey);

      const approved = await until(requester, waiting.runId as string, ['succeeded', 'failed', 'rejected']);
      assert.equal(approved.status, 'succeeded', JSON.stringify(approved));
      assert.equal(stepOf(approved, 's2').attempts, 1);
      assert.equal(stepOf(approved, 's1').attempts, 1, 'the step before the approval did not run again');

      const resumed = await until(requester, running.runId as string, ['succeeded', 'failed']);
      assert.equal(resumed.status, 'succeeded', JSON.stringify(resumed));
      assert.equal(stepOf(resumed, 's1').attempts, 2, 'the tool was called again after the restart, with the same idempotency key');

      const counts = ok(await requester.callTool('sidefx_count'));
      assert.equal(counts.wipes, 1, 'one wipe');
      // notesBefore, the slow note once, and the "wiped" note of the approved run.
      assert.equal(counts.count, notesBefore + 2, 'the slow note was written once, not twice');
      await requester.close();
    });
  });
}
