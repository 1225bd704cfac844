import { z, type ToolSpec } from 'anvil/plugin';
import { LIMITS, modelNameSchema, type ModelRegistry } from '../registry.ts';
import { modelSummarySchema, versionSummarySchema } from './view.ts';

const input = z
  .object({
    name: modelNameSchema.optional().describe("A model's name: list its versions instead of the models"),
    limit: z.number().int().min(1).max(LIMITS.listMax).optional().describe(`Default ${LIMITS.listDefault}`),
    cursor: z.string().max(500).optional().describe('nextCursor of the previous page (with the same name)'),
  })
  .strict();

const output = z.object({
  models: z.array(modelSummarySchema).describe('The models by name (with name: just that one)'),
  versions: z.array(versionSummarySchema).optional().describe("With name: the model's versions, newest first"),
  nextCursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last page'),
});

export function listTool(registry: () => ModelRegistry, name: string): ToolSpec<typeof input, typeof output> {
  return {
    name,
    title: 'List models',
    description:
      "This project's registered models by name, each with its latest version, version count and aliases (champion, challenger, …). " +
      "With name, that model's versions instead, newest first, with their metrics and aliases. Page on with nextCursor.",
    input,
    output,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['models:read'],
    async handler(args, { project }) {
      return registry().list(project, args);
    },
  };
}
