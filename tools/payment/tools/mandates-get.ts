import { z, type ToolSpec } from 'anvil/plugin';
import type { PaymentsRuntime } from '../runtime.ts';
import { guarded } from './common.ts';
import { mandateSchema } from './mandate-schemas.ts';

const input = z.object({ id: z.string().min(1).max(64) }).strict();
const output = z.object({ mandate: mandateSchema });

export function mandatesGetTool(runtime: () => PaymentsRuntime): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'mandates_get',
    title: 'Read a mandate',
    description: "A mandate's limits, state and what was used in the current period.",
    input,
    output,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['payments:read'],
    async handler(args, { project }) {
      return { mandate: await runtime().mandates.get(project, args.id) };
    },
  });
}
