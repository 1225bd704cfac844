import { z, type ToolSpec } from 'anvil/plugin';
import type { PaymentsRuntime } from '../runtime.ts';
import { guarded } from './common.ts';
import { mandateSchema } from './mandate-schemas.ts';

const input = z.object({ id: z.string().min(1).max(64) }).strict();
const output = z.object({ mandate: mandateSchema });

export function mandatesRevokeTool(runtime: () => PaymentsRuntime): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'mandates_revoke',
    title: 'Revoke a mandate',
    description: 'Revokes a mandate at once: no further payment can be created or confirmed under it.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['payments:admin'],
    async handler(args, { project, audit }) {
      const mandate = await runtime().mandates.revoke(project, args.id);
      audit({ mandateId: mandate.id });
      return { mandate };
    },
  });
}
