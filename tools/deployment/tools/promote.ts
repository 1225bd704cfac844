import { AnvilError, ErrorCodes, z, type ToolSpec } from 'anvil/plugin';
import { CANARY_ALIAS, CHAMPION_ALIAS, isActive } from '../canary.ts';
import { deploymentNameSchema, invalid, variantName } from '../schema.ts';
import type { Ready } from '../runtime.ts';
import { deploymentView, toView } from './view.ts';

const input = z
  .object({
    name: deploymentNameSchema,
    version: z.number().int().min(1).optional().describe('The version to promote; default: the canary candidate'),
    reason: z.string().max(1000).optional(),
  })
  .strict();

export function promoteTool(ready: Ready): ToolSpec<typeof input, typeof deploymentView> {
  return {
    name: 'deployments_promote',
    title: 'Promote a version to champion',
    description: 'Moves the model’s champion alias to the canary candidate (or the version given) and sends it 100% of the deployment’s traffic, ending the rollout. The registry keeps the alias history (deployments_rollback goes back).',
    input,
    output: deploymentView,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['deployments:write'],
    async handler(args, { project, principal, audit }) {
      const runtime = ready();
      const current = await runtime.store.get(project, args.name);
      const target = args.version ?? (isActive(current.rollout) ? current.rollout.candidateVersion : undefined);
      if (target === undefined) throw invalid('version: no canary is under way; give the version to promote', 'version');
      await runtime.registry().resolve(project, current.model, target);
      const { deployment } = await runtime.store.change(project, args.name, principal.id, (d) => {
        if (d.variants.length === 1 && d.variants[0]?.version === target && !isActive(d.rollout)) return null;
        const rollout = isActive(d.rollout) ? { ...d.rollout, state: d.rollout.candidateVersion === target ? ('completed' as const) : ('aborted' as const), reason: `promoted v${target} by ${principal.id}` } : d.rollout;
        return { change: { variants: [{ name: variantName(target), version: target, weight: 100 }], rollout }, action: 'promoted', detail: { version: target, reason: args.reason ?? null } };
      });
      runtime.service.remember(deployment);
      const registry = runtime.registry();
      await registry.setAlias(project, deployment.model, CHAMPION_ALIAS, target, principal.id, args.reason ?? `deployment ${deployment.name}: promoted`);
      await registry.setAlias(project, deployment.model, CANARY_ALIAS, null, principal.id, `deployment ${deployment.name}: promoted v${target}`).catch((error: unknown) => {
        if (!(error instanceof AnvilError && error.code === ErrorCodes.NOT_FOUND)) throw error;
      });
      audit({ deployment: args.name, version: target });
      return toView(deployment);
    },
  };
}
