/**
 * Hands queued jobs to BullMQ. A job enters its resource class's queue (`jobs-cpu`, `jobs-gpu-any`,
 * `jobs-gpu-<type>`) only once admitted: its dependencies have succeeded, its backoff has passed and
 * its project's quota has room (admit.sql, one transaction under a per-project lock). BullMQ only
 * carries `{jobId}`; the worker claims the job in SQL before running it, so a duplicate or stale
 * BullMQ message can never run a job twice.
 */
import type { Logger, PluginQueue, PluginSql } from 'anvil/plugin';
import type { AnvilQueue } from '../../server/queue/backend.ts';
import { loadSql } from '../../server/db/sql.ts';
import type { JobResources } from './resources.ts';
import type { Job } from './rows.ts';

const sql = (name: string) => loadSql(import.meta.url, `./sql/${name}.sql`);
const SQL = {
  admitLock: sql('admit-lock'),
  admit: sql('admit'),
  admitUnlimited: sql('admit-unlimited'),
  quotaGet: sql('quota-get'),
  heldProjects: sql('held-projects'),
  dispatchedStale: sql('dispatched-stale'),
} as const;

/**
 * What a BullMQ job carries: the id, and the resources so a worker that could never serve the job
 * hands it back without claiming it. Everything else is read from SQL at claim time.
 */
export interface DispatchPayload {
  jobId: string;
  resources?: JobResources;
}

/** A project's operator settings: its quota, priority ceiling and priority class. */
export interface Quota {
  maxConcurrentJobs: number | null;
  maxGpus: number | null;
  /** A submission asking for a higher priority gets this one. */
  maxPriority: number;
  /** One of the operator's priority classes, or null when none is configured. */
  priorityClass: string | null;
  /** The class's rank (0 without one): it orders dispatch across projects and gates preemption. */
  rank: number;
  /** `project` when set for the project, `default` when from the server config. */
  source: 'project' | 'default';
}

export interface DispatchDefaults {
  maxConcurrentJobs: number | null;
  maxGpus: number | null;
  maxPriority: number;
  priorityClasses: Readonly<Record<string, { rank: number }>>;
  defaultPriorityClass?: string | undefined;
}

type QuotaRow = { max_concurrent_jobs: number | null; max_gpus: number | null; max_priority: number | null; priority_class: string | null };

type Admitted = { id: string; project: string; resource_class: string; priority: number; dispatch_seq: number; resources: JobResources };

/** The local name of a class's queue under the jobs plugin's prefix (`jobs-<class>` in BullMQ). */
export function queueNameFor(resourceClass: string): string {
  return resourceClass;
}

/** Within one class rank, BullMQ orders priorities in this range (beyond it they tie). */
const BAND = 100_000;
const MAX_RANK = 9;

/**
 * BullMQ runs lower numbers first (1 … 2^21); Anvil priorities are higher first. Jobs of a
 * higher-ranked priority class come before any of a lower rank, then by priority (±100,000).
 */
export function bullPriority(priority: number, rank = 0): number {
  const clamped = Math.max(-BAND, Math.min(BAND, priority));
  return (MAX_RANK - rank) * (2 * BAND + 1) + (BAND - clamped) + 1;
}

export function bullJobId(jobId: string, dispatchSeq: number): string {
  return `${jobId}-${dispatchSeq}`;
}

/** Quotas change rarely; each admission reading them would be a round trip per job. */
const QUOTA_CACHE_MS = 1_000;

export function isLimited(quota: Quota): boolean {
  return quota.maxConcurrentJobs !== null || quota.maxGpus !== null;
}

export class Dispatcher {
  private readonly queues = new Map<string, AnvilQueue<DispatchPayload>>();
  private readonly quotas = new Map<string, { quota: Quota; until: number }>();

  constructor(
    private readonly sql: PluginSql,
    private readonly queue: PluginQueue,
    private readonly defaults: DispatchDefaults,
    private readonly log: Logger,
  ) {}

  queueFor(resourceClass: string): AnvilQueue<DispatchPayload> {
    let queue = this.queues.get(resourceClass);
    if (!queue) {
      queue = this.queue.open<DispatchPayload>(queueNameFor(resourceClass));
      this.queues.set(resourceClass, queue);
    }
    return queue;
  }

  /** The project's effective quota (cached for a second; `forgetQuota` after changing it). */
  async quota(project: string): Promise<Quota> {
    const cached = this.quotas.get(project);
    if (cached && cached.until > Date.now()) return cached.quota;
    const row = (await this.sql.query<QuotaRow>(SQL.quotaGet, [project])).rows[0];
    const { defaults } = this;
    const priorityClass = row?.priority_class ?? defaults.defaultPriorityClass ?? null;
    const quota: Quota = {
      maxConcurrentJobs: row ? (row.max_concurrent_jobs ?? defaults.maxConcurrentJobs) : defaults.maxConcurrentJobs,
      maxGpus: row ? (row.max_gpus ?? defaults.maxGpus) : defaults.maxGpus,
      maxPriority: row?.max_priority ?? defaults.maxPriority,
      priorityClass,
      rank: this.rankOf(priorityClass),
      source: row ? 'project' : 'default',
    };
    if (this.quotas.size > 10_000) this.quotas.clear();
    this.quotas.set(project, { quota, until: Date.now() + QUOTA_CACHE_MS });
    return quota;
  }

  forgetQuota(project: string): void {
    this.quotas.delete(project);
  }

  /** A class's rank; a class the operator has since removed from the config ranks lowest. */
  rankOf(priorityClass: string | null): number {
    return priorityClass === null ? 0 : (this.defaults.priorityClasses[priorityClass]?.rank ?? 0);
  }

  /** The classes ranked below `rank` (a project of rank `rank` may preempt their jobs). */
  classesBelow(rank: number): string[] {
    return Object.entries(this.defaults.priorityClasses)
      .filter(([, spec]) => spec.rank < rank)
      .map(([name]) => name);
  }

  /** The operator's default class (projects without one of their own are in it), if any. */
  get defaultPriorityClass(): string | null {
    return this.defaults.defaultPriorityClass ?? null;
  }

  /**
   * Admits what a project's quota allows, then hands the admitted jobs to BullMQ; returns the ids
   * admitted. With a quota, admissions of one project are serialised by an advisory lock so two
   * of them cannot both take the last slot; without one, the update's own guard
   * (`dispatched_at is null`, re-checked after a concurrent update commits) is enough.
   */
  async admit(project: string, batch = 500): Promise<string[]> {
    const quota = await this.quota(project);
    const admitted = isLimited(quota)
      ? await this.sql.transaction(async (tx) => {
          await tx.query(SQL.admitLock, [project]);
          return (await tx.query<Admitted>(SQL.admit, [project, quota.maxConcurrentJobs, quota.maxGpus, batch])).rows;
        })
      : (await this.sql.query<Admitted>(SQL.admitUnlimited, [project, batch])).rows;
    await this.push(admitted, quota.rank);
    return admitted.map((row) => row.id);
  }

  /** Hands BullMQ a job the store dispatched with its insert (`submit(…, {dispatch: true})`). */
  async pushDispatched(job: Job): Promise<void> {
    const { rank } = await this.quota(job.project);
    await this.push([{ id: job.id, project: job.project, resource_class: job.resourceClass, priority: job.priority, dispatch_seq: job.dispatchSeq, resources: job.resources }], rank);
  }

  /** The sweep: admits every project with held jobs (backoff expiries, anything a crash left). */
  async admitAll(): Promise<void> {
    const { rows } = await this.sql.query<{ project: string }>(SQL.heldProjects, [1_000]);
    for (const { project } of rows) await this.admit(project);
  }

  /**
   * Re-adds admitted jobs whose BullMQ job is missing (the add failed after the commit, or the queue
   * lost it). Adding the same BullMQ job id again is a no-op, so a race with a worker is harmless.
   */
  async reconcile(olderThanMs: number): Promise<number> {
    const { rows } = await this.sql.query<Admitted>(SQL.dispatchedStale, [olderThanMs, 200]);
    const missing: Admitted[] = [];
    for (const row of rows) {
      const existing = await this.queueFor(row.resource_class).getJob(bullJobId(row.id, row.dispatch_seq));
      if (!existing) missing.push(row);
    }
    if (missing.length > 0) this.log.warn({ jobs: missing.map((row) => row.id) }, 'admitted jobs were missing from BullMQ; re-adding them');
    for (const project of new Set(missing.map((row) => row.project))) {
      await this.push(missing.filter((row) => row.project === project), (await this.quota(project)).rank);
    }
    return missing.length;
  }

  private async push(jobs: readonly Admitted[], rank: number): Promise<void> {
    const byClass = new Map<string, Admitted[]>();
    for (const job of jobs) byClass.set(job.resource_class, [...(byClass.get(job.resource_class) ?? []), job]);
    for (const [resourceClass, batch] of byClass) {
      try {
        await this.queueFor(resourceClass).addBulk(
          batch.map((job) => ({
            name: 'run',
            data: { jobId: job.id, resources: job.resources },
            opts: { jobId: bullJobId(job.id, job.dispatch_seq), priority: bullPriority(job.priority, rank), attempts: 1, removeOnComplete: true, removeOnFail: true },
          })),
        );
      } catch (error) {
        // The jobs stay admitted in SQL; the sweep's reconcile adds them once the queue answers.
        this.log.error({ err: error, resourceClass, jobs: batch.length }, 'could not hand admitted jobs to BullMQ; the sweep will retry');
      }
    }
  }

  async close(): Promise<void> {
    // The queues belong to the host's queue backend, which closes them.
    this.queues.clear();
  }
}
