import { z, type ToolSpec } from 'anvil/plugin';
import type { Ledger } from '../ledger/ledger.ts';
import { currencySchema, guarded } from './common.ts';

const input = z.object({ currency: currencySchema.optional() }).strict();
const output = z.object({
  currencies: z.array(
    z.object({
      currency: z.string(),
      debitsPosted: z.string(),
      creditsPosted: z.string(),
      debitsPending: z.string(),
      creditsPending: z.string(),
      accounts: z.number().int(),
      balanced: z.boolean().describe('Total debits equal total credits (always true; a false here is a bug to report)'),
    }),
  ),
});

export function ledgerBalancesTool(ledger: () => Ledger): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'ledger_balances',
    title: 'Trial balance per currency',
    description: "Total debits and credits, posted and pending, of all the project's accounts per currency, and whether they balance.",
    input,
    output,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['ledger:read'],
    async handler(args, { project }) {
      const totals = await ledger().balances(project, args.currency);
      return {
        currencies: totals.map((row) => ({
          currency: row.currency,
          debitsPosted: row.debits_posted,
          creditsPosted: row.credits_posted,
          debitsPending: row.debits_pending,
          creditsPending: row.credits_pending,
          accounts: row.accounts,
          balanced: row.balanced === true,
        })),
      };
    },
  });
}
