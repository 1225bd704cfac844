/**
 * The queue contract: what every `QueueBackend` (BullMQ on Redis, BullMQ's Postgres backend on
 * Postgres or on embedded PGlite) must do, written once and run against each (see
 * test/integration/queue.test.ts).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { AnvilQueue } from '../../server/queue/backend.ts';
import { ErrorCodes } from '../../server/errors.ts';
import { type QueueFactory, useFixturePerTest } from '../support/backends.ts';

/** Polls `check` until it holds; fails naming `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** A queue name unique to one test. BullMQ joins keys with ':', so names must not contain it. */
function queueName(label: string): string {
  return `contract-${label}-${randomBytes(3).toString('hex')}`;
}

type JobState = Parameters<AnvilQueue['getJobCounts']>[number];

function counts<D, R>(queue: AnvilQueue<D, R>, ...states: JobState[]): Promise<Record<string, number>> {
  return queue.getJobCounts(...states);
}

export function queueContract(factory: QueueFactory): void {
  describe(`queue contract: ${factory.name}`, { skip: factory.skip }, () => {
    /** The fixture of the running test (each test gets a fresh one). */
    const fx = useFixturePerTest(factory);

    it('health answers', async () => {
      const health = await fx().value.health();
      assert.ok(Number.isFinite(health.latencyMs) && health.latencyMs >= 0);
      assert.equal(fx().value.kind, factory.kind);
    });

    it('a worker processes an added job and its return value is recorded', async () => {
      const name = queueName('basic');
      const queue = fx().value.openQueue<{ n: number }, { doubled: number }>(name);
      const job = await queue.add('double', { n: 21 });
      assert.ok(job.id);
      fx().value.openWorker<{ n: number }, { doubled: number }>(name, async (active) => ({ doubled: active.data.n * 2 }), { concurrency: 1 });

      await waitFor('the job to complete', async () => (await counts(queue, 'completed')).completed === 1);
      const done = await queue.getJob(job.id);
      assert.deepEqual(done?.returnvalue, { doubled: 42 });
      assert.equal(await done?.getState(), 'completed');
      assert.deepEqual(await counts(queue, 'waiting', 'active', 'failed'), { waiting: 0, active: 0, failed: 0 });
    });

    it('adding a job with an existing jobId does not enqueue it twice', async () => {
      const name = queueName('dedupe');
      const queue = fx().value.openQueue<{ attempt: number }>(name);
      const first = await queue.add('charge', { attempt: 1 }, { jobId: 'payment-42' });
      const second = await queue.add('charge', { attempt: 2 }, { jobId: 'payment-42' });
      assert.equal(first.id, 'payment-42');
      assert.equal(second.id, 'payment-42');
      assert.equal((await counts(queue, 'waiting')).waiting, 1);
      assert.deepEqual((await queue.getJob('payment-42'))?.data, { attempt: 1 }, 'the first add wins');

      const seen: string[] = [];
      fx().value.openWorker<{ attempt: number }>(name, async (job) => {
        seen.push(`${job.id}:${job.data.attempt}`);
      });
      await waitFor('the job to complete', async () => (await counts(queue, 'completed')).completed === 1);
      assert.deepEqual(seen, ['payment-42:1']);
    });

    it('a single worker takes higher-priority jobs (lower number) first', async () => {
      const name = queueName('priority');
      const queue = fx().value.openQueue<{ label: string }>(name);
      await queue.add('job', { label: 'p5' }, { priority: 5 });
      await queue.add('job', { label: 'p1' }, { priority: 1 });
      await queue.add('job', { label: 'p9' }, { priority: 9 });
      await queue.add('job', { label: 'p3' }, { priority: 3 });

      const order: string[] = [];
      fx().value.openWorker<{ label: string }>(name, async (job) => {
        order.push(job.data.label);
      }, { concurrency: 1 });
      await waitFor('all four jobs', async () => (await counts(queue, 'completed')).completed === 4);
      assert.deepEqual(order, ['p1', 'p3', 'p5', 'p9']);
    });

    it('a throwing processor fails the job with its message; attempts: 2 retries it once', async () => {
      const name = queueName('failing');
      const queue = fx().value.openQueue<{ failTimes: number }>(name);
      const calls = new Map<string, number>();
      fx().value.openWorker<{ failTimes: number }>(name, async (job) => {
        const call = (calls.get(job.name) ?? 0) + 1;
        calls.set(job.name, call);
        if (call <= job.data.failTimes) throw new Error(`${job.name} failed on call ${call}`);
        return 'recovered';
      });
      const once = await queue.add('no-retry', { failTimes: 99 });
      const always = await queue.add('always-fails', { failTimes: 99 }, { attempts: 2 });
      const flaky = await queue.add('fails-once', { failTimes: 1 }, { attempts: 2 });

      await waitFor('two failed and one completed job', async () => {
        const now = await counts(queue, 'failed', 'completed');
        return now.failed === 2 && now.completed === 1;
      });
      const [onceJob, alwaysJob, flakyJob] = await Promise.all([queue.getJob(once.id ?? ''), queue.getJob(always.id ?? ''), queue.getJob(flaky.id ?? '')]);
      assert.equal(onceJob?.failedReason, 'no-retry failed on call 1');
      assert.equal(onceJob?.attemptsMade, 1);
      assert.equal(alwaysJob?.failedReason, 'always-fails failed on call 2');
      assert.equal(alwaysJob?.attemptsMade, 2);
      assert.equal(await alwaysJob?.getState(), 'failed');
      assert.equal(flakyJob?.returnvalue, 'recovered');
      assert.equal(flakyJob?.attemptsMade, 2);
      assert.deepEqual(Object.fromEntries(calls), { 'no-retry': 1, 'always-fails': 2, 'fails-once': 2 });
    });

    it('a new job and a retry are picked up at once, not after the idle worker\'s drainDelay', async () => {
      // drainDelay is how long an idle worker blocks waiting for work. A job added, or a retry whose
      // 300 ms backoff passes, while the worker is blocked must wake it (embedded PGlite: notifications
      // are relayed between its connections, server/queue/postgres.ts).
      const name = queueName('backoff');
      const queue = fx().value.openQueue<{ n: number }>(name);
      const started: number[] = [];
      let failedAt = 0;
      fx().value.openWorker<{ n: number }>(
        name,
        async () => {
          started.push(Date.now());
          if (started.length > 1) return 'ok';
          // Fails only once the worker's loop is blocked again, waiting for more work (concurrency 2).
          await new Promise((resolve) => setTimeout(resolve, 1_000));
          failedAt = Date.now();
          throw new Error('first attempt fails');
        },
        { concurrency: 2, drainDelay: 10 },
      );
      // Let the worker go idle (blocked) before anything arrives, as a long-running worker is.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const addedAt = Date.now();
      await queue.add('retried', { n: 1 }, { attempts: 2, backoff: { type: 'fixed', delay: 300 } });
      await waitFor('the retry', async () => started.length === 2, 30_000);
      const pickup = (started[0] ?? 0) - addedAt;
      const retry = (started[1] ?? 0) - failedAt;
      assert.ok(pickup < 5_000, `the job started ${pickup} ms after it was added: the worker slept out its 10 s drainDelay`);
      assert.ok(retry >= 250, `the retry came ${retry} ms after the failure, before its 300 ms backoff`);
      assert.ok(retry < 5_000, `the retry came ${retry} ms after the failure: it waited out the 10 s drainDelay, not its 300 ms backoff`);
    });

    it('two workers on one queue never process the same job twice', async () => {
      const name = queueName('competing');
      const queue = fx().value.openQueue<{ i: number }>(name);
      const total = 50;
      await queue.addBulk(Array.from({ length: total }, (_, i) => ({ name: 'job', data: { i } })));

      const processed = new Map<string, number>();
      const byWorker = { a: 0, b: 0 };
      for (const worker of ['a', 'b'] as const) {
        fx().value.openWorker<{ i: number }>(name, async (job) => {
          processed.set(String(job.data.i), (processed.get(String(job.data.i)) ?? 0) + 1);
          byWorker[worker] += 1;
          await sleep(5);
        }, { concurrency: 2 });
      }
      await waitFor(`${total} completed jobs`, async () => (await counts(queue, 'completed')).completed === total, 20_000);
      await sleep(100); // a duplicate delivery would show up here
      const duplicates = [...processed].filter(([, times]) => times !== 1);
      assert.deepEqual(duplicates, [], 'every job processed exactly once');
      assert.equal(processed.size, total);
      assert.equal(byWorker.a + byWorker.b, total);
      assert.ok(byWorker.a > 0 && byWorker.b > 0, `both workers took jobs: ${JSON.stringify(byWorker)}`);
    });

    it('close() closes the queues and workers opened through it, and refuses new ones', async () => {
      const name = queueName('closing');
      const queue = fx().value.openQueue(name);
      await queue.add('job', {});
      const worker = fx().value.openWorker(name, async () => 'ok');
      await waitFor('the job to complete', async () => (await counts(queue, 'completed')).completed === 1);

      await fx().value.close();
      assert.equal(worker.isRunning(), false, 'the worker stopped');
      assert.ok(worker.closing, 'the worker was closed');
      assert.ok(queue.closing, 'the queue was closed');
      const refused = (open: () => unknown) =>
        assert.throws(open, (error: unknown) => (error as { code?: unknown }).code === ErrorCodes.SHUTTING_DOWN);
      refused(() => fx().value.openQueue(name));
      refused(() => fx().value.openWorker(name, async () => 'late'));
      await fx().value.close(); // idempotent
    });
  });
}
