/**
 * Tenant fairness in scheduling, tried as a hostile tenant would through a real MCP client: a
 * project's `*` key (everything a project can hold, plus jobs:admin and workers:admin by name) tries
 * to raise its own quota, to jump the queue with priority 1,000,000, to preempt another project's
 * running job and to look at the cluster's workers. Only the operator scopes (cluster:operate,
 * cluster:observe) change or see those, and cross-project preemption follows the operator's classes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { flatten } from 'anvil/testing';
import { startJobsHost, waitFor, waitForEnd, waitForState, type JobsHost } from './support.ts';

const HOSTILE = ['*', 'jobs:admin', 'workers:admin', 'metrics:read'];

describe('tenant fairness: quotas, priority ceilings, preemption and cluster reads', () => {
  let env: JobsHost;
  let attacker: Client;
  let victim: Client;
  let operator: Client;
  const call = async (client: Client, name: string, args: Record<string, unknown>) => flatten(await client.callTool({ name, arguments: args }));

  before(async () => {
    env = await startJobsHost({ localWorkerSlots: 1, priorityClasses: { standard: { rank: 1 }, gold: { rank: 5 } }, defaultPriorityClass: 'standard' });
    attacker = await env.host.connect({ name: 'mallory', project: 'attacker', scopes: HOSTILE });
    victim = await env.host.connect({ name: 'alice', project: 'victim', scopes: ['*'] });
    operator = await env.host.connect({ name: 'ops', project: 'ops', scopes: ['cluster:operate', 'jobs:read', 'workers:read'] });
  });
  after(async () => {
    await env?.close();
  });

  test("a project's * key cannot raise its own quota or ceiling, nor touch another project's", async () => {
    for (const set of [
      { maxConcurrentJobs: 1_000_000, maxGpus: null },
      { maxConcurrentJobs: null, maxGpus: null, maxPriority: 1_000_000 },
      { maxConcurrentJobs: null, maxGpus: null, priorityClass: 'gold' },
    ]) {
      const refused = await call(attacker, 'jobs_quota', { set });
      assert.equal(refused.isError, true, JSON.stringify(set));
      assert.match(refused.text, /^ANVIL_E_FORBIDDEN.*cluster:operate/);
      const elsewhere = await call(attacker, 'jobs_quota', { project: 'victim', set: { ...set, maxConcurrentJobs: 1 } });
      assert.match(elsewhere.text, /^ANVIL_E_FORBIDDEN/);
    }
    const peek = await call(attacker, 'jobs_quota', { project: 'victim' });
    assert.match(peek.text, /^ANVIL_E_FORBIDDEN.*cluster:observe/);
    const own = await call(attacker, 'jobs_quota', {});
    assert.deepEqual(own.structured?.quota, { maxConcurrentJobs: null, maxGpus: null, maxPriority: 100, priorityClass: 'standard', source: 'default' });
    const { rows } = await env.jobs.sql.query(`select * from {{schema}}.quotas where project in ('attacker', 'victim')`);
    assert.deepEqual(rows, [], 'the refused calls wrote nothing');
  });

  test('priority 1,000,000 is capped to the project ceiling; only the operator moves the ceiling', async () => {
    const submitted = await call(attacker, 'jobs_submit', { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 1 }, priority: 1_000_000 });
    assert.equal(submitted.isError, false, submitted.text);
    assert.equal(submitted.structured?.priority, 100);
    assert.equal((await env.jobs.service.store.get('attacker', String(submitted.structured?.id))).priority, 100);

    const raised = await call(operator, 'jobs_quota', { project: 'attacker', set: { maxConcurrentJobs: null, maxGpus: null, maxPriority: 500 } });
    assert.equal(raised.isError, false, raised.text);
    assert.equal((raised.structured?.quota as { maxPriority: number }).maxPriority, 500);
    const again = await call(attacker, 'jobs_submit', { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 1 }, priority: 1_000_000 });
    assert.equal(again.structured?.priority, 500);
    const low = await call(attacker, 'jobs_submit', { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 1 }, priority: -7 });
    assert.equal(low.structured?.priority, -7, 'a priority under the ceiling is kept');
    const unknownClass = await call(operator, 'jobs_quota', { project: 'attacker', set: { maxConcurrentJobs: null, maxGpus: null, priorityClass: 'platinum' } });
    assert.match(unknownClass.text, /^ANVIL_E_INVALID_INPUT.*set\.priorityClass/);
    for (const id of [submitted, again, low].map((outcome) => String(outcome.structured?.id))) await waitForEnd(env.jobs, 'attacker', id, 60_000);
  });

  test("another project's running job is never preempted by priority; only by the operator's higher class", async () => {
    const { jobs } = env;
    const running = await call(victim, 'jobs_submit', { recipe: 'diagnostics.counter', params: { steps: 80, stepMs: 50 }, priority: 0 });
    const victimId = String(running.structured?.id);
    await waitForState(jobs, 'victim', victimId, ['running']);
    const jumped = await call(attacker, 'jobs_submit', { recipe: 'diagnostics.counter', params: { steps: 2, stepMs: 10 }, priority: 1_000_000 });
    const attackerId = String(jumped.structured?.id);

    // Many sweeps (every 100 ms, preemptAfterMs 300): the same class never preempts across projects.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const untouched = await jobs.service.store.get('victim', victimId);
    assert.equal(untouched.state, 'running');
    assert.equal(untouched.preemptRequested, false);
    assert.ok(!(await jobs.service.store.events('victim', victimId)).some((event) => /preempt/.test(event.reason)));
    assert.equal((await jobs.service.store.get('attacker', attackerId)).state, 'queued');

    // The operator puts the attacker's project in a higher class: now it may preempt.
    const promoted = await call(operator, 'jobs_quota', { project: 'attacker', set: { maxConcurrentJobs: null, maxGpus: null, priorityClass: 'gold' } });
    assert.equal(promoted.isError, false, promoted.text);
    assert.equal((await waitForEnd(jobs, 'attacker', attackerId, 60_000)).state, 'succeeded');
    const events = await jobs.service.store.events('victim', victimId);
    assert.ok(events.some((event) => event.from === 'running' && event.to === 'queued' && /preempted/.test(event.reason)), JSON.stringify(events));
    await call(victim, 'jobs_cancel', { id: victimId });
    await waitForEnd(jobs, 'victim', victimId, 60_000);
  });

  test("workers_list: a project sees only the workers running its jobs, without hosts or telemetry; the operator sees the cluster", async () => {
    const { jobs } = env;
    const cluster = await call(operator, 'workers_list', {});
    assert.equal(cluster.structured?.view, 'cluster');
    const all = cluster.structured?.workers as Array<{ name: string; cpus: number | null; telemetry: unknown }>;
    assert.equal(all.length, 1);
    assert.ok(typeof all[0]?.cpus === 'number' && all[0].cpus > 0);
    await waitFor('a heartbeat with telemetry', async () => {
      const seen = (await call(operator, 'workers_list', {})).structured?.workers as Array<{ telemetry: unknown }>;
      return seen[0]?.telemetry !== null;
    });

    const idle = await call(attacker, 'workers_list', {});
    assert.equal(idle.structured?.view, 'project');
    assert.deepEqual(idle.structured?.workers, [], 'no job of this project runs anywhere: no worker is shown');

    const long = await call(victim, 'jobs_submit', { recipe: 'diagnostics.counter', params: { steps: 200, stepMs: 50 } });
    const id = String(long.structured?.id);
    await waitForState(jobs, 'victim', id, ['running']);
    const mine = (await call(victim, 'workers_list', {})).structured?.workers as Array<{ running: number; runningJobs: string[]; cpus: unknown; memoryGb: unknown; telemetry: unknown }>;
    assert.equal(mine.length, 1);
    assert.deepEqual(mine[0]?.runningJobs, [id]);
    assert.equal(mine[0]?.running, 1);
    assert.equal(mine[0]?.cpus, null);
    assert.equal(mine[0]?.memoryGb, null);
    assert.equal(mine[0]?.telemetry, null);
    assert.deepEqual((await call(attacker, 'workers_list', {})).structured?.workers, [], "another project's running job reveals nothing");
    await call(victim, 'jobs_cancel', { id });
    await waitForEnd(jobs, 'victim', id, 60_000);
  });
});
