import { z, type PluginRoute, type ToolSpec } from 'anvil/plugin';
import { recordFeedback } from '../feedback.ts';
import type { Ready } from '../runtime.ts';

const input = z
  .object({
    requestId: z.string().min(1).max(100).describe('The requestId predict returned'),
    label: z.string().min(1).max(500).optional().describe('The true label'),
    reward: z.number().optional().describe('A reward for the answer (e.g. 1 accepted, 0 not)'),
  })
  .strict();

const output = z.object({
  requestId: z.string(),
  deployment: z.string(),
  variant: z.string(),
  modelVersion: z.number().int(),
  label: z.string().nullable(),
  reward: z.number().nullable(),
  predicted: z.string().nullable().describe('What the deployment answered (null: abstained)'),
  correct: z.boolean().nullable(),
  created: z.boolean().describe('false: this same feedback was given before'),
});

export function feedbackTool(ready: Ready): ToolSpec<typeof input, typeof output> {
  return {
    name: 'feedback',
    title: 'Give the true label of a prediction',
    description:
      'Joins a late label (or a reward) to a prediction by its requestId: online accuracy and macro-F1 per variant (deployments_monitor), ' +
      'canary guardrails, and the deployment’s feedback dataset (deployments_feedback_dataset) use it. Given once per request id.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['deployments:predict'],
    async handler(args, { project, principal }) {
      return recordFeedback(ready(), project, principal.id, args);
    },
  };
}

/** POST /api/deployments/feedback {requestId, label?, reward?} — the same over HTTP. */
export function feedbackRoute(ready: Ready): PluginRoute {
  return {
    method: 'POST',
    path: '/api/deployments/feedback',
    scopes: ['deployments:predict'],
    async handler(c) {
      const principal = c.get('principal');
      const parsed = input.safeParse(await c.req.json().catch(() => undefined));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return c.json({ error: { code: 'ANVIL_E_INVALID_INPUT', message: `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'expected {requestId, label?, reward?}'}` } }, 400);
      }
      return c.json(await recordFeedback(ready(), principal.project, principal.id, parsed.data));
    },
  };
}
