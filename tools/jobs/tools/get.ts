import { z, type ToolSpec } from 'anvil/plugin';
import type { JobsRuntime } from '../runtime.ts';
import { isTerminal } from '../states.ts';
import { jobView, jobViewSchema } from './view.ts';
import { waitForJob } from './wait.ts';

const input = z
  .object({
    id: z.string().describe('Job id'),
    waitSeconds: z.number().min(0).max(300).optional().describe('Wait up to this long for the job to finish (progress is reported meanwhile)'),
  })
  .strict();

const output = jobViewSchema.extend({ timedOut: z.boolean().describe('true when waitSeconds ran out before the job finished') });

function totalSteps(params: Record<string, unknown>): number | undefined {
  const steps = params.steps;
  return typeof steps === 'number' && Number.isInteger(steps) && steps > 0 ? steps : undefined;
}

export function getTool(jobs: () => JobsRuntime): ToolSpec<typeof input, typeof output> {
  return {
    name: 'jobs_get',
    title: 'Get a job',
    description:
      'A job of this project: state, worker, attempts, timings, result or error, checkpoint step, log size and artifacts. With waitSeconds (≤ 300) it waits until the job finishes or the time runs out, reporting progress as it runs.',
    input,
    output,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['jobs:read'],
    async handler({ id, waitSeconds }, { project, signal, progress }) {
      const runtime = jobs();
      let job = await runtime.service.store.get(project, id);
      let timedOut = false;
      if (waitSeconds !== undefined && waitSeconds > 0) {
        const total = totalSteps(job.params);
        let sent = 0;
        job = await waitForJob(runtime, project, job.id, waitSeconds, signal, async (changed, step) => {
          // MCP progress must increase with each notification: the step when it moved on, else one more.
          sent = step !== null && step > sent ? step : sent + 1;
          await progress({ progress: sent, ...(total === undefined ? {} : { total: Math.max(total, sent) }), message: `${changed.state}${step === null ? '' : `, step ${step}`}` });
        });
        timedOut = !isTerminal(job.state);
      }
      return { ...(await jobView(runtime, job)), timedOut };
    },
  };
}
