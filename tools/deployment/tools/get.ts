import { z, type ToolSpec } from 'anvil/plugin';
import { deploymentNameSchema, LIMITS } from '../schema.ts';
import type { Ready } from '../runtime.ts';
import { deploymentView, toView } from './view.ts';

const input = z.object({ name: deploymentNameSchema }).strict();

export function getTool(ready: Ready): ToolSpec<typeof input, typeof deploymentView> {
  return {
    name: 'deployments_get',
    title: 'Show a deployment',
    description: 'A deployment: variants and weights, state, threshold, batching, the rollout’s step, guardrail readings and why it paused or rolled back, shadow, and recent history.',
    input,
    output: deploymentView,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['deployments:read'],
    async handler(args, { project }) {
      const runtime = ready();
      const deployment = await runtime.store.get(project, args.name);
      return toView(deployment, await runtime.store.history(project, args.name, LIMITS.historyShown));
    },
  };
}
