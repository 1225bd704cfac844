import { z, type ToolSpec } from 'anvil/plugin';
import type { JobsRuntime } from '../runtime.ts';
import { JOB_STATES } from '../states.ts';

const input = z.object({ id: z.string().describe('Job id'), reason: z.string().min(1).max(1000).optional() }).strict();

const output = z.object({
  id: z.string(),
  outcome: z.enum(['cancelled', 'cancel-requested', 'already-requested']).describe('cancelled: it was queued; cancel-requested: its worker stops it'),
  state: z.enum(JOB_STATES),
});

export function cancelTool(jobs: () => JobsRuntime): ToolSpec<typeof input, typeof output> {
  return {
    name: 'jobs_cancel',
    title: 'Cancel a job',
    description:
      'Cancels a job: a queued one at once; a running one is stopped by its worker (outcome cancel-requested; jobs_get with waitSeconds shows when it ends). A finished job is a CONFLICT.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['jobs:write'],
    async handler({ id, reason }, { project, principal, audit }) {
      const result = await jobs().service.cancel(project, id, reason ?? `cancelled by ${principal.id}`);
      audit({ jobId: result.job.id, outcome: result.outcome });
      return { id: result.job.id, outcome: result.outcome, state: result.job.state };
    },
  };
}
