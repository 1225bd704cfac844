/** Shared bits for the job-system tests: a test host with the jobs runtime at hand, waits, /proc checks. */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createTestHost, type TestHost } from 'anvil/testing';
import { jobsPlugin } from '../../tools/jobs/index.ts';
import type { JobsRuntime } from '../../tools/jobs/runtime.ts';
import type { Job } from '../../tools/jobs/store.ts';
import { TERMINAL_STATES } from '../../tools/jobs/states.ts';

export const recipeFixture = (name: string): string => fileURLToPath(new URL(`../fixtures/recipes/${name}`, import.meta.url));

export interface JobsHost {
  host: TestHost;
  jobs: JobsRuntime;
  close(): Promise<void>;
}

/** An embedded server (PGlite, BullMQ on it) with its local worker, configured for quick tests. */
export async function startJobsHost(jobsConfig: Record<string, unknown> = {}): Promise<JobsHost> {
  const host = await createTestHost({
    plugins: [],
    config: { jobs: { sweepMs: 100, heartbeatMs: 300, leaseMs: 3_000, graceMs: 2_000, retryBackoffMs: 50, preemptAfterMs: 300, localWorkerSlots: 1, ...jobsConfig } },
  });
  const exported = host.server.plugins.exportsOf(jobsPlugin);
  if (!exported) throw new Error('the jobs plugin is not active');
  return { host, jobs: exported.jobs(), close: () => host.close() };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export function waitForState(jobs: JobsRuntime, project: string, id: string, states: readonly string[], timeoutMs = 30_000): Promise<Job> {
  return waitFor(`job ${id} to be ${states.join('|')}`, async () => {
    const job = await jobs.service.store.get(project, id);
    return states.includes(job.state) ? job : undefined;
  }, timeoutMs);
}

export function waitForEnd(jobs: JobsRuntime, project: string, id: string, timeoutMs = 30_000): Promise<Job> {
  return waitForState(jobs, project, id, [...TERMINAL_STATES], timeoutMs);
}

/** Pids of live processes whose environment says they run this job (the runner sets ANVIL_JOB_ID). */
export function jobProcesses(jobId: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (!environ.split('\u0000').includes(`ANVIL_JOB_ID=${jobId}`)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      if (state !== 'Z' && state !== 'X') pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

/** The most jobs that were running at once, from the state-change events (exact, not sampled). */
export async function maxConcurrentRunning(jobs: JobsRuntime, project: string): Promise<number> {
  const { rows } = await jobs.sql.query<{ at: Date; delta: number }>(
    `select e.at, case when e.to_state = 'running' and e.from_state = 'queued' then 1 when e.from_state = 'running' and e.to_state <> 'running' then -1 else 0 end as delta
     from {{schema}}.job_events e join {{schema}}.jobs j on j.id = e.job_id
     where j.project = $1 order by e.id`,
    [project],
  );
  let running = 0;
  let max = 0;
  for (const row of rows) {
    running += row.delta;
    max = Math.max(max, running);
  }
  return max;
}
