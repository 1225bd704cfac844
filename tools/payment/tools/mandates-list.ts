import { z, type ToolSpec } from 'anvil/plugin';
import type { PaymentsRuntime } from '../runtime.ts';
import { guarded } from './common.ts';
import { mandateSchema } from './mandate-schemas.ts';

/** The page size when none is given: what the tool always returned before it paged. */
const DEFAULT_LIMIT = 200;

const input = z
  .object({
    grantee: z.string().max(120).optional(),
    cursor: z.string().max(300).optional().describe('The `next` of the previous page'),
    limit: z.number().int().min(1).max(DEFAULT_LIMIT).optional().describe(`Page size (default ${DEFAULT_LIMIT})`),
  })
  .strict();
const output = z.object({ mandates: z.array(mandateSchema), next: z.string().nullable().describe('Pass as cursor for the next page; null on the last page') });

export function mandatesListTool(runtime: () => PaymentsRuntime): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'mandates_list',
    title: 'List mandates',
    description: "The project's mandates, newest first, optionally for one grantee; pages with `cursor` (200 a page unless `limit`).",
    input,
    output,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['payments:read'],
    async handler(args, { project }) {
      return runtime().mandates.list(project, { ...args, limit: args.limit ?? DEFAULT_LIMIT });
    },
  });
}
