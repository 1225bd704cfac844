import { z, type ToolSpec } from 'anvil/plugin';
import { INTENT_STATUSES } from '../intents/rows.ts';
import type { PaymentsRuntime } from '../runtime.ts';
import { guarded, limitSchema } from './common.ts';
import { intentSchema } from './intent-schemas.ts';

const input = z
  .object({ status: z.enum(INTENT_STATUSES).optional(), payee: z.string().max(200).optional(), cursor: z.string().max(300).optional(), limit: limitSchema })
  .strict();
const output = z.object({ payments: z.array(intentSchema), next: z.string().nullable() });

export function paymentsListTool(runtime: () => PaymentsRuntime): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'payments_list',
    title: 'List payments',
    description: 'Payments newest first, filtered by status or payee; pages with `cursor`.',
    input,
    output,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['payments:read'],
    async handler(args, { project }) {
      return runtime().intents.list(project, { ...args, limit: args.limit ?? 50 });
    },
  });
}
