import { z, type ToolSpec } from 'anvil/plugin';
import { batchingPatch, batchingSchema, deploymentNameSchema, invalid, loggingPatch, loggingSchema, sameJson } from '../schema.ts';
import type { Ready } from '../runtime.ts';
import { deploymentView, toView } from './view.ts';

const input = z
  .object({
    name: deploymentNameSchema,
    threshold: z.number().min(0).max(1).nullable().optional().describe('Abstain below this top probability, at once and without retraining (null: each version’s own)'),
    batching: batchingPatch.optional().describe('Only the fields given change'),
    logging: loggingPatch.optional().describe('Only the fields given change'),
    followAlias: z.boolean().optional(),
  })
  .strict();

export function updateTool(ready: Ready): ToolSpec<typeof input, typeof deploymentView> {
  return {
    name: 'deployments_update',
    title: 'Change a deployment’s threshold, batching or logging',
    description:
      'Moves the abstain threshold (the operating point: the prediction log records which threshold served each request), changes batching ' +
      '(maxBatchSize, maxQueueDelayMicros, maxQueueSize, timeoutMs), prediction logging (sample, inputs, retentionDays) or alias following. ' +
      'Every server serves the change within a second; the history records it.',
    input,
    output: deploymentView,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['deployments:write'],
    async handler(args, { project, principal, audit }) {
      const runtime = ready();
      if (args.threshold === undefined && !args.batching && !args.logging && args.followAlias === undefined) throw invalid('give at least one of threshold, batching, logging, followAlias', 'name');
      const { deployment } = await runtime.store.change(project, args.name, principal.id, (d) => {
        if (args.followAlias && d.alias === null) throw invalid('followAlias: this deployment serves a fixed version; it has no alias to follow', 'followAlias');
        const change = {
          threshold: args.threshold === undefined ? d.threshold : args.threshold,
          batching: batchingSchema.parse({ ...d.batching, ...args.batching }),
          logging: loggingSchema.parse({ ...d.logging, ...args.logging }),
          followAlias: args.followAlias ?? d.followAlias,
        };
        const before = { threshold: d.threshold, batching: d.batching, logging: d.logging, followAlias: d.followAlias };
        if (sameJson(before, change)) return null;
        return { change, action: args.threshold !== undefined && args.threshold !== d.threshold ? 'threshold' : 'updated', detail: { from: before, to: change } };
      });
      runtime.service.remember(deployment);
      audit({ deployment: args.name, threshold: deployment.threshold });
      return toView(deployment);
    },
  };
}
