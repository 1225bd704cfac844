import { z, type ToolSpec } from 'anvil/plugin';
import { aliasNameSchema, LIMITS, modelNameSchema, type ModelRegistry } from '../registry.ts';

const input = z
  .object({
    name: modelNameSchema,
    alias: aliasNameSchema.optional().describe('Only the changes of this alias (default: every alias)'),
    limit: z.number().int().min(1).max(LIMITS.historyMax).optional().describe(`At most this many changes, newest first (default ${LIMITS.historyDefault})`),
    cursor: z.string().max(500).optional().describe('nextCursor of the previous page (with the same name and alias)'),
  })
  .strict();

const output = z.object({
  name: z.string(),
  changes: z.array(
    z.object({
      id: z.number().int(),
      alias: z.string(),
      action: z.enum(['set', 'move', 'clear']),
      fromVersion: z.number().int().nullable().describe('Where the alias pointed before (null: it did not exist)'),
      toVersion: z.number().int().nullable().describe('Where it points after (null: cleared)'),
      by: z.string().describe('The principal that changed it'),
      at: z.string(),
      reason: z.string().nullable(),
    }),
  ),
  nextCursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last page'),
});

export function aliasHistoryTool(registry: () => ModelRegistry, name: string): ToolSpec<typeof input, typeof output> {
  return {
    name,
    title: 'A model’s alias history',
    description:
      'Every set, move and clear of a model’s aliases (champion, challenger, …), newest first: from which version to which, who, when ' +
      'and why (the reason given to models_set_alias); page on with nextCursor. An unknown model is ANVIL_E_NOT_FOUND.',
    input,
    output,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['models:read'],
    async handler(args, { project }) {
      const changes = await registry().aliasHistoryPage(project, args.name, {
        ...(args.alias === undefined ? {} : { alias: args.alias }),
        ...(args.limit === undefined ? {} : { limit: args.limit }),
        ...(args.cursor === undefined ? {} : { cursor: args.cursor }),
      });
      return { name: args.name, ...changes };
    },
  };
}
