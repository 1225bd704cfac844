import { z, type ToolSpec } from 'anvil/plugin';
import type { Ledger } from '../ledger/ledger.ts';
import { accountSchema, guarded } from './common.ts';

const input = z.object({ account: z.string().min(1).max(120).describe('Account code or id') }).strict();
const output = z.object({ account: accountSchema });

export function ledgerAccountsGetTool(ledger: () => Ledger): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'ledger_accounts_get',
    title: 'Read a ledger account',
    description: 'One account with its pending and posted debits and credits and its balance, by code or id.',
    input,
    output,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['ledger:read'],
    async handler(args, { project }) {
      return { account: await ledger().getAccount(project, args.account) };
    },
  });
}
