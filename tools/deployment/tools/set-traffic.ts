import { AnvilError, ErrorCodes, z, type ToolSpec } from 'anvil/plugin';
import { checkWeights, deploymentNameSchema, invalid, sameJson, type Variant } from '../schema.ts';
import type { Ready } from '../runtime.ts';
import { deploymentView, toView } from './view.ts';

const input = z
  .object({
    name: deploymentNameSchema,
    weights: z.record(z.string().regex(/^v[1-9][0-9]{0,8}$/, 'variant names are v<model version>, e.g. v3'), z.number()).describe('{"v3": 50, "v4": 50}: percent per model version, summing to 100; a version not served yet is added'),
  })
  .strict();

export function setTrafficTool(ready: Ready): ToolSpec<typeof input, typeof deploymentView> {
  return {
    name: 'deployments_set_traffic',
    title: 'Split traffic between model versions (A/B)',
    description:
      'Sets the traffic split of a deployment between versions of its model, in percent summing to 100 (e.g. {"v3": 50, "v4": 50}). ' +
      'Routing is sticky per requestKey on every server. Refused while a canary is under way (deployments_rollback or deployments_promote first).',
    input,
    output: deploymentView,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['deployments:write'],
    async handler(args, { project, principal, audit }) {
      const runtime = ready();
      checkWeights(args.weights);
      if (Object.keys(args.weights).length === 0) throw invalid('weights: give at least one variant', 'weights');
      const current = await runtime.store.get(project, args.name);
      for (const variant of Object.keys(args.weights)) await runtime.registry().resolve(project, current.model, Number(variant.slice(1)));
      const { deployment } = await runtime.store.change(project, args.name, principal.id, (d) => {
        if (d.rollout && ['progressing', 'paused', 'awaiting-approval'].includes(d.rollout.state)) {
          throw new AnvilError(ErrorCodes.CONFLICT, `a canary of ${d.rollout.candidate} is under way on "${d.name}"; deployments_promote or deployments_rollback first`, { details: { field: 'name' } });
        }
        const order = [...d.variants.map((v) => v.name), ...Object.keys(args.weights).filter((name) => !d.variants.some((v) => v.name === name))];
        const variants: Variant[] = order.filter((name) => (args.weights[name] ?? 0) > 0).map((name) => ({ name, version: Number(name.slice(1)), weight: args.weights[name] as number }));
        if (sameJson(variants, d.variants)) return null;
        return { change: { variants }, action: 'traffic', detail: { from: d.variants, to: variants } };
      });
      runtime.service.remember(deployment);
      audit({ deployment: args.name, weights: args.weights });
      return toView(deployment);
    },
  };
}
