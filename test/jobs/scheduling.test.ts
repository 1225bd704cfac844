/**
 * The job system end to end on embedded storage: the local worker of `anvil serve` runs real recipe
 * processes from BullMQ on PGlite. Cancel, preemption, quotas, retries, dependencies and failing
 * recipes, each observed in the job's record and events.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jobProcesses, maxConcurrentRunning, recipeFixture, startJobsHost, waitFor, waitForEnd, waitForState, type JobsHost } from './support.ts';

describe('jobs on the embedded local worker', () => {
  let env: JobsHost;
  before(async () => {
    env = await startJobsHost({ allowCommandRecipe: true, localWorkerSlots: 2 });
  });
  after(async () => {
    await env?.close();
  });

  test('diagnostics.counter runs to its result; logs, metrics and a checkpoint are recorded', async () => {
    const { jobs } = env;
    const { job } = await jobs.service.submit('default', { recipe: 'diagnostics.counter', params: { steps: 5, stepMs: 10 } });
    const done = await waitForEnd(jobs, 'default', job.id);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    assert.deepEqual(done.result, { count: 5, resumedFrom: 0 });
    const points = await jobs.service.store.metrics('default', job.id, 'count');
    assert.deepEqual(points.map((point) => point.value), [1, 2, 3, 4, 5]);
    assert.equal((done.checkpoint as { step: number }).step, 5);
    assert.ok((await jobs.service.store.logs('default', job.id)).lines.length >= 1);
    // Checkpoint files are kept only while the job may still resume from them. They are removed
    // right after the state change that ends the job (which a reader can see first), so allow a moment.
    // (A run that ends right after its last checkpoint never uploads one: then there is no directory at all.)
    const dir = path.join(jobs.blobs.root, 'checkpoints', job.id);
    const left = () => (existsSync(dir) ? readdirSync(dir, { withFileTypes: false }).length : 0);
    for (let waited = 0; left() > 0 && waited < 2_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(left(), 0);
  });

  test('a checkpoint reported with the result is recorded without an upload; after a failure it is uploaded for the retry', async () => {
    const { jobs } = env;
    const ok = await jobs.service.submit('default', { recipe: 'command', params: { command: recipeFixture('checkpoint-at-exit.mjs') } });
    const succeeded = await waitForEnd(jobs, 'default', ok.job.id);
    assert.equal(succeeded.state, 'succeeded', JSON.stringify(succeeded.error));
    // The job's checkpoint files go when it ends; uploading this one would only delay `succeeded`.
    assert.deepEqual(succeeded.checkpoint, { step: 7, state: { count: 7 } });
    assert.equal(existsSync(path.join(jobs.blobs.root, 'checkpoints', ok.job.id)), false, 'nothing was uploaded');

    const failing = await jobs.service.submit('default', { recipe: 'command', params: { command: recipeFixture('checkpoint-at-exit.mjs'), args: ['fail'] }, maxAttempts: 2 });
    const failed = await waitForEnd(jobs, 'default', failing.job.id);
    assert.equal(failed.state, 'failed');
    const checkpoint = failed.checkpoint as { step: number; blob?: { sha256: string; name: string } };
    assert.equal(checkpoint.step, 7);
    assert.match(checkpoint.blob?.sha256 ?? '', /^[0-9a-f]{64}$/, 'a run that did not succeed uploads its last checkpoint before finishing');
    assert.equal(checkpoint.blob?.name, 'checkpoint-7.json');
  });

  test('bad params are refused at submit, naming the field', async () => {
    await assert.rejects(
      env.jobs.service.submit('default', { recipe: 'diagnostics.counter', params: { steps: 'many', stepMs: 1 } }),
      (error: Error & { code?: string }) => error.code === 'ANVIL_E_INVALID_INPUT' && /params\.steps/.test(error.message),
    );
    await assert.rejects(env.jobs.service.submit('default', { recipe: 'no.such.recipe' }), /no recipe "no.such.recipe"/);
  });

  test('cancel while running: the recipe process group is gone within the grace period', async () => {
    const { jobs } = env;
    const { job } = await jobs.service.submit('default', { recipe: 'diagnostics.counter', params: { steps: 10_000, stepMs: 20 } });
    await waitForState(jobs, 'default', job.id, ['running']);
    const pids = await waitFor('the recipe process', async () => {
      const found = jobProcesses(job.id);
      return found.length > 0 ? found : undefined;
    });
    const asked = Date.now();
    const outcome = await jobs.service.cancel('default', job.id);
    assert.equal(outcome.outcome, 'cancel-requested');
    const cancelled = await waitForEnd(jobs, 'default', job.id, 10_000);
    assert.equal(cancelled.state, 'cancelled');
    await waitFor('the process group to exit', async () => jobProcesses(job.id).length === 0, jobs.config.graceMs + 1_000);
    const checkpoints = path.join(jobs.blobs.root, 'checkpoints', job.id);
    assert.ok(!existsSync(checkpoints) || readdirSync(checkpoints).length === 0, 'a cancelled job keeps no checkpoint files');
    assert.ok(Date.now() - asked < jobs.config.graceMs + 1_000, `took ${Date.now() - asked} ms`);
    assert.ok(pids.length > 0);
  });

  test('a recipe that prints garbage, or crashes, is reported failed with its last log lines', async () => {
    const { jobs } = env;
    const garbage = await jobs.service.submit('default', { recipe: 'command', params: { command: recipeFixture('garbage.mjs') }, maxAttempts: 1 });
    const crash = await jobs.service.submit('default', { recipe: 'command', params: { command: recipeFixture('crash.mjs') }, maxAttempts: 2 });
    const failedGarbage = await waitForEnd(jobs, 'default', garbage.job.id);
    assert.equal(failedGarbage.state, 'failed');
    assert.equal(failedGarbage.error?.code, 'attempts_exhausted');
    assert.equal(failedGarbage.error?.reason, 'no-result');
    assert.ok((failedGarbage.error?.lastLogs as string[]).some((line) => line.includes('Epoch 1/3')), JSON.stringify(failedGarbage.error));

    const failedCrash = await waitForEnd(jobs, 'default', crash.job.id);
    assert.equal(failedCrash.state, 'failed');
    assert.equal(failedCrash.attempt, 2, 'a crash is an infrastructure-like failure: retried once more');
    assert.equal(failedCrash.error?.exitCode, 3);
    assert.ok((failedCrash.error?.lastLogs as string[]).some((line) => line.includes('device-side assert')), JSON.stringify(failedCrash.error));
  });

  test('an artifact whose content does not match its claimed sha256 is refused, and the job fails saying so', async () => {
    const { jobs } = env;
    const { job } = await jobs.service.submit('default', { recipe: 'command', params: { command: recipeFixture('bad-artifact.mjs') }, maxAttempts: 3 });
    const failed = await waitForEnd(jobs, 'default', job.id);
    assert.equal(failed.state, 'failed');
    assert.equal(failed.attempt, 1, 'a refused artifact is not retried');
    assert.equal(failed.error?.reason, 'artifact');
    assert.match(failed.error?.message ?? '', /artifact model was refused: .*hashes to sha256 [0-9a-f]{64}, not the [0-9a-f]{64}/);
    assert.deepEqual(await jobs.service.artifacts(job.id), [], 'nothing was recorded');
  });

  test('a retried report (same reportId) stores its log lines once; a stale worker is refused', async () => {
    const { jobs } = env;
    // A class the local worker does not serve, so only this hand-driven worker claims the job.
    const { job } = await jobs.service.submit('default', { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 1 }, resources: { gpus: 1, gpuType: 'zz' } });
    const { workerId } = await jobs.service.register({ name: 'hand-driven', capabilities: {}, resourceClasses: ['gpu-zz'], slots: 1, recipes: ['diagnostics.counter'] });
    const claimed = await jobs.service.claim(workerId, job.id);
    assert.equal(claimed.outcome, 'claimed');
    const batch = { attempt: 1, reportId: 'batch-1', logs: [{ level: 'info' as const, message: 'once' }] };
    await jobs.service.report(workerId, job.id, batch);
    await jobs.service.report(workerId, job.id, batch);
    await jobs.service.report(workerId, job.id, { ...batch, reportId: 'batch-2', logs: [{ level: 'info' as const, message: 'twice' }] });
    assert.deepEqual((await jobs.service.store.logs('default', job.id)).lines.map((line) => line.message), ['once', 'twice']);
    await assert.rejects(jobs.service.report('someone-else', job.id, { attempt: 1, logs: [] }), (error: Error & { code?: string }) => error.code === 'ANVIL_E_CONFLICT');
    await jobs.service.finish(workerId, job.id, { attempt: 1, outcome: { status: 'succeeded', result: { count: 1, resumedFrom: 0 } } });
    await jobs.service.retire(workerId);
  });

  test('a job the worker could never serve is handed back unclaimed and does not block other work', async () => {
    const { jobs } = env;
    const huge = await jobs.service.submit('default', { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 1 }, resources: { cpus: 512 } });
    const small = await jobs.service.submit('default', { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 1 } });
    assert.equal((await waitForEnd(jobs, 'default', small.job.id)).state, 'succeeded');
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // past one hand-back delay
    const waiting = await jobs.service.store.get('default', huge.job.id);
    assert.equal(waiting.state, 'queued');
    assert.deepEqual((await jobs.service.store.events('default', huge.job.id)).map((event) => event.to), ['queued'], 'never claimed');
    assert.equal((await jobs.service.cancel('default', huge.job.id)).outcome, 'cancelled');
  });

  test('a recipe error marked unrecoverable is not retried', async () => {
    const { jobs } = env;
    const { job } = await jobs.service.submit('default', { recipe: 'command', params: { command: recipeFixture('unrecoverable.mjs') }, maxAttempts: 5 });
    const failed = await waitForEnd(jobs, 'default', job.id);
    assert.equal(failed.state, 'failed');
    assert.equal(failed.attempt, 1);
    assert.equal(failed.error?.code, 'recipe_error');
  });

  test('dependencies: B waits for A; a job depending on a failed one fails without running', async () => {
    const { jobs } = env;
    const a = await jobs.service.submit('deps', { recipe: 'diagnostics.counter', params: { steps: 8, stepMs: 30 } });
    const b = await jobs.service.submit('deps', { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 1 }, dependsOn: [a.job.id] });
    const held = await jobs.service.store.get('deps', b.job.id);
    assert.equal(held.state, 'queued');
    assert.equal(held.dispatchedAt, null, 'not handed to BullMQ while A runs');
    const doneB = await waitForEnd(jobs, 'deps', b.job.id);
    const doneA = await jobs.service.store.get('deps', a.job.id);
    assert.equal(doneB.state, 'succeeded');
    assert.ok(doneB.startedAt && doneA.finishedAt && doneB.startedAt >= doneA.finishedAt, 'B started after A finished');

    const bad = await jobs.service.submit('deps', { recipe: 'command', params: { command: recipeFixture('unrecoverable.mjs') } });
    const child = await jobs.service.submit('deps', { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 1 }, dependsOn: [bad.job.id] });
    const grandchild = await jobs.service.submit('deps', { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 1 }, dependsOn: [child.job.id] });
    for (const id of [child.job.id, grandchild.job.id]) {
      const failed = await waitForEnd(jobs, 'deps', id);
      assert.equal(failed.state, 'failed');
      assert.equal(failed.error?.code, 'dependency_failed');
      assert.equal(failed.startedAt, null);
    }
  });

  test('quota: 50 concurrent submits never run more than the project allows', async () => {
    const { jobs } = env;
    await jobs.sql.query(`insert into {{schema}}.quotas (project, max_concurrent_jobs, max_gpus, updated_by) values ('quota', 1, null, 'test')`);
    const submitted = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        jobs.service.submit('quota', { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 1 }, idempotencyKey: `q-${index}` }),
      ),
    );
    assert.equal(new Set(submitted.map((s) => s.job.id)).size, 50);
    const active = await jobs.sql.query<{ n: string }>(
      `select count(*) as n from {{schema}}.jobs where project = 'quota' and (state = 'running' or (state = 'queued' and dispatched_at is not null))`,
    );
    assert.ok(Number(active.rows[0]?.n) <= 1, `admitted ${active.rows[0]?.n}`);
    for (const { job } of submitted) assert.equal((await waitForEnd(jobs, 'quota', job.id, 120_000)).state, 'succeeded');
    assert.equal(await maxConcurrentRunning(jobs, 'quota'), 1, 'two slots are free, yet the quota of 1 held');
  });
});

describe('preemption on a one-slot worker', () => {
  let env: JobsHost;
  before(async () => {
    env = await startJobsHost({ localWorkerSlots: 1 });
  });
  after(async () => {
    await env?.close();
  });

  test('a higher-priority job checkpoints the running one, which requeues and resumes with the same result', async () => {
    const { jobs } = env;
    const low = await jobs.service.submit('default', { recipe: 'diagnostics.counter', params: { steps: 30, stepMs: 60 }, priority: 0 });
    await waitFor('a few checkpoints', async () => {
      const job = await jobs.service.store.get('default', low.job.id);
      return job.state === 'running' && (job.checkpoint as { step?: number } | null)?.step !== undefined && (job.checkpoint as { step: number }).step >= 3;
    });
    const high = await jobs.service.submit('default', { recipe: 'diagnostics.counter', params: { steps: 3, stepMs: 10 }, priority: 10 });
    const doneHigh = await waitForEnd(jobs, 'default', high.job.id);
    assert.equal(doneHigh.state, 'succeeded');
    const kept = readdirSync(path.join(jobs.blobs.root, 'checkpoints', low.job.id));
    // While it can still resume: its latest checkpoint (plus, for a moment, the one being uploaded).
    assert.ok(kept.length >= 1 && kept.length <= 2, `checkpoint files kept: ${kept.join(', ')}`);
    const doneLow = await waitForEnd(jobs, 'default', low.job.id, 60_000);
    assert.equal(doneLow.state, 'succeeded');
    const result = doneLow.result as { count: number; resumedFrom: number };
    assert.equal(result.count, 30);
    assert.ok(result.resumedFrom >= 3, `resumed from ${result.resumedFrom}`);
    assert.equal(doneLow.attempt, 1, 'preemption does not use up an attempt');
    const events = await jobs.service.store.events('default', low.job.id);
    assert.ok(events.some((event) => event.from === 'running' && event.to === 'queued' && /preempted/.test(event.reason)), JSON.stringify(events));
    assert.ok(doneHigh.finishedAt && doneLow.finishedAt && doneHigh.finishedAt < doneLow.finishedAt);
  });
});
