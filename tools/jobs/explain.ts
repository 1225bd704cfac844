/**
 * jobs_explain: why a queued job has not started (dependencies, quota, retry backoff, dispatch, its
 * place in its class's queue, which workers could serve it and how long it may take), or, for any
 * other state, what it is doing and on which worker. Read-only; answers from SQL as of now.
 */
import type { Job, WorkerWithJobs } from './rows.ts';
import type { JobsRuntime } from './runtime.ts';
import { loadSql } from 'anvil/plugin';
import { unmetRequirements } from '../../gpu-workers/index.ts';

const sql = (name: string) => loadSql(import.meta.url, `./sql/${name}.sql`);
const SQL = {
  position: sql('queue-position-of'),
  durations: sql('recent-durations'),
  active: sql('project-active'),
} as const;

export interface WorkerFit {
  name: string;
  /** It consumes the class, has the recipe and the resources. */
  canServe: boolean;
  /** Why it cannot (empty when it can). */
  unmet: string[];
  slots: number;
  freeSlots: number;
}

export interface Explanation {
  id: string;
  state: Job['state'];
  worker: string | null;
  dependencies: { status: 'none' | 'satisfied' | 'waiting' | 'failed'; waitingOn: string[]; failed: Array<{ id: string; state: string }> } | null;
  quota: { maxConcurrentJobs: number | null; maxGpus: number | null; source: 'project' | 'default'; activeJobs: number; activeGpus: number; full: boolean } | null;
  backoff: { notBefore: string; active: boolean } | null;
  dispatched: boolean;
  position: { ahead: number; aheadDispatched: number; otherProjectsAhead: boolean } | null;
  workers: WorkerFit[];
  /** Free slots on active workers that can serve the job. */
  freeSlots: number;
  /** Estimated seconds until the job finishes; null when unknown (no history, no worker, waiting on others). */
  etaSeconds: number | null;
  etaBasis: string | null;
  summary: string;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** How each active worker fits a job: class, recipe, then resources. */
export function workerFits(job: Pick<Job, 'resourceClass' | 'recipe' | 'resources'>, workers: readonly WorkerWithJobs[]): WorkerFit[] {
  return workers
    .filter((worker) => worker.state === 'active')
    .map((worker) => {
      const unmet: string[] = [];
      if (!worker.resourceClasses.includes(job.resourceClass)) unmet.push(`does not take ${job.resourceClass} jobs (takes ${worker.resourceClasses.join(', ') || 'none'})`);
      const capabilities = worker.capabilities as { cpus?: unknown; memoryGb?: unknown; gpus?: unknown; unavailableRecipes?: Record<string, unknown> };
      const unavailable = capabilities.unavailableRecipes?.[job.recipe];
      if (!worker.recipes.includes(job.recipe)) unmet.push(typeof unavailable === 'string' ? `cannot run recipe ${job.recipe}: ${unavailable}` : `does not have recipe ${job.recipe}`);
      if (typeof capabilities.cpus === 'number' && typeof capabilities.memoryGb === 'number' && Array.isArray(capabilities.gpus)) {
        unmet.push(...unmetRequirements({ cpus: capabilities.cpus, memoryGb: capabilities.memoryGb, gpus: capabilities.gpus }, job.resources));
      }
      return { name: worker.name, canServe: unmet.length === 0, unmet, slots: worker.slots, freeSlots: Math.max(0, worker.slots - worker.runningJobs.length) };
    });
}

function runningSummary(job: Job): string {
  const on = job.worker ? `on worker ${job.worker}` : 'on no worker';
  switch (job.state) {
    case 'running':
      return `Job ${job.id} is running ${on} (attempt ${job.attempt} of ${job.maxAttempts}) since ${job.startedAt?.toISOString() ?? 'an unknown time'}${
        job.cancelRequested ? '; a cancel was requested and its worker is stopping it' : ''
      }${job.preemptRequested ? '; it is being preempted for a higher-priority job and will resume from its checkpoint' : ''}.`;
    case 'succeeded':
      return `Job ${job.id} succeeded at ${job.finishedAt?.toISOString() ?? 'an unknown time'} ${on}.`;
    case 'failed':
      return `Job ${job.id} failed${job.finishedAt ? ` at ${job.finishedAt.toISOString()}` : ''}${job.worker ? ` (last ran on ${job.worker})` : ''}: ${job.error?.message ?? 'no error was recorded'}.`;
    default:
      return `Job ${job.id} was cancelled${job.finishedAt ? ` at ${job.finishedAt.toISOString()}` : ''}.`;
  }
}

export async function explainJob(jobs: JobsRuntime, project: string, jobId: string): Promise<Explanation> {
  const job = await jobs.service.store.get(project, jobId);
  const base = { id: job.id, state: job.state, worker: job.worker };
  if (job.state !== 'queued') {
    return { ...base, dependencies: null, quota: null, backoff: null, dispatched: false, position: null, workers: [], freeSlots: 0, etaSeconds: null, etaBasis: null, summary: runningSummary(job) };
  }

  const status = await jobs.service.store.dependenciesSatisfied(job.id);
  const dependencies = {
    status: job.dependsOn.length === 0 ? ('none' as const) : status.status,
    waitingOn: status.status === 'waiting' ? status.waitingOn : [],
    failed: status.status === 'failed' ? status.failed : [],
  };
  const quotaSet = await jobs.dispatcher.quota(project);
  const activeRow = (await jobs.sql.query<{ jobs: string; gpus: string }>(SQL.active, [project])).rows[0];
  const activeJobs = Number(activeRow?.jobs ?? 0);
  const activeGpus = Number(activeRow?.gpus ?? 0);
  const dispatched = job.dispatchedAt !== null;
  const gpus = job.resources.gpus ?? 0;
  const full =
    !dispatched &&
    ((quotaSet.maxConcurrentJobs !== null && activeJobs >= quotaSet.maxConcurrentJobs) || (quotaSet.maxGpus !== null && gpus > 0 && activeGpus + gpus > quotaSet.maxGpus));
  const quota = { ...quotaSet, activeJobs, activeGpus, full };
  const backoffActive = job.notBefore !== null && job.notBefore.getTime() > Date.now();
  const backoff = job.notBefore === null ? null : { notBefore: job.notBefore.toISOString(), active: backoffActive };
  const positionRow = (await jobs.sql.query<{ ahead: string; ahead_dispatched: string; ahead_all: string }>(SQL.position, [job.id])).rows[0];
  const aheadAll = Number(positionRow?.ahead_all ?? 0);
  const position = { ahead: Number(positionRow?.ahead ?? 0), aheadDispatched: Number(positionRow?.ahead_dispatched ?? 0), otherProjectsAhead: aheadAll > Number(positionRow?.ahead ?? 0) };
  const workers = workerFits(job, await jobs.service.store.listWorkers(['active']));
  const serving = workers.filter((worker) => worker.canServe);
  const freeSlots = serving.reduce((sum, worker) => sum + worker.freeSlots, 0);
  const servingSlots = serving.reduce((sum, worker) => sum + worker.slots, 0);

  const durations = (await jobs.sql.query<{ median_ms: number | string | null; n: string }>(SQL.durations, [job.resourceClass, job.recipe])).rows[0];
  const medianMs = durations?.median_ms === null || durations?.median_ms === undefined ? null : Number(durations.median_ms);
  const runs = Number(durations?.n ?? 0);
  let etaSeconds: number | null = null;
  let etaBasis: string | null = null;
  const blocked = dependencies.status === 'waiting' || dependencies.status === 'failed' || serving.length === 0;
  if (!blocked && medianMs !== null && Number.isFinite(medianMs) && runs > 0) {
    // The ETA counts every project's work ahead (it would be wrong otherwise); the counts shown do not.
    const queuedAhead = Math.max(0, aheadAll + 1 - freeSlots);
    const rounds = queuedAhead === 0 ? 0 : Math.ceil(queuedAhead / Math.max(servingSlots, 1));
    const backoffMs = backoffActive && job.notBefore ? job.notBefore.getTime() - Date.now() : 0;
    etaSeconds = Math.round((Math.max(rounds * medianMs, backoffMs) + medianMs) / 1000);
    etaBasis = `median run time of the last ${plural(runs, 'succeeded run')} of ${job.recipe} on ${job.resourceClass} (${(medianMs / 1000).toFixed(1)} s), ahead of it: ${aheadText(position)}, ${plural(servingSlots, 'slot')} able to serve it`;
  }

  const reasons: string[] = [];
  if (dependencies.status === 'failed') reasons.push(`it can never run: ${dependencies.failed.map((d) => `${d.id} is ${d.state}`).join(', ')}`);
  if (dependencies.status === 'waiting') reasons.push(`it waits for ${plural(dependencies.waitingOn.length, 'dependency', 'dependencies')} to succeed (${dependencies.waitingOn.join(', ')})`);
  if (backoffActive && backoff) reasons.push(`it is in retry backoff until ${backoff.notBefore} (attempt ${job.attempt} of ${job.maxAttempts})`);
  if (full) {
    reasons.push(
      `the project's quota is full (${activeJobs} of ${quotaSet.maxConcurrentJobs ?? 'unlimited'} jobs, ${activeGpus} of ${quotaSet.maxGpus ?? 'unlimited'} GPUs, ${quotaSet.source === 'project' ? 'set for this project' : 'server default'})`,
    );
  }
  if (serving.length === 0) {
    reasons.push(
      workers.length === 0
        ? `no active worker could serve it (no workers are registered and active; a ${job.resourceClass} worker with recipe ${job.recipe} is needed)`
        : `no active worker could serve it (${workers.map((worker) => `${worker.name}: ${worker.unmet.join('; ')}`).join(' | ')})`,
    );
  } else if (freeSlots === 0) {
    reasons.push(`every slot of the ${plural(serving.length, 'worker')} that could serve it is busy`);
  }
  const where = dispatched ? `It is dispatched to the ${job.resourceClass} queue` : 'It is held back (not dispatched yet)';
  const standing = `${where}; ahead of it in its class: ${aheadText(position)}.`;
  const summary = [
    reasons.length > 0 ? `Job ${job.id} is queued because ${reasons.join('; and ')}.` : `Job ${job.id} is queued and should start as soon as a worker picks it up.`,
    standing,
    etaSeconds === null ? 'No ETA: there is no run history to estimate from, or it cannot start yet.' : `Estimated to finish in about ${etaSeconds} s.`,
  ].join(' ');

  return { ...base, dependencies, quota, backoff, dispatched, position, workers, freeSlots, etaSeconds, etaBasis, summary };
}

/** "2 of this project's jobs and other projects' work" — never how much of the latter. */
function aheadText(position: { ahead: number; otherProjectsAhead: boolean }): string {
  const own = `${position.ahead} of this project's ${position.ahead === 1 ? 'job' : 'jobs'}`;
  return position.otherProjectsAhead ? `${own} and other projects' work` : own;
}
