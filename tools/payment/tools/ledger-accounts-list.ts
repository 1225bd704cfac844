import { z, type ToolSpec } from 'anvil/plugin';
import type { Ledger } from '../ledger/ledger.ts';
import { ACCOUNT_KINDS } from '../ledger/rows.ts';
import { accountSchema, currencySchema, guarded, limitSchema } from './common.ts';

const input = z
  .object({
    currency: currencySchema.optional(),
    kind: z.enum(ACCOUNT_KINDS).optional(),
    prefix: z.string().max(120).optional().describe('Only codes starting with this'),
    after: z.string().max(120).optional().describe('The `next` of the previous page'),
    limit: limitSchema,
  })
  .strict();
const output = z.object({ accounts: z.array(accountSchema), next: z.string().nullable() });

export function ledgerAccountsListTool(ledger: () => Ledger): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'ledger_accounts_list',
    title: 'List ledger accounts',
    description: "The project's accounts by code, filtered by currency, kind or code prefix; pages with `after`.",
    input,
    output,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['ledger:read'],
    async handler(args, { project }) {
      return ledger().listAccounts(project, { ...args, limit: args.limit ?? 50 });
    },
  });
}
