/**
 * The control plane's periodic work, safe to run on every control plane at once: mark workers whose
 * lease ran out as lost and requeue their jobs, admit held jobs (backoff expiries), re-add admitted
 * jobs BullMQ lost, and preempt a lower-priority job when a higher-priority one has waited too long
 * for its class with no free slot anywhere.
 */
import type { Logger, PluginSql } from 'anvil/plugin';
import { loadSql } from '../../server/db/sql.ts';
import { unmetRequirements, type Capabilities } from '../../gpu-workers/probe.ts';
import type { Dispatcher } from './dispatch.ts';
import type { JobResources } from './resources.ts';
import type { JobService } from './service.ts';

const sql = (name: string) => loadSql(import.meta.url, `./sql/${name}.sql`);
const SQL = {
  waiting: sql('preempt-waiting'),
  pending: sql('preempt-pending'),
  victim: sql('preempt-victim'),
} as const;

export interface SweepSettings {
  sweepMs: number;
  preemptAfterMs: number;
}

export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private ticks = 0;

  constructor(
    private readonly sql: PluginSql,
    private readonly service: JobService,
    private readonly dispatcher: Dispatcher,
    private readonly settings: SweepSettings,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .catch((error: unknown) => this.log.warn({ err: error }, 'job sweep failed; retrying next tick'))
        .finally(() => {
          this.running = undefined;
        });
    }, this.settings.sweepMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; exported for tests that drive time themselves. */
  async sweep(): Promise<void> {
    for (const worker of await this.service.store.expiredWorkers()) await this.service.handleLostWorker(worker.id);
    await this.dispatcher.admitAll();
    await this.preempt();
    // Reconciling reads BullMQ per admitted job: every tenth pass is enough for a rare repair.
    if (this.ticks++ % 10 === 0) await this.dispatcher.reconcile(Math.max(30_000, this.settings.sweepMs * 10));
  }

  /**
   * For each job that has waited `preemptAfterMs` in BullMQ: if no worker that could run it (its
   * class, and enough GPUs, VRAM, CPUs, memory) has a free slot, a job of its class running on one
   * of those workers is asked to checkpoint and yield: one of its own project with a lower priority,
   * or one of a project whose operator-assigned priority class ranks lower (preempt-victim.sql).
   * Preemptions already under way on those workers count as slots about to free.
   */
  private async preempt(): Promise<void> {
    const { rows: waiting } = await this.sql.query<{ id: string; project: string; resource_class: string; priority: number; resources: JobResources }>(SQL.waiting, [
      this.settings.preemptAfterMs,
      100,
    ]);
    if (waiting.length === 0) return;
    const workers = await this.service.store.listWorkers(['active']);
    const preempting = new Map<string, number>(); // worker → preemptions asked this pass or before
    const { rows: pending } = await this.sql.query<{ worker: string; n: string }>(SQL.pending, []);
    for (const row of pending) preempting.set(row.worker, Number(row.n));
    for (const job of waiting) {
      const capable = workers.filter(
        (worker) => worker.resourceClasses.includes(job.resource_class) && unmetRequirements(capabilitiesOf(worker.capabilities), job.resources).length === 0,
      );
      if (capable.length === 0) continue; // nobody can run it: preempting would not help (jobs_explain says so)
      const free = capable.reduce((sum, worker) => sum + Math.max(0, worker.slots - worker.runningJobs.length) + (preempting.get(worker.id) ?? 0), 0);
      if (free > 0) {
        // A slot is free or about to be: use it up for this job, do not preempt for it.
        const taking = capable.find((worker) => (preempting.get(worker.id) ?? 0) > 0);
        if (taking) preempting.set(taking.id, (preempting.get(taking.id) ?? 1) - 1);
        continue;
      }
      // Across projects only by the operator's priority classes: a caller's own numbers never reach another tenant.
      const { rank } = await this.dispatcher.quota(job.project);
      const lower = this.dispatcher.classesBelow(rank);
      const reason = `preempted for higher-priority job ${job.id} (priority ${job.priority})`;
      const victim = (
        await this.sql.query<{ id: string; worker: string; project: string }>(SQL.victim, [
          job.resource_class,
          job.priority,
          reason,
          capable.map((w) => w.id),
          job.project,
          lower,
          this.dispatcher.defaultPriorityClass,
        ])
      ).rows[0];
      if (!victim) continue; // nothing of lower priority runs where this job could
      this.log.info({ victim: victim.id, for: job.id, resourceClass: job.resource_class }, 'preempting a lower-priority job');
      await this.service.requestPreemption(victim.id, victim.worker, victim.project);
    }
  }
}

/** The capacity fields of a worker's registered capabilities (as the probe reported them). */
function capabilitiesOf(capabilities: Record<string, unknown>): Pick<Capabilities, 'cpus' | 'memoryGb' | 'gpus'> {
  return {
    cpus: typeof capabilities.cpus === 'number' ? capabilities.cpus : 0,
    memoryGb: typeof capabilities.memoryGb === 'number' ? capabilities.memoryGb : 0,
    gpus: Array.isArray(capabilities.gpus) ? (capabilities.gpus as Capabilities['gpus']) : [],
  };
}
