/**
 * `jobs`: how fast a submitted job reaches a worker, and how many jobs per second the dispatch path
 * moves with its Postgres bookkeeping, against raw BullMQ on the same queue backend in the same run.
 *
 * Anvil side: an in-process server (`startAnvilServer`, local worker off) and a consumer that does
 * exactly what a worker does per job except spawning a recipe process: claim in SQL, then finish
 * (succeeded) in SQL. So a job is: submit (insert + event, admission under the project lock, BullMQ
 * add) → BullMQ delivery → claim (transaction + event) → finish (transaction + event, re-admission).
 * Raw side: `Queue.add` → a BullMQ `Worker` processor that returns at once.
 *
 * Distributed when DATABASE_URL and REDIS_URL are set (Postgres + BullMQ on Redis: the issue's
 * setting); otherwise embedded (PGlite + BullMQ's Postgres backend on it), and says so.
 *
 * Figures: submit-to-start p50/p99 (sequential: submit, wait until the worker has it, repeat),
 * drain throughput at worker concurrency 1 and 16 (jobs queued first, then timed until all
 * finished), submit throughput (16 concurrent submitters), and one end-to-end run with a real
 * recipe process (spawn included; no raw anchor, reported against the dispatch p50).
 * Knobs: BENCH_JOBS_LATENCY_N (default 300), BENCH_JOBS_DRAIN_N (default 2000).
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

async function measureLatency(n: number, submit: () => Promise<string>, signals: StartSignals): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n + 20; i += 1) {
    const t0 = performance.now();
    const id = await submit();
    await signals.wait(id);
    if (i >= 20) samples.push(performance.now() - t0); // the first 20 warm up
  }
  return samples.sort((a, b) => a - b);
}

async function drain(total: number, whenDone: (resolve: () => void) => void): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve) => whenDone(resolve));
  return (total / (performance.now() - t0)) * 1000;
}

// -------------------------------------------------------------------------------------------------
// Raw BullMQ

async function rawBullmq(queue: QueueBackend, latencyN: number, drainN: number, concurrency: number[]): Promise<{ p50: number; p99: number; throughput: Map<number, number> }> {
  const q = queue.openQueue<{ n: number }>(`bench-raw-${Date.now()}`);
  const signals = new StartSignals();
  let done = 0;
  let onDone: (() => void) | undefined;
  let target = Number.POSITIVE_INFINITY;
  const processor = async (job: BullJob<{ n: number }>) => {
    signals.started(String(job.id));
    done += 1;
    if (done >= target) onDone?.();
  };
  let worker = queue.openWorker<{ n: number }>(q.name, processor, { concurrency: 1, drainDelay: 1 });
  let counter = 0;
  const latency = await measureLatency(latencyN, async () => String((await q.add('noop', { n: counter++ }, { removeOnComplete: true })).id), signals);
  const throughput = new Map<number, number>();
  for (const level of concurrency) {
    await worker.close();
    done = 0;
    target = drainN;
    await q.addBulk(Array.from({ length: drainN }, () => ({ name: 'noop', data: { n: counter++ }, opts: { removeOnComplete: true } })));
    const rate = await drain(drainN, (resolve) => {
      onDone = resolve;
      worker = queue.openWorker<{ n: number }>(q.name, processor, { concurrency: level, drainDelay: 1 });
    });
    throughput.set(level, rate);
  }
  await worker.close();
  await q.obliterate({ force: true }).catch(() => {});
  return { p50: percentile(latency, 50), p99: percentile(latency, 99), throughput };
}

// -------------------------------------------------------------------------------------------------
// Anvil

async function anvilDispatch(server: AnvilServer, jobs: JobsRuntime, latencyN: number, drainN: number, concurrency: number[]) {
  const { service } = jobs;
  const { workerId, heartbeatMs } = await service.register({ name: 'bench-worker', capabilities: {}, resourceClasses: ['cpu'], slots: 256, recipes: ['diagnostics.counter'] });
  // A worker that stops heartbeating is declared lost and its claims refused: beat like a real one.
  const heartbeat = setInterval(() => void service.heartbeat(workerId, { telemetry: null, running: [] }).catch(() => {}), heartbeatMs);
  const signals = new StartSignals();
  let done = 0;
  let target = Number.POSITIVE_INFINITY;
  let onDone: (() => void) | undefined;
  const processor = async (job: BullJob<{ jobId: string }>) => {
    const claim = await service.claim(workerId, job.data.jobId);
    if (claim.outcome !== 'claimed') return;
    signals.started(claim.job.id);
    await service.finish(workerId, claim.job.id, { attempt: claim.job.attempt, outcome: { status: 'succeeded', result: {} } });
    done += 1;
    if (done >= target) onDone?.();
  };
  const queue = server.runtime.services.queue;
  let worker = queue.openWorker<{ jobId: string }>('jobs-cpu', processor, { concurrency: 1, drainDelay: 1 });
  const submit = async (project = 'bench') => (await service.submit(project, { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 0 } })).job.id;
  const latency = await measureLatency(latencyN, () => submit(), signals);

  const throughput = new Map<number, number>();
  let submitRate = 0;
  for (const level of concurrency) {
    await worker.close();
    done = 0;
    target = drainN;
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < drainN) {
          next += 1;
          await submit();
        }
      }),
    );
    submitRate = Math.max(submitRate, (drainN / (performance.now() - t0)) * 1000);
    const rate = await drain(drainN, (resolve) => {
      onDone = resolve;
      worker = queue.openWorker<{ jobId: string }>('jobs-cpu', processor, { concurrency: level, drainDelay: 1 });
    });
    throughput.set(level, rate);
  }
  await worker.close();
  clearInterval(heartbeat);
  await service.retire(workerId);
  return { p50: percentile(latency, 50), p99: percentile(latency, 99), throughput, submitRate };
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

    context.log(`raw BullMQ: ${latencyN} sequential jobs, then ${drainN} queued jobs drained at concurrency ${levels.join(' and ')}`);
    const raw = await rawBullmq(server.runtime.services.queue, latencyN, drainN, levels);
    context.log(`anvil: the same, through jobs submit → claim → finish`);
    const anvil = await anvilDispatch(server, jobs, latencyN, drainN, levels);
    context.log(`raw p50 ${raw.p50.toFixed(2)} ms, anvil p50 ${anvil.p50.toFixed(2)} ms; goal: anvil ≤ raw + 20 ms and ≥ 500 jobs/s`);

    const figures: Figure[] = [
      { metric: 'submit_to_start_p50_ms', value: anvil.p50, unit: 'ms', anchor: raw.p50 },
      { metric: 'submit_to_start_p99_ms', value: anvil.p99, unit: 'ms', anchor: raw.p99 },
      { metric: 'submit_to_start_p50_overhead_ms', value: anvil.p50 - raw.p50, unit: 'ms', anchor: 20 },
      { metric: 'submit_rate_16_submitters_jobs_per_s', value: anvil.submitRate, unit: 'jobs/s', anchor: 500 },
    ];
    for (const level of levels) {
      figures.push({ metric: `dispatch_throughput_c${level}_jobs_per_s`, value: anvil.throughput.get(level) ?? 0, unit: 'jobs/s', anchor: raw.throughput.get(level) ?? 0 });
    }
    const start = await recipeStart(home, 20);
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
    figures.push({ metric: 'end_to_end_with_recipe_process_p50_ms', value: await endToEnd(local, 20), unit: 'ms', anchor: anvil.p50 });
    return figures;
  } finally {
    await server?.shutdown('bench done').catch(() => {});
    await db?.drop().catch(() => {});
    await rm(home, { recursive: true, force: true });
  }
}
