import { AnvilError, ErrorCodes, z, type ToolSpec } from 'anvil/plugin';
import { aliasNameSchema, modelNameSchema } from '../../models/index.ts';
import { batchingPatch, batchingSchema, deploymentNameSchema, loggingPatch, loggingSchema, sameJson, variantName } from '../schema.ts';
import type { Ready } from '../runtime.ts';
import { deploymentView, toView } from './view.ts';

const input = z
  .object({
    name: deploymentNameSchema,
    model: modelNameSchema.describe('The registry model to serve'),
    version: z.number().int().min(1).optional().describe('A fixed version (give this or alias)'),
    alias: aliasNameSchema.optional().describe('An alias to serve (default champion)'),
    followAlias: z.boolean().default(false).describe('Move to the version the alias points at whenever it moves'),
    batching: batchingPatch.optional().describe('Fields not given come from the server’s defaults (deployments.defaults.batching in anvil.config.json)'),
    logging: loggingPatch.optional().describe('Fields not given come from the server’s defaults (deployments.defaults.logging)'),
    threshold: z.number().min(0).max(1).nullable().default(null).describe('Abstain below this top probability (null: the version’s own calibrated threshold)'),
  })
  .strict();

const output = deploymentView.extend({ created: z.boolean().describe('false: it existed with this same spec (nothing changed)') });

export function createTool(ready: Ready): ToolSpec<typeof input, typeof output> {
  return {
    name: 'deployments_create',
    title: 'Deploy a registry model',
    description:
      'Creates a deployment that serves a registry model version (by version, or an alias — champion by default — optionally followed when it moves) ' +
      'with predict over MCP and the Open Inference Protocol v2 at /v2/models/{name}/infer. Batching, prediction logging and the abstain threshold ' +
      'can be set here. Creating the same name with the same spec again changes nothing.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['deployments:write'],
    async handler(args, { project, principal, audit }) {
      const runtime = ready();
      if (args.version !== undefined && args.alias !== undefined) throw new AnvilError(ErrorCodes.INVALID_INPUT, 'version, alias: give one of them, not both', { details: { field: 'version' } });
      if (args.followAlias && args.version !== undefined) throw new AnvilError(ErrorCodes.INVALID_INPUT, 'followAlias: a deployment of a fixed version has no alias to follow; give alias instead of version', { details: { field: 'followAlias' } });
      const batching = batchingSchema.parse({ ...runtime.settings.defaults.batching, ...args.batching });
      const logging = loggingSchema.parse({ ...runtime.settings.defaults.logging, ...args.logging });
      const alias = args.version === undefined ? (args.alias ?? 'champion') : null;
      const resolved = await runtime.registry().resolve(project, args.model, args.version ?? alias);
      const variants = [{ name: variantName(resolved.version), version: resolved.version, weight: 100 }];
      const { deployment, created } = await runtime.store.create({
        project,
        name: args.name,
        model: args.model,
        alias,
        followAlias: args.followAlias,
        variants,
        batching,
        logging,
        threshold: args.threshold,
        createdBy: principal.id,
      });
      if (!created) {
        const same = deployment.model === args.model && deployment.alias === alias && sameJson(deployment.batching, batching) && sameJson(deployment.logging, logging);
        if (!same) throw new AnvilError(ErrorCodes.CONFLICT, `deployment "${args.name}" exists with another spec; use deployments_update or another name`, { details: { field: 'name' } });
      }
      runtime.service.remember(deployment);
      audit({ deployment: args.name, model: args.model, version: resolved.version, created });
      return { ...toView(deployment), created };
    },
  };
}
