import { z, type ToolSpec } from 'anvil/plugin';
import type { JobsRuntime } from '../runtime.ts';
import { LIMITS } from '../store.ts';
import { JOB_STATES } from '../states.ts';

const input = z
  .object({
    recipe: z.string().min(1).max(200).describe('A registered recipe, e.g. diagnostics.counter'),
    params: z.record(z.string(), z.unknown()).optional().describe("The recipe's parameters (checked against its schema)"),
    resources: z
      .object({
        gpus: z.number().int().min(0).max(64).optional(),
        gpuType: z.string().max(40).optional().describe('a100, h100, l4…; without it any GPU'),
        minVramGb: z.number().positive().max(4096).optional(),
        cpus: z.number().positive().max(1024).optional(),
        memoryGb: z.number().positive().max(65536).optional(),
      })
      .strict()
      .optional(),
    priority: z
      .number()
      .int()
      .min(LIMITS.priorityMin)
      .max(LIMITS.priorityMax)
      .optional()
      .describe("Higher runs first (default 0); capped to the project's ceiling (jobs_quota's maxPriority), set by the operator"),
    idempotencyKey: z.string().min(1).max(200).optional().describe('Submitting again with the same key returns the first job'),
    dependsOn: z.array(z.string()).max(LIMITS.dependsOnMax).optional().describe('Job ids of this project that must succeed first'),
    maxAttempts: z.number().int().min(1).max(LIMITS.maxAttemptsMax).optional(),
    timeoutSeconds: z.number().int().min(1).max(LIMITS.timeoutMsMax / 1000).optional().describe('Wall-clock limit of one attempt'),
  })
  .strict();

const output = z.object({
  id: z.string(),
  state: z.enum(JOB_STATES),
  created: z.boolean().describe('false when the idempotency key named an existing job'),
  resourceClass: z.string(),
  priority: z.number().int().describe("The job's priority: the one asked for, capped to the project's ceiling"),
});

export function submitTool(jobs: () => JobsRuntime): ToolSpec<typeof input, typeof output> {
  return {
    name: 'jobs_submit',
    title: 'Submit a job',
    description:
      'Queues a recipe run on a worker with the resources it needs. Returns the job id at once; watch it with jobs_get (waitSeconds), jobs_logs and jobs_metrics, and ask jobs_explain why a queued job has not started.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    scopes: ['jobs:write'],
    async handler(args, { project, audit }) {
      const { timeoutSeconds, ...rest } = args;
      const { job, created } = await jobs().service.submit(project, { ...rest, ...(timeoutSeconds === undefined ? {} : { timeoutMs: timeoutSeconds * 1000 }) });
      audit({ jobId: job.id, recipe: job.recipe, created });
      return { id: job.id, state: job.state, created, resourceClass: job.resourceClass, priority: job.priority };
    },
  };
}
