import { z, type ToolSpec } from 'anvil/plugin';
import type { Ledger } from '../ledger/ledger.ts';
import { TRANSFER_STATES } from '../ledger/rows.ts';
import { guarded, limitSchema, transferSchema } from './common.ts';

const input = z
  .object({
    account: z.string().max(120).optional().describe('Only transfers debiting or crediting this account code'),
    state: z.enum(TRANSFER_STATES).optional(),
    metadata: z.record(z.string().max(100), z.union([z.string().max(200), z.number(), z.boolean()])).optional().describe('Only transfers whose metadata contains these values'),
    cursor: z.string().max(200).optional().describe('The `next` of the previous page'),
    limit: limitSchema,
  })
  .strict();
const output = z.object({ transfers: z.array(transferSchema), next: z.string().nullable() });

export function ledgerTransfersListTool(ledger: () => Ledger): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'ledger_transfers_list',
    title: 'List ledger transfers',
    description: 'Transfers newest first, filtered by account, state or metadata; pages with `cursor`.',
    input,
    output,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['ledger:read'],
    async handler(args, { project }) {
      return ledger().listTransfers(project, { ...args, limit: args.limit ?? 50 });
    },
  });
}
