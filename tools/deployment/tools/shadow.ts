import { z, type ToolSpec } from 'anvil/plugin';
import { deploymentNameSchema, invalid, variantName } from '../schema.ts';
import type { Ready } from '../runtime.ts';
import { deploymentView, toView } from './view.ts';

const input = z
  .object({
    name: deploymentNameSchema,
    candidate: z.union([z.number().int().min(1), z.string().min(1).max(40)]).describe('The version (or an alias of it) that receives mirrored requests'),
    percent: z.number().min(0).max(100).describe('Share of requests mirrored; 0 stops the shadow'),
  })
  .strict();

export function shadowTool(ready: Ready): ToolSpec<typeof input, typeof deploymentView> {
  return {
    name: 'deployments_shadow',
    title: 'Mirror traffic to a candidate (shadow)',
    description:
      'Runs a share of requests also on a candidate version, after the caller has its answer (no added latency); both outputs go to the prediction log and ' +
      'deployments_monitor compares agreement and latency. percent 0 stops it.',
    input,
    output: deploymentView,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['deployments:write'],
    async handler(args, { project, principal, audit }) {
      const runtime = ready();
      const current = await runtime.store.get(project, args.name);
      const candidate = await runtime.registry().resolve(project, current.model, args.candidate);
      const { deployment } = await runtime.store.change(project, args.name, principal.id, (d) => {
        if (args.percent > 0 && d.variants.length === 1 && d.variants[0]?.version === candidate.version) throw invalid(`candidate: version ${candidate.version} already serves all traffic`, 'candidate');
        const shadow = args.percent === 0 ? null : { variant: variantName(candidate.version), version: candidate.version, percent: args.percent };
        if (JSON.stringify(shadow) === JSON.stringify(d.shadow)) return null;
        return { change: { shadow }, action: 'shadow', detail: { from: d.shadow, to: shadow } };
      });
      runtime.service.remember(deployment);
      audit({ deployment: args.name, shadow: deployment.shadow });
      return toView(deployment);
    },
  };
}
