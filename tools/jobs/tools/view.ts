/**
 * How jobs look to callers: the summary every list and stream shows, the full view of jobs_get
 * (with its artifacts), and the zod schemas of both, shared by the tools, resources and /events.
 */
import { z } from 'anvil/plugin';
import type { Job } from '../rows.ts';
import type { JobsRuntime } from '../runtime.ts';
import { JOB_STATES } from '../states.ts';

const iso = z.string().describe('ISO 8601');

export const jobSummarySchema = z.object({
  id: z.string(),
  recipe: z.string(),
  state: z.enum(JOB_STATES),
  priority: z.number().int(),
  resourceClass: z.string(),
  attempt: z.number().int(),
  maxAttempts: z.number().int(),
  worker: z.string().nullable(),
  createdAt: iso,
  startedAt: iso.nullable(),
  finishedAt: iso.nullable(),
});
export type JobSummary = z.output<typeof jobSummarySchema>;

export const artifactSchema = z.object({ name: z.string(), sha256: z.string(), size: z.number().int(), mediaType: z.string(), createdAt: iso });

export const jobViewSchema = z.object({
  id: z.string(),
  state: z.enum(JOB_STATES),
  recipe: z.string(),
  params: z.record(z.string(), z.unknown()),
  resources: z.record(z.string(), z.unknown()),
  resourceClass: z.string(),
  priority: z.number().int(),
  worker: z.string().nullable(),
  attempt: z.number().int(),
  maxAttempts: z.number().int(),
  timings: z.object({ createdAt: iso, queuedAt: iso, startedAt: iso.nullable(), finishedAt: iso.nullable() }),
  result: z.unknown(),
  error: z.record(z.string(), z.unknown()).nullable(),
  cancelRequested: z.boolean(),
  preemptRequested: z.boolean(),
  dependsOn: z.array(z.string()),
  checkpointStep: z.number().nullable().describe('The step of the last checkpoint saved (null: none)'),
  logLines: z.number().int(),
  artifacts: z.array(artifactSchema),
});
export type JobView = z.output<typeof jobViewSchema>;

function isoOrNull(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

export function jobSummary(job: Job): JobSummary {
  return {
    id: job.id,
    recipe: job.recipe,
    state: job.state,
    priority: job.priority,
    resourceClass: job.resourceClass,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    worker: job.worker,
    createdAt: job.createdAt.toISOString(),
    startedAt: isoOrNull(job.startedAt),
    finishedAt: isoOrNull(job.finishedAt),
  };
}

export function checkpointStep(checkpoint: unknown): number | null {
  if (typeof checkpoint !== 'object' || checkpoint === null) return null;
  const step = (checkpoint as { step?: unknown }).step;
  return typeof step === 'number' && Number.isFinite(step) ? step : null;
}

/** The full view of a job the caller may see (the job was read in the caller's project). */
export async function jobView(jobs: JobsRuntime, job: Job): Promise<JobView> {
  const artifacts = await jobs.service.artifacts(job.id);
  return {
    id: job.id,
    state: job.state,
    recipe: job.recipe,
    params: job.params,
    resources: { ...job.resources },
    resourceClass: job.resourceClass,
    priority: job.priority,
    worker: job.worker,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    timings: {
      createdAt: job.createdAt.toISOString(),
      queuedAt: job.queuedAt.toISOString(),
      startedAt: isoOrNull(job.startedAt),
      finishedAt: isoOrNull(job.finishedAt),
    },
    result: job.result ?? null,
    error: job.error,
    cancelRequested: job.cancelRequested,
    preemptRequested: job.preemptRequested,
    dependsOn: job.dependsOn,
    checkpointStep: checkpointStep(job.checkpoint),
    logLines: job.logLines,
    artifacts: artifacts.map(({ name, sha256, size, mediaType, createdAt }) => ({ name, sha256, size, mediaType, createdAt })),
  };
}
