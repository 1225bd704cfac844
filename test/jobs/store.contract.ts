/**
 * The job store contract: what the jobs source of truth must do on every SQL backend (embedded
 * PGlite, Postgres), written once and run against each from test/jobs/store.test.ts.
 *
 * Each backend is one fresh database with the jobs migrations applied in `plugin_jobs`; every test
 * works in projects of its own, so tests share the database without seeing each other's rows.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, loadSql, type ErrorCode, type PluginSql } from 'anvil/plugin';
import type { Job, JobStore } from '../../tools/jobs/store.ts';

export interface JobBackend {
  /** The store the suite uses, on the backend's first connection pool. */
  readonly store: JobStore;
  /** Raw SQL in the jobs schema (`{{schema}}`), to check rows behind the store's back. */
  readonly sql: PluginSql;
  /** Another store on the same database, as a second server would open it (its own pool). */
  open(): Promise<JobStore>;
  cleanup(): Promise<void>;
}

export interface JobBackendFactory {
  readonly name: string;
  /** Why the backend cannot run here; undefined when it runs. */
  readonly skip: string | undefined;
  setup(): Promise<JobBackend>;
}

/** The claim's statement as the store runs it (tools/jobs/store/transitions.ts). */
const claimSql = loadSql(import.meta.url, '../../tools/jobs/sql/claim-job.sql');

function freshProject(label: string): string {
  return `p-${label}-${randomBytes(4).toString('hex')}`;
}

/** Asserts `work` rejects with an AnvilError of `code` whose message matches every pattern. */
async function rejectsWith(work: Promise<unknown>, code: ErrorCode, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(work, (error: unknown) => {
    const { code: actual, message } = error as { code?: unknown; message?: unknown };
    assert.equal(actual, code, `expected ${code}, got ${String(actual)}: ${String(message)}`);
    for (const pattern of patterns) assert.match(String(message), pattern);
    return true;
  });
}

async function count(sql: PluginSql, text: string, values: unknown[]): Promise<number> {
  const { rows } = await sql.query<{ n: string }>(text, values);
  return Number(rows[0]?.n);
}

const eventCount = (sql: PluginSql, jobId: string) => count(sql, 'select count(*) as n from {{schema}}.job_events where job_id = $1', [jobId]);

/** Every column of a job row, to prove a refused change changed nothing. */
async function rawJob(sql: PluginSql, jobId: string): Promise<Record<string, unknown>> {
  const { rows } = await sql.query('select * from {{schema}}.jobs where id = $1', [jobId]);
  assert.ok(rows[0], `job ${jobId} exists`);
  return rows[0];
}

export function jobStoreContract(factory: JobBackendFactory): void {
  describe(`job store contract: ${factory.name}`, { skip: factory.skip }, () => {
    let backend: JobBackend | undefined;
    let store: JobStore;
    let sql: PluginSql;

    before(async () => {
      backend = await factory.setup();
      store = backend.store;
      sql = backend.sql;
    });
    after(async () => backend?.cleanup());

    const submit = (project: string, extra: Partial<Parameters<JobStore['submit']>[1]> = {}) =>
      store.submit(project, { recipe: 'diagnostics.counter', params: { steps: 3, stepMs: 1 }, ...extra }).then((result) => result.job);

    /** A job claimed by `worker`. */
    async function running(project: string, worker = 'w-1', extra: Partial<Parameters<JobStore['submit']>[1]> = {}): Promise<Job> {
      const job = await submit(project, extra);
      const claim = await store.claim(job.id, worker);
      assert.equal(claim.outcome, 'claimed');
      return claim.outcome === 'claimed' ? claim.job : job;
    }

    it('submits a queued job with normalized resources, its resource class, and a submitted event', async () => {
      const project = freshProject('submit');
      const { job, created } = await store.submit(project, {
        recipe: 'training.text-classifier',
        params: { lr: 0.001, nested: { a: [1, 2] } },
        resources: { gpus: 2, gpuType: ' A100 ', minVramGb: 40, cpus: 8, memoryGb: 64 },
        priority: 5,
      });
      assert.equal(created, true);
      assert.match(job.id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(
        [job.project, job.state, job.attempt, job.maxAttempts, job.priority, job.resourceClass, job.worker, job.cancelRequested, job.logLines],
        [project, 'queued', 1, 3, 5, 'gpu-a100', null, false, 0],
      );
      assert.deepEqual(job.resources, { gpus: 2, gpuType: 'a100', minVramGb: 40, cpus: 8, memoryGb: 64 });
      assert.deepEqual(job.params, { lr: 0.001, nested: { a: [1, 2] } });
      assert.equal((await submit(project)).resourceClass, 'cpu');
      assert.equal((await submit(project, { resources: { gpus: 1 } })).resourceClass, 'gpu-any');
      const events = await store.events(project, job.id);
      assert.deepEqual(
        events.map((event) => [event.from, event.to, event.reason]),
        [[null, 'queued', 'submitted']],
      );
      await rejectsWith(store.submit(project, { recipe: 'x', resources: { gpus: 0, gpuType: 'a100' } }), ErrorCodes.INVALID_INPUT, /gpuType/);
      await rejectsWith(store.submit(project, { recipe: 'x', resources: { cpus: -1 } }), ErrorCodes.INVALID_INPUT, /resources\.cpus/);
      await rejectsWith(store.submit(project, { recipe: 'x', maxAttempts: 0 }), ErrorCodes.INVALID_INPUT, /maxAttempts/);
    });

    it('idempotent submit: the same key gives the same job; different content with that key is a CONFLICT naming the key', async () => {
      const project = freshProject('idem');
      const input = { recipe: 'diagnostics.counter', params: { steps: 3, stepMs: 1 }, idempotencyKey: 'nightly-2024-06-01' };
      const first = await store.submit(project, input);
      // Same content, keys in another order and defaults spelled out: still the same job.
      const again = await store.submit(project, { ...input, params: { stepMs: 1, steps: 3 }, resources: { gpus: 0, cpus: 1 }, maxAttempts: 3 });
      assert.equal(first.created, true);
      assert.equal(again.created, false);
      assert.equal(again.job.id, first.job.id);

      await rejectsWith(store.submit(project, { ...input, params: { steps: 4, stepMs: 1 } }), ErrorCodes.CONFLICT, /"nightly-2024-06-01"/, /params/, new RegExp(first.job.id));
      await rejectsWith(store.submit(project, { ...input, priority: 9 }), ErrorCodes.CONFLICT, /"nightly-2024-06-01"/, /priority/);

      // Keys belong to a project.
      const elsewhere = await store.submit(freshProject('idem-other'), input);
      assert.equal(elsewhere.created, true);
      assert.notEqual(elsewhere.job.id, first.job.id);
      assert.equal(await count(sql, 'select count(*) as n from {{schema}}.jobs where project = $1', [project]), 1);
      assert.equal(await eventCount(sql, first.job.id), 1, 'a repeated submit writes no event');
    });

    it('50 concurrent submits with one key (from two servers) make exactly one job', async () => {
      assert.ok(backend);
      const other = await backend.open();
      const project = freshProject('idem-race');
      const input = { recipe: 'diagnostics.counter', params: { steps: 1 }, idempotencyKey: 'race' };
      const results = await Promise.all(Array.from({ length: 50 }, (_, index) => (index % 2 === 0 ? store : other).submit(project, input)));
      assert.equal(new Set(results.map((result) => result.job.id)).size, 1);
      assert.equal(results.filter((result) => result.created).length, 1);
      assert.equal(await count(sql, 'select count(*) as n from {{schema}}.jobs where project = $1', [project]), 1);
      assert.equal(await eventCount(sql, results[0]?.job.id ?? ''), 1);
    });

    it('every transition writes exactly one event, with the state it left', async () => {
      const project = freshProject('events');
      const job = await submit(project);
      let expected = 1;
      const step = async (label: string, work: () => Promise<unknown>) => {
        await work();
        expected += 1;
        assert.equal(await eventCount(sql, job.id), expected, `one event for ${label}`);
      };
      await step('claim', () => store.claim(job.id, 'w-a'));
      await step('requeue', () => store.requeue(job.id, 'worker lost', { step: 1 }));
      await step('claim again', () => store.claim(job.id, 'w-b'));
      await step('cancel request', () => store.requestCancel(project, job.id));
      await step('succeed', () => store.transition(job.id, { from: ['running'], to: 'succeeded', reason: 'exit 0', result: { count: 3 } }));
      const events = await store.events(project, job.id);
      assert.deepEqual(
        events.map((event) => [event.from, event.to, event.reason]),
        [
          [null, 'queued', 'submitted'],
          ['queued', 'running', 'claimed'],
          ['running', 'queued', 'worker lost'],
          ['queued', 'running', 'claimed'],
          ['running', 'running', 'cancel requested'],
          ['running', 'succeeded', 'exit 0'],
        ],
      );
      assert.deepEqual(events[1]?.details, { worker: 'w-a', attempt: 1 });
      assert.deepEqual(events[3]?.details, { worker: 'w-b', attempt: 2 });
      const done = await store.get(project, job.id);
      assert.deepEqual([done.state, done.attempt, done.worker, done.result, done.checkpoint], ['succeeded', 2, 'w-b', { count: 3 }, { step: 1 }]);
      assert.ok(done.finishedAt && done.startedAt && done.finishedAt >= done.startedAt);
    });

    it('refuses an illegal transition and changes nothing', async () => {
      const project = freshProject('illegal');
      const queued = await submit(project);
      const done = await running(project);
      await store.transition(done.id, { from: ['running'], to: 'succeeded', reason: 'exit 0' });

      for (const [jobId, from, to, code, pattern] of [
        // Not in the state machine: refused before any SQL.
        [done.id, 'succeeded', 'running', ErrorCodes.INVALID_INPUT, /succeeded → running is not a transition/],
        [queued.id, 'queued', 'succeeded', ErrorCodes.INVALID_INPUT, /queued → succeeded is not a transition/],
        [done.id, 'failed', 'queued', ErrorCodes.INVALID_INPUT, /failed → queued/],
        // Legal, but the job is elsewhere: CONFLICT naming its state and the attempted move.
        [queued.id, 'running', 'succeeded', ErrorCodes.CONFLICT, /is queued, so it cannot move running → succeeded/],
        [done.id, 'running', 'failed', ErrorCodes.CONFLICT, /is succeeded, so it cannot move running → failed/],
      ] as const) {
        const before = await rawJob(sql, jobId);
        const events = await eventCount(sql, jobId);
        await rejectsWith(store.transition(jobId, { from: [from], to, reason: 'test', worker: 'w-x' }), code, pattern);
        assert.deepEqual(await rawJob(sql, jobId), before, `${from} → ${to} left the row alone`);
        assert.equal(await eventCount(sql, jobId), events, `${from} → ${to} wrote no event`);
      }

      // Fencing: a stale worker (or attempt) cannot finish someone else's run.
      const held = await running(project, 'w-owner');
      const before = await rawJob(sql, held.id);
      await rejectsWith(
        store.transition(held.id, { from: ['running'], to: 'succeeded', reason: 'exit 0', expect: { worker: 'w-stale' } }),
        ErrorCodes.CONFLICT,
        /on w-owner \(attempt 1\), not on w-stale/,
      );
      await rejectsWith(store.transition(held.id, { from: ['running'], to: 'failed', reason: 'x', expect: { worker: 'w-owner', attempt: 2 } }), ErrorCodes.CONFLICT);
      assert.deepEqual(await rawJob(sql, held.id), before);
      const finished = await store.transition(held.id, { from: ['running'], to: 'succeeded', reason: 'exit 0', expect: { worker: 'w-owner', attempt: 1 } });
      assert.equal(finished.state, 'succeeded');

      await rejectsWith(store.transition(randomUUID(), { from: ['queued'], to: 'running', reason: 'x', worker: 'w' }), ErrorCodes.NOT_FOUND);
      await rejectsWith(store.transition(queued.id, { from: ['queued'], to: 'running', reason: 'x' }), ErrorCodes.INVALID_INPUT, /needs the worker/);
    });

    it('10 concurrent claims of one job: exactly one wins, the others get a lost result', async () => {
      assert.ok(backend);
      const other = await backend.open();
      const project = freshProject('claim');
      const job = await submit(project);
      const results = await Promise.all(Array.from({ length: 10 }, (_, index) => (index % 2 === 0 ? store : other).claim(job.id, `w-${index}`)));
      const winners = results.filter((result) => result.outcome === 'claimed');
      assert.equal(winners.length, 1);
      const winner = winners[0]?.outcome === 'claimed' ? winners[0].job.worker : undefined;
      for (const result of results.filter((each) => each.outcome === 'lost')) {
        assert.deepEqual(result, { outcome: 'lost', state: 'running', worker: winner });
      }
      assert.equal(await eventCount(sql, job.id), 2, 'submitted + one claim');
      assert.equal((await store.get(project, job.id)).worker, winner);
      await rejectsWith(store.claim(randomUUID(), 'w'), ErrorCodes.NOT_FOUND);
    });

    it('a claim commits asynchronously (synchronous_commit off) in its own transaction only', async () => {
      const project = freshProject('async-claim');
      const job = await submit(project);
      const setting = async (executor: Pick<PluginSql, 'query'>) => (await executor.query<{ synchronous_commit: string }>('show synchronous_commit')).rows[0]?.synchronous_commit;
      const before = await setting(sql);
      const params = [job.id, ['queued'], 'running', 'w-async', null, null, null, 0, 'claimed', '{}', null, null, null, null];
      const inside = await sql.transaction(async (tx) => ({ moved: (await tx.query<{ moved: boolean }>(claimSql, params)).rows[0]?.moved, setting: await setting(tx) }));
      assert.deepEqual(inside, { moved: true, setting: 'off' });
      // set_config(…, true): the pooled connection goes back with the server's setting.
      for (let i = 0; i < 4; i += 1) assert.equal(await setting(sql), before);
      assert.equal((await store.get(project, job.id)).worker, 'w-async');
    });

    it('requeue bumps the attempt, keeps the checkpoint, and fails the job past max_attempts', async () => {
      const project = freshProject('requeue');
      const job = await running(project, 'w-1', { maxAttempts: 3 });

      const first = await store.requeue(job.id, 'worker lost', { step: 4 });
      assert.deepEqual([first.outcome, first.job.state, first.job.attempt, first.job.worker, first.job.checkpoint], ['requeued', 'queued', 2, null, { step: 4 }]);
      assert.equal(first.job.startedAt, null);
      await rejectsWith(store.requeue(job.id, 'again'), ErrorCodes.CONFLICT, /is queued; only a running job can be requeued/);

      await store.claim(job.id, 'w-2');
      // A requeue without a checkpoint keeps the last one.
      const second = await store.requeue(job.id, 'infrastructure error');
      assert.deepEqual([second.outcome, second.job.attempt, second.job.checkpoint], ['requeued', 3, { step: 4 }]);

      await store.claim(job.id, 'w-3');
      // Preemption does not use up an attempt.
      const preempted = await store.requeue(job.id, 'preempted by a higher priority job', { step: 7 }, { countAttempt: false });
      assert.deepEqual([preempted.outcome, preempted.job.attempt, preempted.job.checkpoint], ['requeued', 3, { step: 7 }]);

      await store.claim(job.id, 'w-3');
      await rejectsWith(store.requeue(job.id, 'stale sweeper', undefined, { worker: 'w-2' }), ErrorCodes.CONFLICT, /running on w-3, not w-2/);
      const last = await store.requeue(job.id, 'infrastructure error', { step: 9 });
      assert.equal(last.outcome, 'failed');
      assert.deepEqual([last.job.state, last.job.attempt, last.job.checkpoint], ['failed', 3, { step: 9 }]);
      assert.equal(last.job.error?.code, 'attempts_exhausted');
      assert.match(last.job.error?.message ?? '', /no attempts left \(3 of 3 used\)/);
      assert.ok(last.job.finishedAt);

      const single = await running(project, 'w-1', { maxAttempts: 1 });
      assert.equal((await store.requeue(single.id, 'crash')).outcome, 'failed');
    });

    it('cancel: a queued job at once, a running one by request, a finished one is a CONFLICT', async () => {
      const project = freshProject('cancel');
      const queued = await submit(project);
      const cancelled = await store.requestCancel(project, queued.id);
      assert.deepEqual([cancelled.outcome, cancelled.job.state, cancelled.job.cancelRequested], ['cancelled', 'cancelled', false]);
      assert.ok(cancelled.job.finishedAt);
      assert.equal((await store.claim(queued.id, 'w-late')).outcome, 'lost', 'a cancelled job cannot be claimed');

      const job = await running(project, 'w-1');
      const requested = await store.requestCancel(project, job.id, 'user asked');
      assert.deepEqual([requested.outcome, requested.job.state, requested.job.cancelRequested], ['cancel-requested', 'running', true]);
      const events = await eventCount(sql, job.id);
      const repeated = await store.requestCancel(project, job.id);
      assert.equal(repeated.outcome, 'already-requested');
      assert.equal(await eventCount(sql, job.id), events, 'asking twice writes one event');
      await rejectsWith(store.requestCancel(freshProject('cancel-other'), job.id), ErrorCodes.NOT_FOUND);

      // A worker lost while a cancel was pending: the job ends cancelled rather than running again.
      const lost = await running(project, 'w-2');
      await store.requestCancel(project, lost.id);
      assert.deepEqual([(await store.requeue(lost.id, 'worker lost')).outcome, (await store.get(project, lost.id)).state], ['cancelled', 'cancelled']);

      // The worker stops the recipe and records the end.
      const stopped = await store.transition(job.id, { from: ['running'], to: 'cancelled', reason: 'stopped on request', expect: { worker: 'w-1' } });
      assert.equal(stopped.state, 'cancelled');
      await rejectsWith(store.requestCancel(project, job.id), ErrorCodes.CONFLICT, /already cancelled/);
      const succeeded = await running(project);
      await store.transition(succeeded.id, { from: ['running'], to: 'succeeded', reason: 'exit 0' });
      await rejectsWith(store.requestCancel(project, succeeded.id), ErrorCodes.CONFLICT, /already succeeded; there is nothing to cancel/);
    });

    it("keeps projects apart: another project's job is NOT_FOUND everywhere, never FORBIDDEN", async () => {
      const mine = freshProject('mine');
      const theirs = freshProject('theirs');
      const job = await running(theirs);
      await store.appendLogs(job.id, [{ message: 'secret' }]);
      await store.appendMetrics(job.id, [{ name: 'loss', step: 1, value: 0.5 }]);
      await submit(mine);

      for (const read of [
        () => store.get(mine, job.id),
        () => store.logs(mine, job.id),
        () => store.metrics(mine, job.id),
        () => store.events(mine, job.id),
        () => store.requestCancel(mine, job.id),
        () => store.transition(job.id, { from: ['running'], to: 'failed', reason: 'x', project: mine }),
      ]) {
        await rejectsWith(read(), ErrorCodes.NOT_FOUND, new RegExp(`No job ${job.id} in project ${mine}`));
      }
      const listed = await store.list(mine);
      assert.equal(listed.jobs.length, 1);
      assert.ok(listed.jobs.every((each) => each.project === mine));
      assert.equal((await store.get(theirs, job.id)).id, job.id);
      await rejectsWith(store.submit(mine, { recipe: 'x', dependsOn: [job.id] }), ErrorCodes.NOT_FOUND, new RegExp(job.id));
      await rejectsWith(store.get(mine, 'not-a-uuid'), ErrorCodes.INVALID_INPUT, /UUID/);
    });

    it('lists newest first with a stable cursor, and filters by state and recipe', async () => {
      const project = freshProject('list');
      const ids: string[] = [];
      for (let index = 0; index < 25; index += 1) ids.push((await submit(project, { recipe: index % 5 === 0 ? 'eval.run' : 'diagnostics.counter' })).id);
      const newestFirst = [...ids].reverse();

      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list(project, { limit: 10, ...(cursor === undefined ? {} : { cursor }) });
        seen.push(...page.jobs.map((job) => job.id));
        cursor = page.nextCursor ?? undefined;
        pages += 1;
        // Jobs arriving while paging go on top; the pages already handed out do not shift.
        if (pages === 1) await submit(project);
      } while (cursor !== undefined);
      assert.equal(pages, 3);
      assert.deepEqual(seen, newestFirst);

      const evals = await store.list(project, { recipe: 'eval.run' });
      assert.deepEqual(
        evals.jobs.map((job) => job.id),
        newestFirst.filter((_, index) => (24 - index) % 5 === 0),
      );
      await store.claim(ids[3] ?? '', 'w-1');
      assert.deepEqual(
        (await store.list(project, { states: ['running'] })).jobs.map((job) => job.id),
        [ids[3]],
      );
      assert.equal((await store.list(project, { states: ['queued'], limit: 100 })).jobs.length, 25);
      await rejectsWith(store.list(project, { limit: 101 }), ErrorCodes.INVALID_INPUT, /limit/);
      await rejectsWith(store.list(project, { cursor: 'bogus' }), ErrorCodes.INVALID_INPUT, /cursor/);
    });

    it('logs stay within the byte budget, and paging returns every line once, in order', async () => {
      const project = freshProject('logs');
      const job = await running(project);
      const line = (seq: number) => `line ${String(seq).padStart(4, '0')} `.padEnd(100, 'x');
      for (let batch = 0; batch < 4; batch += 1) {
        const appended = await store.appendLogs(
          job.id,
          Array.from({ length: 250 }, (_, index) => ({ message: line(batch * 250 + index + 1), level: 'info' as const })),
        );
        assert.deepEqual(appended, { count: 250, firstSeq: batch * 250 + 1, lastSeq: batch * 250 + 250 });
      }

      const first = await store.logs(project, job.id, { maxBytes: 4_096 });
      assert.equal(first.lines.length, 40);
      assert.deepEqual([first.nextSeq, first.lastSeq, first.truncated], [40, 1_000, true]);

      const seqs: number[] = [];
      let afterSeq = 0;
      let pages = 0;
      for (;;) {
        const page = await store.logs(project, job.id, { afterSeq, maxBytes: 4_096 });
        const bytes = page.lines.reduce((sum, each) => sum + Buffer.byteLength(each.message), 0);
        assert.ok(bytes <= 4_096, `page ${pages} holds ${bytes} bytes`);
        for (const each of page.lines) {
          assert.equal(each.message, line(each.seq));
          seqs.push(each.seq);
        }
        afterSeq = page.nextSeq;
        pages += 1;
        if (!page.truncated) break;
      }
      assert.equal(pages, 25);
      assert.deepEqual(
        seqs,
        Array.from({ length: 1_000 }, (_, index) => index + 1),
      );
      const end = await store.logs(project, job.id, { afterSeq: 1_000 });
      assert.deepEqual([end.lines.length, end.nextSeq, end.truncated], [0, 1_000, false]);

      const tail = await store.logs(project, job.id, { tail: 10 });
      assert.deepEqual(
        tail.lines.map((each) => each.seq),
        [991, 992, 993, 994, 995, 996, 997, 998, 999, 1_000],
      );
      assert.deepEqual([tail.nextSeq, tail.truncated], [1_000, true]);
      const budgetedTail = await store.logs(project, job.id, { tail: 10, maxBytes: 250 });
      assert.deepEqual(
        budgetedTail.lines.map((each) => each.seq),
        [999, 1_000],
      );

      // One line over the whole budget comes back cut to it, so paging still moves on.
      const wide = await running(project);
      await store.appendLogs(wide.id, [{ message: 'é'.repeat(3_000), level: 'warn' }, { message: 'next\u0000line', level: 'error' }]);
      const cut = await store.logs(project, wide.id, { maxBytes: 1_001 });
      assert.equal(cut.lines.length, 1);
      assert.deepEqual([cut.lines[0]?.message, cut.lines[0]?.cut, cut.nextSeq, cut.truncated], ['é'.repeat(500), true, 1, true]);
      const rest = await store.logs(project, wide.id, { afterSeq: cut.nextSeq, maxBytes: 1_001 });
      assert.deepEqual(
        rest.lines.map((each) => [each.seq, each.level, each.message]),
        [[2, 'error', 'next\uFFFDline']],
      );
      await rejectsWith(store.appendLogs(randomUUID(), [{ message: 'x' }]), ErrorCodes.NOT_FOUND);
      await rejectsWith(store.logs(project, wide.id, { tail: 5, afterSeq: 1 }), ErrorCodes.INVALID_INPUT);
    });

    it('concurrent appendLogs from 4 writers keep seq numbers unique and gap-free', async () => {
      assert.ok(backend);
      const stores = [store, await backend.open()];
      const project = freshProject('log-race');
      const job = await running(project);
      const writers = Array.from({ length: 4 }, (_, writer) => async () => {
        for (let batch = 0; batch < 25; batch += 1) {
          const lines = Array.from({ length: 10 }, (_, index) => ({ message: `w${writer} b${batch} l${index}` }));
          await stores[writer % 2]?.appendLogs(job.id, lines);
        }
      });
      await Promise.all(writers.map((write) => write()));

      const { rows } = await sql.query<{ n: string; distinct_seqs: string; min: string; max: string }>(
        'select count(*) as n, count(distinct seq) as distinct_seqs, min(seq) as min, max(seq) as max from {{schema}}.job_logs where job_id = $1',
        [job.id],
      );
      assert.deepEqual(rows[0], { n: '1000', distinct_seqs: '1000', min: '1', max: '1000' });
      assert.equal((await store.get(project, job.id)).logLines, 1_000);
      // Each batch got a consecutive run of seq numbers, in the order of its lines.
      const all = await sql.query<{ seq: string; message: string }>('select seq, message from {{schema}}.job_logs where job_id = $1 order by seq', [job.id]);
      for (let index = 0; index < all.rows.length; index += 10) {
        const prefix = all.rows[index]?.message.replace(/ l0$/, '');
        assert.deepEqual(
          all.rows.slice(index, index + 10).map((row) => row.message),
          Array.from({ length: 10 }, (_, line) => `${prefix} l${line}`),
        );
      }
    });

    it('metrics upsert idempotently and keep NaN and Infinity', async () => {
      const project = freshProject('metrics');
      const job = await running(project);
      const points = [
        { name: 'loss', step: 1, value: 0.9 },
        { name: 'loss', step: 2, value: Number.NaN },
        { name: 'loss', step: 3, value: Number.POSITIVE_INFINITY },
        { name: 'accuracy', step: 1, value: 0.5 },
      ];
      await store.appendMetrics(job.id, points);
      await store.appendMetrics(job.id, points); // a retried batch
      assert.equal(await count(sql, 'select count(*) as n from {{schema}}.job_metrics where job_id = $1', [job.id]), 4);
      // Within one batch the last report of a (name, step) wins; across batches, the latest.
      await store.appendMetrics(job.id, [
        { name: 'accuracy', step: 1, value: 0.6 },
        { name: 'accuracy', step: 1, value: 0.7 },
      ]);
      const all = await store.metrics(project, job.id);
      assert.deepEqual(
        all.map((point) => [point.name, point.step, point.value]),
        [
          ['accuracy', 1, 0.7],
          ['loss', 1, 0.9],
          ['loss', 2, Number.NaN],
          ['loss', 3, Number.POSITIVE_INFINITY],
        ],
      );
      const loss = await store.metrics(project, job.id, 'loss');
      assert.equal(loss.length, 3);
      assert.ok(Number.isNaN(loss[1]?.value));
      assert.equal(await count(sql, "select count(*) as n from {{schema}}.job_metrics where job_id = $1 and value = 'NaN'::float8", [job.id]), 1);
      assert.deepEqual(await store.metrics(project, (await submit(project)).id), []);
      await rejectsWith(store.appendMetrics(randomUUID(), [{ name: 'loss', step: 1, value: 1 }]), ErrorCodes.NOT_FOUND);
      await rejectsWith(store.appendMetrics(job.id, [{ name: 'loss', step: -1, value: 1 }]), ErrorCodes.INVALID_INPUT, /step/);
    });

    it('dependencies: waiting, satisfied once all succeed, failed when one fails or is cancelled', async () => {
      const project = freshProject('deps');
      const a = await submit(project);
      const b = await submit(project);
      const child = await submit(project, { dependsOn: [b.id, a.id, a.id] });
      assert.deepEqual(child.dependsOn, [a.id, b.id].sort());
      assert.deepEqual(await store.dependenciesSatisfied(child.id), { status: 'waiting', waitingOn: [a.id, b.id].sort() });
      assert.deepEqual(await store.dependents(a.id), [child.id]);

      await store.claim(a.id, 'w-1');
      await store.transition(a.id, { from: ['running'], to: 'succeeded', reason: 'exit 0' });
      assert.deepEqual(await store.dependenciesSatisfied(child.id), { status: 'waiting', waitingOn: [b.id] });
      await store.claim(b.id, 'w-1');
      await store.transition(b.id, { from: ['running'], to: 'succeeded', reason: 'exit 0' });
      assert.deepEqual(await store.dependenciesSatisfied(child.id), { status: 'satisfied' });
      assert.deepEqual(await store.dependenciesSatisfied(a.id), { status: 'satisfied' }, 'no dependencies');

      const doomed = await submit(project);
      const orphan = await submit(project, { dependsOn: [doomed.id, a.id] });
      await store.requestCancel(project, doomed.id);
      assert.deepEqual(await store.dependenciesSatisfied(orphan.id), { status: 'failed', failed: [{ id: doomed.id, state: 'cancelled' }] });
      // The dispatcher fails a dependent that can never run, without starting it.
      const failed = await store.transition(orphan.id, { from: ['queued'], to: 'failed', reason: 'a dependency was cancelled', error: { code: 'dependency_failed', message: `${doomed.id} was cancelled` } });
      assert.deepEqual([failed.state, failed.error?.code], ['failed', 'dependency_failed']);
      assert.deepEqual(await store.dependents(doomed.id), [], 'only queued dependents are listed');

      const missing = randomUUID();
      await rejectsWith(store.submit(project, { recipe: 'x', dependsOn: [a.id, missing] }), ErrorCodes.NOT_FOUND, new RegExp(missing));
      await rejectsWith(store.submit(project, { recipe: 'x', dependsOn: ['nope'] }), ErrorCodes.INVALID_INPUT, /dependsOn id must be a UUID/);
      assert.equal(await count(sql, "select count(*) as n from {{schema}}.jobs where project = $1 and recipe = 'x'", [project]), 0);
    });

    it("workers: a lapsed lease lists the worker's running jobs; one sweeper marks it lost; its jobs requeue", async () => {
      const tag = randomBytes(3).toString('hex');
      const project = freshProject('workers');
      const lapsing = `gpu-node-${tag}`;
      const healthy = `cpu-node-${tag}`;
      const registered = await store.registerWorker({
        id: lapsing,
        name: 'gpu node',
        capabilities: { cpus: 32, gpus: [{ name: 'A100 (simulated)', memoryGb: 80 }] },
        resourceClasses: ['gpu-a100', 'gpu-any', 'cpu'],
        leaseMs: 30_000,
      });
      assert.deepEqual([registered.state, registered.runningJobs, registered.resourceClasses], ['active', [], ['gpu-a100', 'gpu-any', 'cpu']]);
      await store.registerWorker({ id: healthy, name: 'cpu node', capabilities: {}, resourceClasses: ['cpu'], leaseMs: 3_600_000 });
      const beat = await store.heartbeat(lapsing, { gpus: [{ utilization: 97, temperature: 70 }] }, 30_000);
      assert.deepEqual(beat.telemetry, { gpus: [{ utilization: 97, temperature: 70 }] });

      const one = await running(project, lapsing);
      const two = await running(project, lapsing);
      const done = await running(project, lapsing);
      await store.transition(done.id, { from: ['running'], to: 'succeeded', reason: 'exit 0' });
      await running(project, healthy);

      const mine = <T extends { id: string }>(workers: T[]): T[] => workers.filter((worker) => worker.id.endsWith(tag));
      assert.deepEqual(mine(await store.expiredWorkers()), [], 'nobody has lapsed yet');
      const later = new Date(Date.now() + 60_000);
      const expired = mine(await store.expiredWorkers(later));
      assert.deepEqual(
        expired.map((worker) => [worker.id, worker.runningJobs]),
        [[lapsing, [one.id, two.id]]],
      );

      // Two sweepers race; exactly one marks it lost and requeues its jobs.
      const marks = await Promise.all([store.markLost(lapsing, later), store.markLost(lapsing, later)]);
      const winner = marks.find((mark) => mark.marked);
      assert.equal(marks.filter((mark) => mark.marked).length, 1);
      assert.deepEqual(marks.find((mark) => !mark.marked), { marked: false, state: 'lost' });
      assert.deepEqual(winner?.marked ? winner.worker.runningJobs : [], [one.id, two.id]);
      assert.deepEqual((await store.markLost(healthy, later)).marked, false, 'a healthy lease is not taken');
      for (const jobId of [one.id, two.id]) {
        const requeued = await store.requeue(jobId, `worker ${lapsing} lost`, undefined, { worker: lapsing });
        assert.deepEqual([requeued.outcome, requeued.job.attempt, requeued.job.worker], ['requeued', 2, null]);
      }
      assert.deepEqual(mine(await store.expiredWorkers(later)), [], 'a lost worker is not listed again (and the healthy lease runs an hour)');

      await rejectsWith(store.heartbeat(lapsing, {}, 30_000), ErrorCodes.CONFLICT, /is lost/);
      await rejectsWith(store.heartbeat(`ghost-${tag}`, {}, 30_000), ErrorCodes.NOT_FOUND);
      const back = await store.registerWorker({ id: lapsing, name: 'gpu node', capabilities: {}, resourceClasses: ['cpu'], leaseMs: 30_000 });
      assert.deepEqual([back.state, back.runningJobs], ['active', []]);

      // On the database's own clock: a 1 ms lease has lapsed a moment later.
      const brief = `brief-${tag}`;
      await store.registerWorker({ id: brief, name: 'brief', capabilities: {}, resourceClasses: ['cpu'], leaseMs: 1 });
      const held = await running(project, brief);
      await sleep(20);
      assert.deepEqual(
        mine(await store.expiredWorkers()).map((worker) => [worker.id, worker.runningJobs]),
        [[brief, [held.id]]],
      );
      // A worker restarting under the same id learns which of its jobs it left running.
      assert.deepEqual((await store.registerWorker({ id: brief, name: 'brief', capabilities: {}, resourceClasses: ['cpu'], leaseMs: 30_000 })).runningJobs, [held.id]);
      const retired = await store.retireWorker(brief);
      assert.deepEqual([retired.state, retired.runningJobs], ['gone', [held.id]]);
      assert.deepEqual(
        mine(await store.listWorkers(['active'])).map((worker) => worker.id).sort(),
        [healthy, lapsing].sort(),
      );
    });
  });
}
