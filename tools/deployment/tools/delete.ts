/**
 * deployments_delete: stop serving a deployment and remove it. It refuses (CONFLICT) while the
 * deployment serves traffic — a canary under way, or an answer within the last `deleteIdleSeconds`
 * (from the prediction log of every server, and this server's own count) — unless `force`. The
 * history is kept (a `deleted` row with what it served); so are its prediction-log rows, for
 * `deletedRetentionDays`. Deleting a name that does not exist (already deleted, never created, or
 * another project's) answers `deleted: false`: a retry is harmless.
 */
import { AnvilError, ErrorCodes, z, type ToolSpec } from 'anvil/plugin';
import { CANARY_ALIAS, isActive } from '../canary.ts';
import { deploymentNameSchema } from '../schema.ts';
import type { Ready } from '../runtime.ts';

const input = z
  .object({
    name: deploymentNameSchema,
    force: z.boolean().default(false).describe('Delete even while it serves traffic or a canary is under way'),
    reason: z.string().max(1000).optional().describe('Kept in the deployment’s history'),
  })
  .strict();

const output = z.object({
  name: z.string(),
  deleted: z.boolean().describe('false: there was no such deployment (already deleted, or never created)'),
  model: z.string().nullable(),
  variants: z.array(z.object({ name: z.string(), version: z.number().int(), weight: z.number() })).describe('What it served when deleted'),
  lastServedAt: z.string().nullable().describe('Its last answer seen within deleteIdleSeconds (null: none)'),
  forced: z.boolean(),
});

export function deleteTool(ready: Ready): ToolSpec<typeof input, typeof output> {
  return {
    name: 'deployments_delete',
    title: 'Delete a deployment',
    description:
      'Stops serving a deployment and removes it (its predict and /v2/models/{name} routes answer 404 on every server within about a second). ' +
      'Refused while it serves traffic — a canary under way, or a request answered within the last few minutes (deleteIdleSeconds, 300 by default) — unless force: true. ' +
      'Its history (with a deleted entry) and prediction log are kept; the registry’s model versions are untouched. Deleting a name that does not exist answers deleted: false.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['deployments:write'],
    async handler(args, { project, principal, audit }) {
      const runtime = ready();
      const idleSeconds = runtime.settings.deleteIdleSeconds;
      // Reads first (on embedded PGlite a transaction must not wait on another connection's query).
      const existing = await runtime.store.find(project, args.name);
      if (!existing) return { name: args.name, deleted: false, model: null, variants: [], lastServedAt: null, forced: args.force };
      const logged = idleSeconds > 0 ? await runtime.store.lastLogged(project, args.name, idleSeconds) : undefined;
      const here = runtime.service.lastServedAt(project, args.name);
      const recent = [logged?.getTime(), here !== undefined && Date.now() - here < idleSeconds * 1000 ? here : undefined].filter((t): t is number => t !== undefined);
      const lastServed = recent.length > 0 ? new Date(Math.max(...recent)).toISOString() : null;
      const deleted = await runtime.store.delete(project, args.name, principal.id, (current) => {
        if (!args.force && isActive(current.rollout)) {
          throw new AnvilError(ErrorCodes.CONFLICT, `deployment "${args.name}" has a canary under way (${current.rollout.candidate} at step ${current.rollout.stepIndex + 1}); roll it back or promote it first, or pass force: true`, { details: { field: 'force' } });
        }
        if (!args.force && lastServed !== null) {
          throw new AnvilError(ErrorCodes.CONFLICT, `deployment "${args.name}" serves traffic (last answer at ${lastServed}, within ${idleSeconds} s); move its callers away first, or pass force: true`, { details: { field: 'force', lastServedAt: lastServed } });
        }
        return { model: current.model, alias: current.alias, variants: current.variants, rollout: current.rollout ? { candidate: current.rollout.candidate, state: current.rollout.state } : null, shadow: current.shadow, force: args.force, lastServedAt: lastServed, reason: args.reason ?? null };
      });
      if (!deleted) return { name: args.name, deleted: false, model: null, variants: [], lastServedAt: null, forced: args.force };
      runtime.service.forget(project, args.name);
      if (isActive(deleted.rollout)) {
        // A forced delete ends its canary: the registry's canary alias says why.
        await runtime.registry().setAlias(project, deleted.model, CANARY_ALIAS, null, principal.id, `deployment ${args.name}: deleted during its canary`).catch(() => undefined);
      }
      audit({ deployment: args.name, model: deleted.model, forced: args.force, lastServedAt: lastServed });
      return { name: args.name, deleted: true, model: deleted.model, variants: deleted.variants, lastServedAt: lastServed, forced: args.force };
    },
  };
}
