import { z, type ToolSpec } from 'anvil/plugin';
import { deploymentNameSchema } from '../schema.ts';
import { loadSql } from '../sql.ts';
import type { Ready } from '../runtime.ts';

const COUNTS = loadSql('feedback-counts');

const input = z.object({ name: deploymentNameSchema }).strict();

const output = z.object({
  name: z.string(),
  labelled: z.number().int().describe('Feedback rows with a label'),
  usable: z.number().int().describe('Labelled rows whose input was logged: what deployments_feedback_dataset would write'),
  lastAt: z.string().nullable().describe('When the latest labelled feedback came'),
});

/** A cheap read a workflow can gate on (retrain_on_feedback: enough feedback to retrain?). */
export function feedbackStatsTool(ready: Ready): ToolSpec<typeof input, typeof output> {
  return {
    name: 'deployments_feedback_stats',
    title: 'How much feedback a deployment has',
    description: 'Counts the deployment’s labelled feedback, and how much of it carries its logged input (the rows a feedback dataset gets). Writes nothing.',
    input,
    output,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['deployments:read'],
    async handler(args, { project }) {
      const runtime = ready();
      const deployment = await runtime.store.get(project, args.name);
      const row = (await runtime.sql.query<{ labelled: number; usable: number; last_at: Date | string | null }>(COUNTS, [project, deployment.name])).rows[0];
      const lastAt = row?.last_at ? (row.last_at instanceof Date ? row.last_at : new Date(row.last_at)).toISOString() : null;
      return { name: deployment.name, labelled: row?.labelled ?? 0, usable: row?.usable ?? 0, lastAt };
    },
  };
}
