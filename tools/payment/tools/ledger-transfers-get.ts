import { z, type ToolSpec } from 'anvil/plugin';
import type { Ledger } from '../ledger/ledger.ts';
import { guarded, transferSchema } from './common.ts';

const input = z.object({ id: z.string().min(1).max(64).describe('Transfer id') }).strict();
const output = z.object({ transfer: transferSchema });

export function ledgerTransfersGetTool(ledger: () => Ledger): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'ledger_transfers_get',
    title: 'Read a ledger transfer',
    description: 'One transfer by id: accounts, amount, kind (single, pending, post, void), state and metadata.',
    input,
    output,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['ledger:read'],
    async handler(args, { project }) {
      return { transfer: await ledger().getTransfer(project, args.id) };
    },
  });
}
