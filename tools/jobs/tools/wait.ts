/**
 * Waiting for a job to change: wakes on the control bus (any node's change reaches every control
 * plane) and polls once a second besides, since bus delivery is best effort.
 */
import type { Job, MetricPoint, MetricRow } from '../rows.ts';
import { toMetricPoint } from '../rows.ts';
import type { JobsRuntime } from '../runtime.ts';
import { isTerminal } from '../states.ts';
import { loadSql } from 'anvil/plugin';

const SQL = { latest: loadSql(import.meta.url, '../sql/metrics-latest.sql') } as const;

export const POLL_MS = 1_000;

/** The newest point of each metric of a job (the caller has checked the job is in its project). */
export async function latestMetrics(jobs: JobsRuntime, jobId: string): Promise<MetricPoint[]> {
  return (await jobs.sql.query<MetricRow>(SQL.latest, [jobId])).rows.map(toMetricPoint);
}

/** The step a job has reached: its `count`/`step` metric, else its highest metric step, else its checkpoint's. */
export function reachedStep(latest: readonly MetricPoint[], checkpointStep: number | null): number | null {
  const named = latest.find((point) => point.name === 'count') ?? latest.find((point) => point.name === 'step');
  if (named) return Number.isFinite(named.value) ? named.value : named.step;
  if (latest.length > 0) return Math.max(...latest.map((point) => point.step));
  return checkpointStep;
}

/** Resolves after `ms`, on a bus message about `jobId`, or on abort, whichever comes first. */
export function nextChange(jobs: JobsRuntime, jobId: string, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    const unsubscribe = jobs.bus.subscribe((message) => {
      if (message.type === 'job' && message.jobId === jobId) done();
    });
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Re-reads the job until it is terminal, `seconds` pass or `signal` aborts; calls `onChange` with
 * each new state or step seen. Returns the job as last read.
 */
export async function waitForJob(
  jobs: JobsRuntime,
  project: string,
  jobId: string,
  seconds: number,
  signal: AbortSignal,
  onChange: (job: Job, step: number | null) => Promise<void>,
): Promise<Job> {
  const deadline = Date.now() + seconds * 1000;
  let job = await jobs.service.store.get(project, jobId);
  let lastState = job.state;
  let lastStep: number | null = null;
  while (!isTerminal(job.state) && !signal.aborted && Date.now() < deadline) {
    await nextChange(jobs, job.id, Math.min(POLL_MS, deadline - Date.now()), signal);
    job = await jobs.service.store.get(project, job.id);
    const step = job.state === 'running' || isTerminal(job.state) ? reachedStep(await latestMetrics(jobs, job.id), null) : null;
    if (job.state !== lastState || (step !== null && step !== lastStep)) {
      lastState = job.state;
      if (step !== null) lastStep = step;
      await onChange(job, step);
    }
  }
  return job;
}
