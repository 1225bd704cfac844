/**
 * A worker node: registers with the control plane, consumes the BullMQ queues of the resource
 * classes it can serve, claims each job in SQL (through the control plane) before running it,
 * heartbeats with telemetry, and stops jobs when asked over the control bus or in a heartbeat
 * answer. `anvil worker` runs one against a remote control plane over HTTP; `anvil serve` runs one
 * in-process on embedded storage.
 *
 *     const agent = new WorkerAgent({ control, queues, bus, name, capabilities, slots, recipes, workRoot, log });
 *     await agent.start();
 *     await agent.close('preempt'); // checkpoint running jobs and hand them back
 */
import os from 'node:os';
import { DelayedError, type Job as BullJob } from 'bullmq';
import type { Logger } from 'pino';
import { isAnvilError, ErrorCodes, errorMessage } from '../contracts/errors.ts';
import type { Processor } from 'bullmq';
import type { AnvilWorker, WorkerSettings } from '../contracts/queue.ts';
import type { ControlBus } from './bus.ts';
import { JobRun, type ResolvedRecipe } from './job-run.ts';
import { unmetRequirements, type Capabilities, type Resources } from './probe.ts';
import { Capacity } from './slots.ts';
import type { ClaimedJob, ControlPlane, StopWhy } from '../contracts/wire.ts';

/** The queue prefix the jobs plugin's queues live under (`jobs-<class>`). */
export const JOBS_QUEUE_PREFIX = 'jobs-';
/** How long a job this node cannot serve waits before BullMQ offers it again (to any worker). */
const HAND_BACK_MS = 2_000;

/** What a queued job carries: the job's id (the SQL row is the truth) and what it needs. */
export interface QueuedJob {
  jobId: string;
  resources?: Resources;
}

/**
 * Where the agent takes jobs from: a BullMQ consumer on the queue of one resource class
 * (`jobs-<class>`). `anvil worker` opens them on its own queue backend; the local worker through
 * the jobs plugin's `ctx.queue`.
 */
export interface JobQueues {
  consume(resourceClass: string, processor: Processor<QueuedJob, unknown, string>, settings: WorkerSettings): AnvilWorker<QueuedJob>;
}

export interface WorkerAgentOptions {
  control: ControlPlane;
  queues: JobQueues;
  /** Stop requests arrive here first; heartbeat answers are the fallback. */
  bus?: ControlBus;
  name: string;
  capabilities: Capabilities;
  slots: number;
  /** Recipe name → how to start it (a function for recipes whose command depends on the params). */
  recipes: ReadonlyMap<string, ResolvedRecipe | ((params: Record<string, unknown>) => ResolvedRecipe)>;
  workRoot: string;
  log: Logger;
  /** Override the graceMs the control plane sends. */
  graceMs?: number;
  /** Re-reads the GPUs for each heartbeat's telemetry (utilisation, memory, temperature change). */
  probe?: () => Promise<Capabilities>;
}

interface Active {
  run: JobRun;
  done: Promise<void>;
}

export class WorkerAgent {
  private workerId: string | undefined;
  private readonly consumers: Array<AnvilWorker<QueuedJob>> = [];
  private readonly active = new Map<string, Active>();
  private heartbeat: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private capacity: Capacity;
  private graceMs = 10_000;
  private closing = false;
  private reregistering: Promise<void> | undefined;

  constructor(private readonly options: WorkerAgentOptions) {
    this.capacity = new Capacity(options.slots, options.capabilities.gpus, (full) => this.onCapacity(full));
  }

  get id(): string | undefined {
    return this.workerId;
  }

  get runningJobs(): string[] {
    return [...this.active.keys()];
  }

  async start(): Promise<void> {
    const { control, capabilities, log } = this.options;
    const registered = await control.register({
      name: this.options.name,
      capabilities: { ...capabilities },
      resourceClasses: [...capabilities.resourceClasses],
      slots: this.options.slots,
      recipes: [...this.options.recipes.keys()],
    });
    this.workerId = registered.workerId;
    this.graceMs = this.options.graceMs ?? registered.graceMs;
    this.unsubscribe = this.options.bus?.subscribe((message) => {
      if (message.type === 'stop' && message.worker === this.workerId) this.stopJob(message.jobId, message.why);
    });
    for (const resourceClass of capabilities.resourceClasses) {
      const consumer = this.options.queues.consume(resourceClass, (job, token) => this.process(job, token), {
        concurrency: this.options.slots,
        // A job whose worker dies is handed back by BullMQ after this long; the SQL claim keeps it from running twice.
        lockDuration: 30_000,
        drainDelay: 1,
      });
      consumer.on('error', (error) => log.warn({ err: error, resourceClass }, 'queue consumer error'));
      this.consumers.push(consumer);
    }
    this.heartbeat = setInterval(() => void this.beat(), registered.heartbeatMs);
    this.heartbeat.unref();
    log.info({ worker: this.workerId, classes: capabilities.resourceClasses, slots: this.options.slots, gpus: capabilities.gpus.length }, 'worker started');
  }

  /** Stops a running job of this worker (cancel or preemption). */
  stopJob(jobId: string, why: StopWhy): void {
    const active = this.active.get(jobId);
    if (!active) return;
    this.options.log.info({ jobId, why }, 'stopping job');
    active.run.stop(why);
  }

  /**
   * `preempt`: running jobs checkpoint and go back to the queue (what SIGTERM does); `drain`: they
   * finish first. Then the worker leaves (retired: nothing waits for its lease to expire).
   */
  async close(mode: 'preempt' | 'drain' = 'preempt'): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.heartbeat);
    this.unsubscribe?.();
    await Promise.all(this.consumers.map((consumer) => consumer.pause(true).catch(() => {})));
    if (mode === 'preempt') for (const { run } of this.active.values()) run.stop('preempted');
    await Promise.all([...this.active.values()].map((active) => active.done));
    await Promise.all(this.consumers.map((consumer) => consumer.close().catch(() => {})));
    if (this.workerId) await this.options.control.retire(this.workerId).catch((error: unknown) => this.options.log.warn({ err: error }, 'could not retire the worker'));
  }

  private async process(bullJob: BullJob<{ jobId: string; resources?: Resources }>, token?: string): Promise<void> {
    const jobId = bullJob.data.jobId;
    const workerId = this.workerId;
    if (!workerId || this.closing) throw new Error('worker is closing');
    // Queues are per GPU type; the count, VRAM, CPUs and memory a job needs are checked here. A job
    // this node could never run goes back to the queue for another worker, unclaimed.
    const unmet = bullJob.data.resources ? unmetRequirements(this.options.capabilities, bullJob.data.resources) : [];
    if (unmet.length > 0) {
      this.options.log.debug({ jobId, unmet }, 'cannot serve this job; handing it back');
      await bullJob.moveToDelayed(Date.now() + HAND_BACK_MS, token);
      throw new DelayedError();
    }
    const claim = await this.options.control.claim(workerId, jobId);
    if (claim.outcome === 'lost') {
      this.options.log.debug({ jobId, state: claim.state }, 'job already taken or gone; skipped');
      return;
    }
    await this.runClaimed(workerId, claim.job);
  }

  private async runClaimed(workerId: string, job: ClaimedJob): Promise<void> {
    const { log } = this.options;
    const recipe = this.resolve(job);
    const grant = await this.capacity.acquire(job.resources);
    const run = new JobRun({
      control: this.options.control,
      workerId,
      job,
      recipe: recipe ?? { command: '', args: [] },
      workRoot: this.options.workRoot,
      gpus: grant.gpus,
      graceMs: this.graceMs,
      log,
    });
    let finished!: () => void;
    const done = new Promise<void>((resolve) => {
      finished = resolve;
    });
    this.active.set(job.id, { run, done });
    try {
      if (!recipe) {
        await this.options.control.finish(workerId, job.id, {
          attempt: job.attempt,
          outcome: {
            status: 'failed',
            reason: 'spawn',
            message: `worker ${workerId} has no recipe "${job.recipe}" (it has: ${[...this.options.recipes.keys()].join(', ')})`,
            lastLogs: [],
            exitCode: null,
            signal: null,
            unrecoverable: false,
          },
        });
        return;
      }
      log.info({ jobId: job.id, recipe: job.recipe, attempt: job.attempt, gpus: grant.gpus, resumeStep: job.checkpoint?.step ?? null }, 'running job');
      await run.execute();
    } catch (error) {
      // The control plane refused the report (another worker holds the job now) or is unreachable;
      // the lease sweep and the SQL claim keep the job's record right either way.
      log.warn({ err: error, jobId: job.id }, `could not report the end of the job: ${errorMessage(error)}`);
    } finally {
      grant.release();
      this.active.delete(job.id);
      finished();
    }
  }

  private resolve(job: ClaimedJob): ResolvedRecipe | null {
    const entry = this.options.recipes.get(job.recipe);
    if (!entry) return null;
    return typeof entry === 'function' ? entry(job.params) : entry;
  }

  private onCapacity(full: boolean): void {
    if (this.closing) return;
    for (const consumer of this.consumers) {
      if (full) void consumer.pause(true).catch(() => {});
      else consumer.resume();
    }
  }

  private async beat(): Promise<void> {
    const workerId = this.workerId;
    if (!workerId || this.closing) return;
    try {
      const current = this.options.probe && this.options.capabilities.gpus.length > 0 ? await this.options.probe().catch(() => this.options.capabilities) : this.options.capabilities;
      const answer = await this.options.control.heartbeat(workerId, { telemetry: telemetry(current, this.capacity.used), running: this.runningJobs });
      for (const stop of answer.stop) this.stopJob(stop.jobId, stop.why);
    } catch (error) {
      if (isAnvilError(error, ErrorCodes.CONFLICT)) {
        // Declared lost (a long pause, a partition): our jobs were handed to others. Stop them
        // without reporting (the fencing would refuse it anyway) and join again.
        this.options.log.warn({ worker: workerId }, 'this worker was declared lost; stopping its jobs and registering again');
        for (const { run } of this.active.values()) run.stop('cancelled');
        this.reregistering ??= this.reregister().finally(() => {
          this.reregistering = undefined;
        });
        return;
      }
      this.options.log.warn({ err: error }, 'heartbeat failed');
    }
  }

  private async reregister(): Promise<void> {
    await Promise.all([...this.active.values()].map((active) => active.done));
    const registered = await this.options.control.register({
      name: this.options.name,
      capabilities: { ...this.options.capabilities },
      resourceClasses: [...this.options.capabilities.resourceClasses],
      slots: this.options.slots,
      recipes: [...this.options.recipes.keys()],
    });
    this.workerId = registered.workerId;
  }
}

function telemetry(capabilities: Capabilities, slotsUsed: number): Record<string, unknown> {
  return {
    loadAverage: os.loadavg(),
    freeMemoryGb: Math.round((os.freemem() / 1e9) * 100) / 100,
    slotsUsed,
    gpus: capabilities.gpus.map((gpu) => ({ index: gpu.index, name: gpu.name, utilizationPct: gpu.utilizationPct, memoryUsedMb: gpu.memoryUsedMb, temperatureC: gpu.temperatureC })),
  };
}
