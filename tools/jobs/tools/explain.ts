import { z, type ToolSpec } from 'anvil/plugin';
import { explainJob } from '../explain.ts';
import type { JobsRuntime } from '../runtime.ts';
import { JOB_STATES } from '../states.ts';

const input = z.object({ id: z.string().describe('Job id') }).strict();

const output = z.object({
  id: z.string(),
  state: z.enum(JOB_STATES),
  worker: z.string().nullable(),
  dependencies: z
    .object({
      status: z.enum(['none', 'satisfied', 'waiting', 'failed']),
      waitingOn: z.array(z.string()),
      failed: z.array(z.object({ id: z.string(), state: z.string() })),
    })
    .nullable(),
  quota: z
    .object({
      maxConcurrentJobs: z.number().nullable(),
      maxGpus: z.number().nullable(),
      source: z.enum(['project', 'default']),
      activeJobs: z.number().int(),
      activeGpus: z.number().int(),
      full: z.boolean(),
    })
    .nullable(),
  backoff: z.object({ notBefore: z.string(), active: z.boolean() }).nullable(),
  dispatched: z.boolean().describe('Handed to its class queue (false: held back by dependencies, quota or backoff)'),
  position: z
    .object({
      ahead: z.number().int().describe("This project's queued jobs ahead of it in its class"),
      aheadDispatched: z.number().int(),
      otherProjectsAhead: z.boolean().describe("Whether other projects' work is also ahead of it (how much is not shown)"),
    })
    .nullable(),
  workers: z.array(z.object({ name: z.string(), canServe: z.boolean(), unmet: z.array(z.string()), slots: z.number().int(), freeSlots: z.number().int() })),
  freeSlots: z.number().int(),
  etaSeconds: z.number().nullable(),
  etaBasis: z.string().nullable(),
  summary: z.string(),
});

export function explainTool(jobs: () => JobsRuntime): ToolSpec<typeof input, typeof output> {
  return {
    name: 'jobs_explain',
    title: 'Explain a job',
    description:
      'Why a queued job has not started: dependencies, quota, retry backoff, its place in the queue, which workers could serve it (and what the others lack), free slots and an ETA; for other states, what it is doing and where.',
    input,
    output,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['jobs:read'],
    async handler({ id }, { project }) {
      return explainJob(jobs(), project, id);
    },
  };
}
