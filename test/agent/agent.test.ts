/**
 * The ops agent's runtime over real MCP clients, a real embedded database, the real approvals
 * plugin and LangGraph's Postgres checkpointer: dry runs, approvals (who may decide, rejections,
 * changed arguments), thread memory, plans refused for tools the caller cannot call, tenancy,
 * paging, cancel and checkpoint retention. Plans come from a scripted planner (test/fixtures/agent).
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { createTestHost, type TestHost } from 'anvil/testing';
import sidefx from '../fixtures/agent/sidefx-plugin.ts';

type Row = Record<string, unknown>;
interface Outcome {
  isError: boolean;
  text: string;
  structured: Row;
}

const agentConfig = { leaseMs: 5_000, settleMs: 10_000, resumeEveryMs: 60_000, checkpointRetentionDays: 0 };
const REQUESTER = { project: 'alpha', name: 'requester', scopes: ['agent:write', 'sidefx:write', 'approvals:read'] };
const APPROVER = { project: 'alpha', name: 'approver', scopes: ['approvals:write', 'agent:read'] };
const FOREIGN = { project: 'beta', name: 'foreign', scopes: ['*'] };

async function call(client: Client, name: string, args: Row = {}): Promise<Outcome> {
  const result = (await client.callTool({ name, arguments: args })) as { isError?: boolean; content?: Array<{ type: string; text?: string }>; structuredContent?: Row };
  return { isError: result.isError === true, text: result.content?.map((part) => part.text ?? '').join('\n') ?? '', structured: result.structuredContent ?? {} };
}

function ok(outcome: Outcome): Row {
  assert.equal(outcome.isError, false, outcome.text);
  return outcome.structured;
}

function fails(outcome: Outcome, code: string): void {
  assert.equal(outcome.isError, true, `expected ${code}, got ${JSON.stringify(outcome.structured)}`);
  assert.match(outcome.text, new RegExp(code));
}

const stepOf = (run: Row, id: string) => (run.steps as Row[]).find((step) => step.id === id) as Row;

describe('agent runtime', () => {
  let host: TestHost;
  let requester: Client;
  let approver: Client;
  let foreign: Client;

  const counts = async () => ok(await call(requester, 'sidefx_count')) as { count: number; wipes: number };
  const until = async (runId: string, statuses: string[], timeoutMs = 20_000): Promise<Row> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = ok(await call(requester, 'ops_get', { runId }));
      if (statuses.includes(run.status as string)) return run;
      if (Date.now() > deadline) throw new Error(`run ${runId} stayed ${String(run.status)}: ${JSON.stringify(run)}`);
      await sleep(100);
    }
  };
  const decide = async (who: Client, run: Row, stepId: string, decision: 'approve' | 'deny') =>
    call(who, 'approvals_decide', { id: stepOf(run, stepId).approvalId as string, decision });

  before(async () => {
    host = await createTestHost({ plugins: [sidefx], config: { plugins: [{ id: 'agent', config: agentConfig }] } });
    REQUESTER.scopes.push('sidefx:read', 'agent:read');
    requester = await host.connect(REQUESTER);
    approver = await host.connect(APPROVER);
    foreign = await host.connect(FOREIGN);
  });
  after(() => host?.close());

  test('a dry run returns the plan and which steps need approval, and runs nothing', async () => {
    const run = ok(await call(requester, 'ops_ask', { command: 'wipe notes', dryRun: true }));
    assert.equal(run.status, 'planned');
    assert.equal(run.planner, 'scripted');
    assert.deepEqual((run.plan as { steps: Row[] }).steps.map((step) => step.tool), ['sidefx_count', 'sidefx_wipe', 'sidefx_note']);
    assert.deepEqual(run.approvalRequired, ['s2']);
    assert.deepEqual(await counts(), { count: 0, wipes: 0 });
  });

  test('a write step runs as the caller, audited in-process with the step idempotency key', async () => {
    const run = ok(await call(requester, 'ops_ask', { command: 'note hello' }));
    assert.equal(run.status, 'succeeded', JSON.stringify(run));
    assert.equal(stepOf(run, 's1').state, 'succeeded');
    assert.deepEqual(stepOf(run, 's1').result, { notes: 1 });
    assert.equal((await counts()).count, 1);
    await host.server.runtime.audit.flush();
    const { rows } = await host.server.runtime.services.storage.query<{ principal: string; transport: string; request_id: string }>(
      `select principal, transport, request_id from anvil.audit_log where tool = 'sidefx_note' order by at`,
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.principal, 'local:requester');
    assert.equal(rows[0]?.transport, 'in-process');
    assert.match(rows[0]?.request_id ?? '', /^agent-[0-9a-f]{32}$/);
  });

  test('a destructive step waits for another person; the requester cannot approve it; then it runs once', async () => {
    const before = await counts();
    const waiting = ok(await call(requester, 'ops_ask', { command: 'wipe notes' }));
    assert.equal(waiting.status, 'waiting_approval', JSON.stringify(waiting));
    assert.equal(stepOf(waiting, 's1').state, 'succeeded');
    assert.equal(stepOf(waiting, 's2').state, 'waiting_approval');
    assert.equal((await counts()).wipes, before.wipes, 'nothing wiped before approval');
    fails(await decide(requester, waiting, 's2', 'approve'), 'ANVIL_E_FORBIDDEN');
    const pending = ok(await call(approver, 'approvals_list', { state: 'pending', kind: 'agent-step' })).approvals as Row[];
    const mine = pending.find((approval) => approval.id === stepOf(waiting, 's2').approvalId);
    assert.ok(mine, 'the approval is listed for the approver');
    assert.equal(mine.hash, stepOf(waiting, 's2').argsHash);
    assert.deepEqual((mine.summary as Row).args, { target: 'notes', seen: before.count });
    ok(await decide(approver, waiting, 's2', 'approve'));
    const done = await until(waiting.runId as string, ['succeeded', 'failed']);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal(stepOf(done, 's2').attempts, 1);
    assert.equal((await counts()).wipes, before.wipes + 1);
  });

  test("a step the planner calls a read still waits when the tool says it is destructive; spend waits too", async () => {
    const quiet = ok(await call(requester, 'ops_ask', { command: 'wipe quietly', dryRun: true }));
    assert.deepEqual(quiet.approvalRequired, ['s1']);
    const pay = ok(await call(requester, 'ops_ask', { command: 'pay out' }));
    assert.equal(pay.status, 'waiting_approval');
    ok(await call(requester, 'ops_cancel', { runId: pay.runId }));
  });

  test('a rejection stops the run: the step and everything after it never run', async () => {
    const before = await counts();
    const waiting = ok(await call(requester, 'ops_ask', { command: 'wipe notes' }));
    assert.equal(waiting.status, 'waiting_approval');
    ok(await decide(approver, waiting, 's2', 'deny'));
    const done = await until(waiting.runId as string, ['rejected', 'succeeded', 'failed']);
    assert.equal(done.status, 'rejected');
    assert.equal(stepOf(done, 's2').state, 'rejected');
    assert.equal(stepOf(done, 's3').state, 'pending');
    assert.equal((done.error as Row).code, 'approval_denied');
    assert.deepEqual(await counts(), before);
  });

  test('changed arguments need a new approval: the old one does not cover them', async () => {
    const before = await counts();
    const waiting = ok(await call(requester, 'ops_ask', { command: 'pay out' }));
    const oldApproval = stepOf(waiting, 's1').approvalId as string;
    // The stored step is edited while it waits (as an amended plan would be).
    await host.server.runtime.services.storage.query(`update plugin_agent.runs set plan = jsonb_set(plan, '{steps,0,args,text}', '"payout-changed"') where id = $1`, [waiting.runId]);
    ok(await call(approver, 'approvals_decide', { id: oldApproval, decision: 'approve' }));
    await sleep(500);
    const still = await until(waiting.runId as string, ['waiting_approval']);
    const newApproval = stepOf(still, 's1').approvalId as string;
    assert.notEqual(newApproval, oldApproval, 'a new approval is asked for the new arguments');
    assert.equal((await counts()).count, before.count, 'nothing ran on the old approval');
    ok(await call(approver, 'approvals_decide', { id: newApproval, decision: 'approve' }));
    const done = await until(waiting.runId as string, ['succeeded', 'failed']);
    assert.equal(done.status, 'succeeded');
    assert.equal((await counts()).count, before.count + 1);
  });

  test('a follow-up in the same thread resolves "it" from the thread memory; another thread does not', async () => {
    const started = ok(await call(requester, 'ops_ask', { command: 'start a job', threadId: 'ops-chat-1' }));
    const jobId = (stepOf(started, 's1').result as Row).jobId as string;
    assert.match(jobId, /^job-nightly-/);
    const stopped = ok(await call(requester, 'ops_ask', { command: 'stop it', threadId: 'ops-chat-1' }));
    assert.equal(stopped.status, 'succeeded');
    assert.deepEqual((stopped.plan as { steps: Row[] }).steps[0]?.args, { jobId });
    const elsewhere = ok(await call(requester, 'ops_ask', { command: 'stop it', threadId: 'ops-chat-2', dryRun: true }));
    assert.deepEqual((elsewhere.plan as { steps: Row[] }).steps[0]?.args, { jobId: 'unknown' });
    // Another project's thread of the same name is another thread.
    const foreignThread = ok(await call(foreign, 'ops_ask', { command: 'stop it', threadId: 'ops-chat-1', dryRun: true }));
    assert.deepEqual((foreignThread.plan as { steps: Row[] }).steps[0]?.args, { jobId: 'unknown' });
  });

  test('a failing step fails the run with its code; later steps never run', async () => {
    const before = (await counts()).count;
    const run = ok(await call(requester, 'ops_ask', { command: 'fail midway' }));
    assert.equal(run.status, 'failed');
    assert.equal(stepOf(run, 's1').state, 'failed');
    assert.equal((stepOf(run, 's1').error as Row).code, 'ANVIL_E_INVALID_INPUT');
    assert.equal((run.error as Row).step, 's1');
    assert.equal(stepOf(run, 's2').state, 'pending');
    assert.equal((await counts()).count, before);
  });

  test('a step whose condition does not hold is skipped with the reason', async () => {
    const run = ok(await call(requester, 'ops_ask', { command: 'count if big' }));
    assert.equal(run.status, 'succeeded');
    assert.equal(stepOf(run, 's2').state, 'skipped');
    assert.match(((stepOf(run, 's2').error as Row).message as string), /more than 1000 notes/);
    assert.equal(stepOf(run, 's3').state, 'skipped', 'a step depending on a skipped step is skipped');
    assert.match(((stepOf(run, 's3').error as Row).message as string), /depends on step s2/);
  });

  test('a plan naming a tool the caller cannot call, or an approvals tool, is refused', async () => {
    fails(await call(requester, 'ops_ask', { command: 'use admin' }), 'ANVIL_E_FORBIDDEN');
    fails(await call(approver, 'ops_ask', { command: 'decide my own approval' }), 'ANVIL_E_FORBIDDEN');
    const admin = await host.connect({ project: 'alpha', name: 'admin', scopes: ['*'] });
    fails(await call(admin, 'ops_ask', { command: 'decide my own approval' }), 'ANVIL_E_FORBIDDEN');
    const listed = ok(await call(admin, 'ops_ask', { command: 'use admin', dryRun: true }));
    assert.equal(listed.status, 'planned', 'with sidefx:admin the same plan is fine');
    const empty = ok(await call(requester, 'ops_ask', { command: 'make me a sandwich' }));
    assert.equal(empty.status, 'succeeded');
    assert.deepEqual((empty.plan as { steps: Row[] }).steps, []);
    assert.equal((empty.plan as Row).reason, 'no script for this command');
  });

  test("another project's key sees no runs: get, list, cancel, resource and the approval all look absent", async () => {
    const waiting = ok(await call(requester, 'ops_ask', { command: 'wipe notes' }));
    const runId = waiting.runId as string;
    fails(await call(foreign, 'ops_get', { runId }), 'ANVIL_E_NOT_FOUND');
    fails(await call(foreign, 'ops_cancel', { runId }), 'ANVIL_E_NOT_FOUND');
    fails(await call(foreign, 'ops_get', { runId: 'not-a-uuid' }), 'ANVIL_E_NOT_FOUND');
    const theirs = ok(await call(foreign, 'ops_list', {})).runs as Row[];
    assert.ok(!theirs.some((run) => run.runId === runId));
    assert.ok(theirs.every((run) => run.command === 'stop it'), 'only their own dry run');
    await assert.rejects(foreign.readResource({ uri: `anvil://agent/runs/${runId}` }), /no agent run/);
    const resource = await requester.readResource({ uri: `anvil://agent/runs/${runId}` });
    assert.equal(JSON.parse((resource.contents[0] as { text: string }).text).runId, runId);
    fails(await decide(foreign, waiting, 's2', 'approve'), 'ANVIL_E_NOT_FOUND');
    const foreignPending = ok(await call(foreign, 'approvals_list', {})).approvals as Row[];
    assert.ok(!foreignPending.some((approval) => approval.id === stepOf(waiting, 's2').approvalId));
    const canceled = ok(await call(requester, 'ops_cancel', { runId }));
    assert.equal(canceled.status, 'canceled');
    // Approving after the cancel runs nothing.
    const wipes = (await counts()).wipes;
    ok(await decide(approver, waiting, 's2', 'approve'));
    await sleep(300);
    assert.equal((await counts()).wipes, wipes);
    assert.equal((ok(await call(requester, 'ops_get', { runId })) as Row).status, 'canceled');
  });

  test('ops_list pages with a cursor, newest first, own project only', async () => {
    const first = ok(await call(requester, 'ops_list', { limit: 3 }));
    assert.equal((first.runs as Row[]).length, 3);
    assert.ok(first.nextCursor);
    const second = ok(await call(requester, 'ops_list', { limit: 3, cursor: first.nextCursor }));
    const ids = new Set([...(first.runs as Row[]), ...(second.runs as Row[])].map((run) => run.runId));
    assert.equal(ids.size, (first.runs as Row[]).length + (second.runs as Row[]).length, 'pages do not overlap');
    fails(await call(requester, 'ops_list', { cursor: 'garbage' }), 'ANVIL_E_INVALID_INPUT');
  });

  test('workflows: listed with their params, run as agent runs; plugins contribute graphs', async () => {
    const listed = ok(await call(requester, 'workflows_list')).workflows as Row[];
    const names = listed.map((workflow) => workflow.name);
    assert.ok(names.includes('train_evaluate_promote') && names.includes('note_twice'), names.join(', '));
    const tep = listed.find((workflow) => workflow.name === 'train_evaluate_promote') as Row;
    assert.deepEqual(((tep.params as Row).required as string[]).sort(), ['dataset', 'deployment']);

    const before = (await counts()).count;
    const run = ok(await call(requester, 'workflows_run', { name: 'note_twice', params: { text: 'wf' } }));
    assert.equal(run.status, 'succeeded', JSON.stringify(run));
    assert.equal(run.planner, 'workflow:note_twice');
    assert.equal((await counts()).count, before + 2);
    fails(await call(requester, 'workflows_run', { name: 'note_twice', params: { text: 7 } }), 'ANVIL_E_INVALID_INPUT');
    fails(await call(requester, 'workflows_run', { name: 'nope', params: {} }), 'ANVIL_E_NOT_FOUND');
  });

  test('train_evaluate_promote plans over the real MLOps tools; a caller without their scopes is refused', async () => {
    const admin = await host.connect({ project: 'alpha', name: 'mlops', scopes: ['*'] });
    const planned = ok(await call(admin, 'workflows_run', { name: 'train_evaluate_promote', params: { dataset: 'intents', deployment: 'intent-api', model: 'intent' }, dryRun: true }));
    assert.equal(planned.status, 'planned');
    assert.deepEqual((planned.plan as { steps: Row[] }).steps[0]?.args, { dataset: 'intents', model: 'intent' });
    assert.deepEqual((planned.plan as { steps: Row[] }).steps.map((step) => step.tool), ['training_start', 'eval_compare', 'eval_get', 'deployments_canary', 'deployments_promote', 'deployments_rollback']);
    assert.ok((planned.approvalRequired as string[]).includes('rollback'));
    fails(await call(requester, 'workflows_run', { name: 'train_evaluate_promote', params: { dataset: 'intents', deployment: 'intent-api' }, dryRun: true }), 'ANVIL_E_FORBIDDEN');
  });

  test('checkpoints are written per run, and the retention deletes those of finished runs', async () => {
    const storage = host.server.runtime.services.storage;
    const count = async () => Number((await storage.query<{ n: string }>('select count(*) as n from plugin_agent.checkpoints')).rows[0]?.n ?? 0);
    assert.ok((await count()) > 0, 'runs were checkpointed');
    await host.runScheduled('agent', 'checkpoint-retention');
    const live = await storage.query<{ n: string }>(`select count(*) as n from plugin_agent.checkpoints c join plugin_agent.runs r on r.id::text = c.thread_id where r.status in ('succeeded', 'failed', 'rejected', 'canceled')`);
    assert.equal(Number(live.rows[0]?.n), 0);
  });
});

describe('agent with its default planners', () => {
  let host: TestHost;
  before(async () => {
    host = await createTestHost({ plugins: [], config: { plugins: [{ id: 'agent' }] }, principal: { project: 'alpha', scopes: ['*'] } });
  });
  after(() => host?.close());

  test('the offline intent model plans when no endpoint is configured and the client cannot sample', async () => {
    const outcome = await host.call('ops_ask', { command: 'cancel job 7f1c2a9e-0000-4000-8000-000000000001', dryRun: true });
    assert.equal(outcome.isError, false, outcome.text);
    const run = outcome.structured as { planner: string; plan: { steps: Array<{ tool: string; risk: string }> }; approvalRequired: string[]; status: string };
    assert.equal(run.planner, 'offline');
    assert.equal(run.status, 'planned');
    assert.deepEqual(run.plan.steps.map((step) => step.tool), ['jobs_cancel']);
    assert.equal(run.approvalRequired.length, 1, 'cancelling a job is destructive: it waits for a person');
  });
});

describe('agent with no planner available', () => {
  let host: TestHost;
  before(async () => {
    host = await createTestHost({ plugins: [], config: { plugins: [{ id: 'agent', config: { planner: 'no-such-planner' } }] }, principal: { project: 'alpha', scopes: ['*'] } });
  });
  after(() => host?.close());

  test('ops_ask fails with a clear code when the configured planner does not exist', async () => {
    const outcome = await host.call('ops_ask', { command: 'retrain the intent model' });
    assert.equal(outcome.isError, true);
    assert.match(outcome.text, /ANVIL_E_TOOL_UNAVAILABLE/);
    assert.match(outcome.text, /no planner/);
  });
});
