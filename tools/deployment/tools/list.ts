import { z, type ToolSpec } from 'anvil/plugin';
import { invalid } from '../schema.ts';
import type { Ready } from '../runtime.ts';
import { deploymentView, toView } from './view.ts';

const input = z
  .object({
    limit: z.number().int().min(1).max(100).default(50),
    cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
  })
  .strict();

const output = z.object({ deployments: z.array(deploymentView), nextCursor: z.string().nullable() });

export function listTool(ready: Ready): ToolSpec<typeof input, typeof output> {
  return {
    name: 'deployments_list',
    title: 'List deployments',
    description: 'The project’s deployments by name: model, variants and weights, state (serving, ab, canary), threshold, shadow.',
    input,
    output,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['deployments:read'],
    async handler(args, { project }) {
      let after: string | null = null;
      if (args.cursor !== undefined) {
        const decoded = Buffer.from(args.cursor, 'base64url').toString('utf8');
        if (!decoded.startsWith('d1:')) throw invalid('cursor: not one this server handed out; start again without it', 'cursor');
        after = decoded.slice(3);
      }
      const rows = await ready().store.list(project, after, args.limit + 1);
      const page = rows.slice(0, args.limit);
      const last = page.at(-1);
      return { deployments: page.map((d) => toView(d)), nextCursor: rows.length > args.limit && last ? Buffer.from(`d1:${last.name}`).toString('base64url') : null };
    },
  };
}
