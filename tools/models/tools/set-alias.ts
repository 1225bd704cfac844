import { z, type ToolSpec } from 'anvil/plugin';
import { aliasNameSchema, LIMITS, modelNameSchema, type ModelRegistry } from '../registry.ts';

const input = z
  .object({
    name: modelNameSchema,
    alias: aliasNameSchema,
    version: z.number().int().min(1).nullable().describe('The version to point the alias at; null clears the alias'),
    reason: z.string().min(1).max(LIMITS.reasonMax).optional().describe('Why, kept in the alias history (e.g. "beats v3 on macro F1")'),
  })
  .strict();

const output = z.object({
  alias: z.string(),
  version: z.number().int().nullable().describe('Where the alias points now (null: cleared)'),
  previous: z.number().int().nullable().describe('Where it pointed before (null: it did not exist)'),
  action: z.enum(['set', 'move', 'clear', 'unchanged']),
});

export function setAliasTool(registry: () => ModelRegistry, name: string): ToolSpec<typeof input, typeof output> {
  return {
    name,
    title: 'Set, move or clear a model alias',
    description:
      'Points an alias of a model (e.g. champion, challenger) at a version, moves it from the version it pointed at, or clears it ' +
      '(version null). Whatever resolves the alias (deployments, evaluations) follows it at once. Every change is recorded with who, ' +
      'when and the reason; answers where the alias pointed before.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['models:write'],
    async handler(args, { project, principal, audit, emit }) {
      const result = await registry().setAlias(project, args.name, args.alias, args.version, principal.id, args.reason);
      audit({ name: args.name, alias: result.alias, version: result.version, previous: result.previous, action: result.action });
      if (result.action !== 'unchanged') emit('alias_changed', { name: args.name, ...result, by: principal.id });
      return result;
    },
  };
}
