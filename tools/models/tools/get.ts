import { z, type ToolSpec } from 'anvil/plugin';
import { modelNameSchema, versionRecordSchema, type ModelRegistry } from '../registry.ts';
import { modelCardUri } from './resources.ts';
import { modelSummarySchema, versionRefSchema } from './view.ts';

const input = z
  .object({
    name: modelNameSchema,
    version: versionRefSchema.optional().describe('A version number, an alias (e.g. "champion") or "latest" (the default)'),
  })
  .strict();

const output = versionRecordSchema.extend({
  aliases: z.array(z.string()).describe('Aliases pointing at this version'),
  model: modelSummarySchema.describe('The model: latest version, all its aliases'),
  card: z.string().describe('The model card (Markdown)'),
  cardUri: z.string().describe('The model card as an MCP resource'),
});

export function getTool(registry: () => ModelRegistry, name: string): ToolSpec<typeof input, typeof output> {
  return {
    name,
    title: 'Get a model version',
    description:
      'One version of a registered model — by number, by alias (champion, challenger, …) or the latest by default — with its task, ' +
      'metrics, signature (inputs, outputs, labels), lineage (dataset, training job, code version, params), artifacts with SHA-256, ' +
      'the aliases pointing at it, and its model card in Markdown.',
    input,
    output,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['models:read'],
    async handler(args, { project }) {
      const detail = await registry().get(project, args.name, args.version);
      const { cardMd, project: _project, ...record } = detail.version;
      return { ...record, aliases: detail.aliases, model: detail.model, card: cardMd, cardUri: modelCardUri(record.name, record.version) };
    },
  };
}
