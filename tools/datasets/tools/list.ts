import { z, type ToolSpec } from 'anvil/plugin';
import { LIMITS } from '../limits.ts';
import type { DatasetsRuntime } from '../runtime.ts';
import { versionSummary, versionSummarySchema } from './view.ts';

const input = z
  .object({
    name: z.string().min(1).max(LIMITS.nameMaxChars).optional().describe('Only datasets whose name starts with this'),
    limit: z.number().int().min(1).max(LIMITS.listMax).optional().describe(`Default ${LIMITS.listDefault}`),
    cursor: z.string().max(400).optional().describe('nextCursor of the previous page'),
  })
  .strict();

const output = z.object({
  datasets: z.array(z.object({ name: z.string(), createdAt: z.string(), createdBy: z.string(), latest: versionSummarySchema })),
  nextCursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last page'),
});

export function listTool(name: string, datasets: () => DatasetsRuntime): ToolSpec<typeof input, typeof output> {
  return {
    name,
    title: 'List datasets',
    description: "This project's datasets by name, each with a summary of its latest version (rows, splits, labels, sha256).",
    input,
    output,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['datasets:read'],
    async handler(args, { project }) {
      const page = await datasets().store.list(project, args);
      return {
        datasets: page.datasets.map((entry) => ({ name: entry.name, createdAt: entry.createdAt, createdBy: entry.createdBy, latest: versionSummary(entry.latest) })),
        nextCursor: page.nextCursor,
      };
    },
  };
}
