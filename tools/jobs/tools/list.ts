import { z, type ToolSpec } from 'anvil/plugin';
import type { JobsRuntime } from '../runtime.ts';
import { LIMITS } from '../store.ts';
import { JOB_STATES } from '../states.ts';
import { jobSummary, jobSummarySchema } from './view.ts';

const input = z
  .object({
    states: z.array(z.enum(JOB_STATES)).min(1).optional(),
    recipe: z.string().min(1).max(200).optional(),
    limit: z.number().int().min(1).max(LIMITS.listMax).optional().describe(`Default ${LIMITS.listDefault}`),
    cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
  })
  .strict();

const output = z.object({
  jobs: z.array(jobSummarySchema),
  nextCursor: z.string().nullable().describe('Pass as cursor for the next (older) page; null on the last page'),
});

export function listTool(jobs: () => JobsRuntime): ToolSpec<typeof input, typeof output> {
  return {
    name: 'jobs_list',
    title: 'List jobs',
    description: "This project's jobs, newest first, optionally by state and recipe; page on with nextCursor.",
    input,
    output,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['jobs:read'],
    async handler(args, { project }) {
      const page = await jobs().service.store.list(project, args);
      return { jobs: page.jobs.map(jobSummary), nextCursor: page.nextCursor };
    },
  };
}
