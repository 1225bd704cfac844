import { AnvilError, ErrorCodes, z, type ToolSpec } from 'anvil/plugin';
import { CANARY_ALIAS, CHAMPION_ALIAS, isActive, stableVersion } from '../canary.ts';
import { deploymentNameSchema, variantName } from '../schema.ts';
import type { Ready } from '../runtime.ts';
import { deploymentView, toView } from './view.ts';

const input = z.object({ name: deploymentNameSchema, reason: z.string().max(1000).optional() }).strict();

export function rollbackTool(ready: Ready): ToolSpec<typeof input, typeof deploymentView> {
  return {
    name: 'deployments_rollback',
    title: 'Roll back',
    description:
      'During a canary: the candidate goes to 0% and the stable version to 100% at once. Otherwise: back to the version champion pointed at before its last move ' +
      '(from the registry’s alias history), which champion points at again. The reason is kept in both histories.',
    input,
    output: deploymentView,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    scopes: ['deployments:write'],
    async handler(args, { project, principal, audit }) {
      const runtime = ready();
      const registry = runtime.registry();
      const current = await runtime.store.get(project, args.name);
      const reason = args.reason ?? `rolled back by ${principal.id}`;
      if (isActive(current.rollout)) {
        const { deployment } = await runtime.store.change(project, args.name, principal.id, (d) => {
          if (!isActive(d.rollout)) return null;
          const stable = stableVersion(d.rollout);
          return { change: { variants: [{ name: d.rollout.stable, version: stable, weight: 100 }], rollout: { ...d.rollout, state: 'rolled-back', reason } }, action: 'canary_rolled_back', detail: { candidate: d.rollout.candidate, reason } };
        });
        runtime.service.remember(deployment);
        await registry.setAlias(project, deployment.model, CANARY_ALIAS, null, principal.id, `deployment ${deployment.name}: ${reason}`).catch(() => undefined);
        audit({ deployment: args.name, reason });
        return toView(deployment);
      }
      const moves = (await registry.aliasHistory(project, current.model, { alias: CHAMPION_ALIAS, limit: 20 })).filter((change) => change.action === 'move');
      const previous = moves[0]?.fromVersion;
      if (!previous) throw new AnvilError(ErrorCodes.CONFLICT, `model "${current.model}" has no earlier champion to roll back to (its champion alias never moved)`, { details: { field: 'name' } });
      const { deployment } = await runtime.store.change(project, args.name, principal.id, () => ({
        change: { variants: [{ name: variantName(previous), version: previous, weight: 100 }] },
        action: 'rolled_back',
        detail: { to: previous, reason },
      }));
      runtime.service.remember(deployment);
      await registry.setAlias(project, deployment.model, CHAMPION_ALIAS, previous, principal.id, `deployment ${deployment.name}: ${reason}`);
      audit({ deployment: args.name, to: previous, reason });
      return toView(deployment);
    },
  };
}
