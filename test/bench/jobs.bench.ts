/**
 * `jobs`: how fast a submitted job reaches a worker, and how many jobs per second the dispatch path
 * moves with its Postgres bookkeeping, against raw BullMQ on the same queue backend, measured in the
 * same run and interleaved: latency samples alternate one raw job and one Anvil job; throughput runs
 * in rounds, each timing both sides back to back (alternating which goes first), and the median of
 * the rounds is reported (each round's figures go to stderr, so the spread is visible).
 *
 * Anvil side: an in-process server (`startAnvilServer`, local worker off) and a consumer that does
 * exactly what a worker does per job except spawning a recipe process: claim in SQL, then finish
 * (succeeded) in SQL. So a job is: submit (insert + event, dispatched with the insert when the
 * project has no quota, BullMQ add) → BullMQ delivery → claim (one round trip: lock, check, update,
 * event) → finish (the same, plus its dependents). Raw side: `Queue.add` → a BullMQ `Worker`
 * processor that returns at once.
 *
 * Distributed when DATABASE_URL and REDIS_URL are set (Postgres + BullMQ on Redis: the issue's
 * setting); otherwise embedded (PGlite + BullMQ's Postgres backend on it), and says so.
 *
 * Figures: submit-to-start p50/p99 (sequential: submit, wait until the worker has it, repeat),
 * drain throughput at worker concurrency 1 and 16 (jobs queued first, then timed until all
 * finished), submit throughput (16 concurrent submitters; anchor: 16 concurrent `Queue.add`), and
 * one end-to-end run with a real recipe process (spawn included; reported against the dispatch p50).
 * Knobs: BENCH_JOBS_LATENCY_N (default 300), BENCH_JOBS_DRAIN_N (default 2000), BENCH_JOBS_ROUNDS (3),
 * BENCH_JOBS_START_N (recipe start-to-exit samples each side, default 20; more steadies it under load).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job as BullJob } from 'bullmq';
import { createTempDatabase, type TempDatabase } from '../support/temp-db.ts';
import { loadConfig } from '../../server/config/load.ts';
import { silentLogger } from '../../server/log.ts';
import { startAnvilServer, type AnvilServer } from '../../server/server.ts';
import type { QueueBackend } from '../../server/queue/backend.ts';
import { jobsPlugin } from '../../tools/jobs/index.ts';
import type { JobsRuntime } from '../../tools/jobs/runtime.ts';
import { diagnosticsCounter } from '../../gpu-workers/recipes/index.ts';
import { entryCommand, runRecipe } from '../../gpu-workers/runner.ts';
import type { BenchContext, Figure } from './run.ts';

export const name = 'jobs';
export const description = 'job submit-to-start latency and dispatch throughput with the Postgres bookkeeping, vs raw BullMQ on the same backend';

function envInt(key: string, fallback: number): number {
  const raw = process.env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${key}: expected a positive whole number, got "${raw}"`);
  return value;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Resolves `started` for the id the consumer reports; one waiter per id. */
class StartSignals {
  private readonly waiting = new Map<string, () => void>();
  private readonly early = new Set<string>();
  wait(id: string): Promise<void> {
    if (this.early.delete(id)) return Promise.resolve();
    return new Promise((resolve) => this.waiting.set(id, resolve));
  }
  started(id: string): void {
    const resolve = this.waiting.get(id);
    if (resolve) {
      this.waiting.delete(id);
      resolve();
    } else this.early.add(id);
  }
}

/** Between timed drains each side keeps a worker of this concurrency (backlogs finish quickly). */
const IDLE_CONCURRENCY = 16;

/** The two sides measured against each other: each can submit one job, and drain a batch at a concurrency. */
interface Side {
  /** Submits one job; resolves once a worker has started it. */
  one(): Promise<void>;
  /** Submits `n` jobs from 16 concurrent submitters; resolves with jobs per second. */
  submitMany(n: number): Promise<number>;
  /** With `n` jobs waiting, opens a worker of `concurrency` and resolves with jobs per second until all finished. */
  drain(n: number, concurrency: number): Promise<number>;
  /** Waits until every job submitted so far has finished. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

async function sixteenSubmitters(n: number, submit: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < n) {
        next += 1;
        await submit();
      }
    }),
  );
  return (n / (performance.now() - t0)) * 1000;
}

/** Counts submitted and finished jobs; times a drain, and waits for a backlog to finish. */
class Tally {
  submitted = 0;
  private done = 0;
  private waiters: Array<{ at: number; resolve: () => void }> = [];
  finished(): void {
    this.done += 1;
    this.waiters = this.waiters.filter((waiter) => (waiter.at <= this.done ? (waiter.resolve(), false) : true));
  }
  until(total: number): Promise<void> {
    if (this.done >= total) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ at: total, resolve }));
  }
  /** Jobs per second for the `n` jobs added last, from opening the worker until all of them finished. */
  async time(n: number, open: () => void): Promise<number> {
    const target = this.submitted;
    const t0 = performance.now();
    open();
    await this.until(target);
    return (n / (performance.now() - t0)) * 1000;
  }
  settle(): Promise<void> {
    return this.until(this.submitted);
  }
}

// -------------------------------------------------------------------------------------------------
// Raw BullMQ: Queue.add → a Worker processor that returns at once.

function rawBullmq(queue: QueueBackend): Side {
  const q = queue.openQueue<{ n: number }>(`bench-raw-${Date.now()}`);
  const signals = new StartSignals();
  const tally = new Tally();
  let counter = 0;
  const processor = async (job: BullJob<{ n: number }>) => {
    signals.started(String(job.id));
    tally.finished();
  };
  let worker = queue.openWorker<{ n: number }>(q.name, processor, { concurrency: IDLE_CONCURRENCY, drainDelay: 1 });
  const add = async () => {
    tally.submitted += 1;
    return String((await q.add('noop', { n: counter++ }, { removeOnComplete: true })).id);
  };
  return {
    async one() {
      await signals.wait(await add());
    },
    submitMany: (n) => sixteenSubmitters(n, add),
    async drain(n, concurrency) {
      await tally.settle();
      await worker.close();
      tally.submitted += n;
      await q.addBulk(Array.from({ length: n }, () => ({ name: 'noop', data: { n: counter++ }, opts: { removeOnComplete: true } })));
      const rate = await tally.time(n, () => {
        worker = queue.openWorker<{ n: number }>(q.name, processor, { concurrency, drainDelay: 1 });
      });
      await worker.close();
      worker = queue.openWorker<{ n: number }>(q.name, processor, { concurrency: IDLE_CONCURRENCY, drainDelay: 1 });
      return rate;
    },
    settle: () => tally.settle(),
    async close() {
      await worker.close();
      await q.obliterate({ force: true }).catch(() => {});
    },
  };
}

// -------------------------------------------------------------------------------------------------
// Anvil: jobs submit (insert + event, admission, BullMQ add) → claim in SQL → finish in SQL.

async function anvilDispatch(server: AnvilServer, jobs: JobsRuntime): Promise<Side> {
  const { service } = jobs;
  const { workerId, heartbeatMs } = await service.register({ name: 'bench-worker', capabilities: {}, resourceClasses: ['cpu'], slots: 256, recipes: ['diagnostics.counter'] });
  // A worker that stops heartbeating is declared lost and its claims refused: beat like a real one.
  const heartbeat = setInterval(() => void service.heartbeat(workerId, { telemetry: null, running: [] }).catch(() => {}), heartbeatMs);
  const signals = new StartSignals();
  const tally = new Tally();
  const processor = async (job: BullJob<{ jobId: string }>) => {
    const claim = await service.claim(workerId, job.data.jobId);
    if (claim.outcome !== 'claimed') return;
    signals.started(claim.job.id);
    await service.finish(workerId, claim.job.id, { attempt: claim.job.attempt, outcome: { status: 'succeeded', result: {} } });
    tally.finished();
  };
  const queue = server.runtime.services.queue;
  let worker = queue.openWorker<{ jobId: string }>('jobs-cpu', processor, { concurrency: IDLE_CONCURRENCY, drainDelay: 1 });
  const submit = async () => {
    tally.submitted += 1;
    return (await service.submit('bench', { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 0 } })).job.id;
  };
  return {
    async one() {
      await signals.wait(await submit());
    },
    submitMany: (n) => sixteenSubmitters(n, submit),
    async drain(n, concurrency) {
      await tally.settle();
      await worker.close();
      await sixteenSubmitters(n, submit);
      const rate = await tally.time(n, () => {
        worker = queue.openWorker<{ jobId: string }>('jobs-cpu', processor, { concurrency, drainDelay: 1 });
      });
      await worker.close();
      worker = queue.openWorker<{ jobId: string }>('jobs-cpu', processor, { concurrency: IDLE_CONCURRENCY, drainDelay: 1 });
      return rate;
    },
    settle: () => tally.settle(),
    async close() {
      await worker.close();
      clearInterval(heartbeat);
      await service.retire(workerId);
    },
  };
}

/** Sequential submit-to-start latency, one raw job then one Anvil job (interleaved); the first 20 pairs warm up. */
async function interleavedLatency(n: number, raw: Side, anvil: Side): Promise<{ raw: number[]; anvil: number[] }> {
  const samples = { raw: [] as number[], anvil: [] as number[] };
  for (let i = 0; i < n + 20; i += 1) {
    for (const [side, into] of i % 2 === 0 ? ([[raw, samples.raw], [anvil, samples.anvil]] as const) : ([[anvil, samples.anvil], [raw, samples.raw]] as const)) {
      const t0 = performance.now();
      await side.one();
      if (i >= 20) into.push(performance.now() - t0);
    }
  }
  samples.raw.sort((a, b) => a - b);
  samples.anvil.sort((a, b) => a - b);
  return samples;
}

function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

async function endToEnd(jobs: JobsRuntime, samples: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    const t0 = performance.now();
    const { job } = await jobs.service.submit('bench-e2e', { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 0 } });
    for (;;) {
      const now = await jobs.service.store.get('bench-e2e', job.id);
      if (now.state === 'succeeded' || now.state === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    times.push(performance.now() - t0);
  }
  return percentile(times.sort((a, b) => a - b), 50);
}

/**
 * A built-in recipe's start to exit (1 step, no sleep) through the runner, against the same runner
 * starting a bare `node` script that speaks the protocol minimally (the floor: Node's own start),
 * interleaved. The recipe runs as its JavaScript build when `npm run bench` has built dist/.
 */
async function recipeStart(dir: string, samples: number): Promise<{ recipe: number; bare: number; command: string }> {
  const bareScript = join(dir, 'bare-recipe.mjs');
  await writeFile(bareScript, `process.stdout.write(JSON.stringify({ type: 'result', value: {} }) + '\\n');\n`);
  const recipe = entryCommand(diagnosticsCounter.entry);
  const bare = { command: process.execPath, args: [bareScript] };
  const times = { recipe: [] as number[], bare: [] as number[] };
  for (let i = 0; i < samples + 2; i += 1) {
    for (const [side, command] of [['recipe', recipe], ['bare', bare]] as const) {
      const spec = { jobId: `start-${i}`, recipe: diagnosticsCounter.name, params: { steps: 1, stepMs: 0 }, attempt: 1, workDir: dir, resume: null };
      const t0 = performance.now();
      const outcome = await runRecipe({ ...command, spec, cwd: dir, timeoutMs: 30_000, graceMs: 1_000, onEvent: () => undefined });
      if (outcome.status !== 'succeeded') throw new Error(`${side} run failed: ${JSON.stringify(outcome)}`);
      if (i >= 2) times[side].push(performance.now() - t0); // the first two warm the disk cache
    }
  }
  return { recipe: percentile(times.recipe.sort((a, b) => a - b), 50), bare: percentile(times.bare.sort((a, b) => a - b), 50), command: recipe.args.join(' ') };
}

export async function run(context: BenchContext): Promise<Figure[]> {
  const latencyN = envInt('BENCH_JOBS_LATENCY_N', 300);
  const drainN = envInt('BENCH_JOBS_DRAIN_N', 2000);
  const levels = [1, 16];
  const rounds = envInt('BENCH_JOBS_ROUNDS', 3);
  const distributed = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
  context.log(distributed ? 'distributed: Postgres (DATABASE_URL) + BullMQ on Redis (REDIS_URL)' : 'embedded: PGlite + BullMQ Postgres backend (set DATABASE_URL and REDIS_URL for the distributed figures)');
  const home = await mkdtemp(join(tmpdir(), 'anvil-bench-jobs-'));
  let db: TempDatabase | undefined;
  let server: AnvilServer | undefined;
  try {
    db = distributed ? await createTempDatabase({ prefix: 'anvil_bench' }) : undefined;
    const { config } = loadConfig({
      env: { ANVIL_HOME: home, ANVIL_LOG_LEVEL: 'silent', ...(db ? { DATABASE_URL: db.url, REDIS_URL: process.env.REDIS_URL } : {}) },
      cwd: home,
      overrides: { inline: { queuePrefix: `bench${Date.now()}`, jobs: { localWorker: 'off', sweepMs: 1000 } } },
    });
    server = await startAnvilServer({ config, log: silentLogger(), http: false, stdio: false, pluginBaseDir: home, defaultMetrics: false });
    const jobs = server.plugins.exportsOf(jobsPlugin)?.jobs();
    if (!jobs) throw new Error('the jobs plugin did not start');

    const raw = rawBullmq(server.runtime.services.queue);
    const anvil = await anvilDispatch(server, jobs);
    context.log(`latency: ${latencyN} sequential jobs each side, raw BullMQ and Anvil alternating`);
    const latency = await interleavedLatency(latencyN, raw, anvil);
    const rates = { raw: new Map<string, number[]>(), anvil: new Map<string, number[]>() };
    const record = (side: 'raw' | 'anvil', metric: string, value: number) => rates[side].set(metric, [...(rates[side].get(metric) ?? []), value]);
    for (let round = 0; round < rounds; round += 1) {
      // Alternate which side goes first, so neither always meets the machine warmer or busier.
      const order = round % 2 === 0 ? (['raw', 'anvil'] as const) : (['anvil', 'raw'] as const);
      for (const level of levels) {
        for (const side of order) record(side, `dispatch_throughput_c${level}_jobs_per_s`, await (side === 'raw' ? raw : anvil).drain(drainN, level));
      }
      for (const side of order) record(side, 'submit_rate_16_submitters_jobs_per_s', await (side === 'raw' ? raw : anvil).submitMany(drainN));
      // The submitted jobs finish before the next round.
      for (const side of order) await (side === 'raw' ? raw : anvil).settle();
      context.log(
        `round ${round + 1}/${rounds}: ` +
          [...rates.anvil.keys()].map((metric) => `${metric} anvil ${rates.anvil.get(metric)?.at(-1)?.toFixed(0)} raw ${rates.raw.get(metric)?.at(-1)?.toFixed(0)}`).join('; '),
      );
    }
    await raw.close();
    await anvil.close();

    const figures: Figure[] = [
      { metric: 'submit_to_start_p50_ms', value: percentile(latency.anvil, 50), unit: 'ms', anchor: percentile(latency.raw, 50) },
      { metric: 'submit_to_start_p99_ms', value: percentile(latency.anvil, 99), unit: 'ms', anchor: percentile(latency.raw, 99) },
    ];
    for (const [metric, values] of rates.anvil) {
      const anchors = rates.raw.get(metric) ?? [];
      context.log(`${metric}: anvil ${values.map((v) => v.toFixed(0)).join(', ')}; raw BullMQ ${anchors.map((v) => v.toFixed(0)).join(', ')} (median of ${rounds} rounds reported)`);
      figures.push({ metric, value: median(values), unit: 'jobs/s', anchor: median(anchors) });
    }
    const start = await recipeStart(home, envInt('BENCH_JOBS_START_N', 20));
    context.log(`recipe start to exit p50 ${start.recipe.toFixed(1)} ms vs bare node ${start.bare.toFixed(1)} ms (goal ≤ 50 ms; ran: node ${start.command})`);
    figures.push({ metric: 'recipe_start_to_exit_p50_ms', value: start.recipe, unit: 'ms', anchor: start.bare });
    context.log('end to end with a real recipe process (diagnostics.counter, 1 step), 20 jobs: needs a worker');
    await server.shutdown('bench: restart with the local worker');
    server = undefined;
    const { config: withWorker } = loadConfig({
      env: { ANVIL_HOME: home, ANVIL_LOG_LEVEL: 'silent', ...(db ? { DATABASE_URL: db.url, REDIS_URL: process.env.REDIS_URL } : {}) },
      cwd: home,
      overrides: { inline: { queuePrefix: `bench${Date.now()}`, jobs: { localWorker: 'on', localWorkerSlots: 1 } } },
    });
    server = await startAnvilServer({ config: withWorker, log: silentLogger(), http: false, stdio: false, pluginBaseDir: home, defaultMetrics: false });
    const local = server.plugins.exportsOf(jobsPlugin)?.jobs();
    if (!local) throw new Error('the jobs plugin did not start');
    figures.push({ metric: 'end_to_end_with_recipe_process_p50_ms', value: await endToEnd(local, 20), unit: 'ms', anchor: percentile(latency.anvil, 50) });
    return figures;
  } finally {
    await server?.shutdown('bench done').catch(() => {});
    await db?.drop().catch(() => {});
    await rm(home, { recursive: true, force: true });
  }
}
