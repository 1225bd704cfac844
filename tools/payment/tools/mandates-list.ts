import { z, type ToolSpec } from 'anvil/plugin';
import type { PaymentsRuntime } from '../runtime.ts';
import { guarded } from './common.ts';
import { mandateSchema } from './mandate-schemas.ts';

const input = z.object({ grantee: z.string().max(120).optional() }).strict();
const output = z.object({ mandates: z.array(mandateSchema) });

export function mandatesListTool(runtime: () => PaymentsRuntime): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'mandates_list',
    title: 'List mandates',
    description: "The project's mandates, newest first (at most 200), optionally for one grantee.",
    input,
    output,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['payments:read'],
    async handler(args, { project }) {
      return { mandates: await runtime().mandates.list(project, args.grantee) };
    },
  });
}
