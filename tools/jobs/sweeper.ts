/**
 * The control plane's periodic work, safe to run on every control plane at once: mark workers whose
 * lease ran out as lost and requeue their jobs, admit held jobs (backoff expiries), re-add admitted
 * jobs BullMQ lost, and preempt a lower-priority job when a higher-priority one has waited too long
 * for its class with no free slot anywhere.
 */
import type { Logger, PluginSql } from 'anvil/plugin';
import { loadSql } from '../../server/db/sql.ts';
import type { Dispatcher } from './dispatch.ts';
import type { JobService } from './service.ts';

const sql = (name: string) => loadSql(import.meta.url, `./sql/${name}.sql`);
const SQL = {
  waiting: sql('preempt-waiting'),
  capacity: sql('class-capacity'),
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

  private async preempt(): Promise<void> {
    const { rows: waiting } = await this.sql.query<{ id: string; project: string; resource_class: string; priority: number }>(SQL.waiting, [
      this.settings.preemptAfterMs,
      100,
    ]);
    const byClass = new Map<string, typeof waiting>();
    for (const job of waiting) byClass.set(job.resource_class, [...(byClass.get(job.resource_class) ?? []), job]);
    for (const [resourceClass, jobs] of byClass) {
      const capacity = (await this.sql.query<{ free_slots: string; preempting: string }>(SQL.capacity, [resourceClass])).rows[0];
      if (!capacity || Number(capacity.free_slots) > 0) continue; // a worker will take it without preempting anyone
      // Preemptions already under way free slots for the first waiting jobs.
      for (const job of jobs.slice(Number(capacity.preempting))) {
        const victim = (
          await this.sql.query<{ id: string; worker: string; project: string }>(SQL.victim, [resourceClass, job.priority, `preempted for higher-priority job ${job.id} (priority ${job.priority})`])
        ).rows[0];
        if (!victim) break; // nothing of lower priority runs on this class
        this.log.info({ victim: victim.id, for: job.id, resourceClass }, 'preempting a lower-priority job');
        await this.service.requestPreemption(victim.id, victim.worker, victim.project);
      }
    }
  }
}
