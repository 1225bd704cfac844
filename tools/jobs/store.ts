/**
 * The job system's source of truth in SQL (schema `plugin_jobs`, Postgres or embedded PGlite).
 * BullMQ carries job ids; every state, event, log line, metric and worker lease lives here.
 *
 * `JobStore` is one handle on the parts in `store/`, each owning its statements (`sql/*.sql`):
 * - `records` (store/records.ts): submission and the project-scoped reads;
 * - `transitions` (store/transitions.ts): every state change, one transaction and one event each;
 * - `logs`, `metrics` (store/logs.ts, store/metrics.ts): what workers report, read per project;
 * - `dependencies` (store/dependencies.ts), `workers` (store/workers.ts): leases and orphans.
 * The flat methods below are the contract (test/jobs/store.contract.ts) callers use; they only
 * delegate, so each rule lives in one part.
 */
import type { PluginSql } from 'anvil/plugin';
import type { Job, JobEvent, MetricPoint, Worker, WorkerState, WorkerWithJobs } from './rows.ts';
import type {
  AppendLogsResult,
  CancelResult,
  ClaimResult,
  DependencyStatus,
  JobPage,
  ListOptions,
  LogLineInput,
  LogPage,
  LogsOptions,
  MarkLostResult,
  MetricPointInput,
  RegisterWorkerInput,
  RequeueOptions,
  RequeueResult,
  SubmitInput,
  SubmitOptions,
  SubmitResult,
  TransitionInput,
} from './store-types.ts';
import { DependencyStore } from './store/dependencies.ts';
import { LogStore } from './store/logs.ts';
import { MetricStore } from './store/metrics.ts';
import { JobRecords } from './store/records.ts';
import { JobTransitions } from './store/transitions.ts';
import { WorkerStore } from './store/workers.ts';

export * from './rows.ts';
export * from './store-types.ts';
export { LIMITS } from './store/checks.ts';

/** The migrations this store needs in the plugin's schema (`ctx.migrations(jobsMigrations)`). */
export const jobsMigrations = new URL('./migrations/', import.meta.url);

export class JobStore {
  readonly records: JobRecords;
  readonly transitions: JobTransitions;
  readonly logStore: LogStore;
  readonly metricStore: MetricStore;
  readonly dependencies: DependencyStore;
  readonly workers: WorkerStore;

  /** `sql` resolves `{{schema}}` to the schema the jobs migrations ran in (the plugin's `ctx.sql`). */
  constructor(sql: PluginSql) {
    this.records = new JobRecords(sql);
    this.transitions = new JobTransitions(sql);
    this.logStore = new LogStore(sql);
    this.metricStore = new MetricStore(sql);
    this.dependencies = new DependencyStore(sql);
    this.workers = new WorkerStore(sql);
  }

  submit(project: string, input: SubmitInput, options?: SubmitOptions): Promise<SubmitResult> {
    return this.records.submit(project, input, options);
  }
  get(project: string, jobId: string): Promise<Job> {
    return this.records.get(project, jobId);
  }
  list(project: string, options?: ListOptions): Promise<JobPage> {
    return this.records.list(project, options);
  }
  events(project: string, jobId: string): Promise<JobEvent[]> {
    return this.records.events(project, jobId);
  }

  transition(jobId: string, input: TransitionInput): Promise<Job> {
    return this.transitions.transition(jobId, input);
  }
  transitionWithDependents(jobId: string, input: TransitionInput): Promise<{ job: Job; dependents: string[] }> {
    return this.transitions.transitionWithDependents(jobId, input);
  }
  claim(jobId: string, worker: string): Promise<ClaimResult> {
    return this.transitions.claim(jobId, worker);
  }
  requeue(jobId: string, reason: string, checkpoint?: unknown, options?: RequeueOptions): Promise<RequeueResult> {
    return this.transitions.requeue(jobId, reason, checkpoint, options);
  }
  requestCancel(project: string, jobId: string, reason?: string): Promise<CancelResult> {
    return this.transitions.requestCancel(project, jobId, reason);
  }

  appendLogs(jobId: string, lines: readonly LogLineInput[]): Promise<AppendLogsResult> {
    return this.logStore.append(jobId, lines);
  }
  logs(project: string, jobId: string, options?: LogsOptions): Promise<LogPage> {
    return this.logStore.page(project, jobId, options);
  }
  appendMetrics(jobId: string, points: readonly MetricPointInput[]): Promise<{ count: number }> {
    return this.metricStore.append(jobId, points);
  }
  metrics(project: string, jobId: string, name?: string): Promise<MetricPoint[]> {
    return this.metricStore.read(project, jobId, name);
  }

  dependenciesSatisfied(jobId: string): Promise<DependencyStatus> {
    return this.dependencies.status(jobId);
  }
  dependents(jobId: string): Promise<string[]> {
    return this.dependencies.dependents(jobId);
  }

  registerWorker(input: RegisterWorkerInput): Promise<WorkerWithJobs> {
    return this.workers.register(input);
  }
  heartbeat(id: string, telemetry: unknown, leaseMs: number): Promise<Worker> {
    return this.workers.heartbeat(id, telemetry, leaseMs);
  }
  expiredWorkers(now?: Date): Promise<WorkerWithJobs[]> {
    return this.workers.expired(now);
  }
  markLost(id: string, now?: Date): Promise<MarkLostResult> {
    return this.workers.markLost(id, now);
  }
  retireWorker(id: string): Promise<WorkerWithJobs> {
    return this.workers.retire(id);
  }
  listWorkers(states?: readonly WorkerState[]): Promise<WorkerWithJobs[]> {
    return this.workers.list(states);
  }
}
