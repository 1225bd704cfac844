import { z, type ToolSpec } from 'anvil/plugin';
import type { Ledger } from '../ledger/ledger.ts';
import { ACCOUNT_FLAGS, ACCOUNT_KINDS } from '../ledger/rows.ts';
import { accountCodeSchema, accountSchema, currencySchema, guarded, metadataSchema } from './common.ts';

const input = z
  .object({
    code: accountCodeSchema,
    kind: z.enum(ACCOUNT_KINDS),
    currency: currencySchema,
    flags: z.array(z.enum(ACCOUNT_FLAGS)).max(2).optional().describe('debits_must_not_exceed_credits (e.g. a customer balance that cannot go negative) or the reverse'),
    metadata: metadataSchema.optional(),
  })
  .strict();
const output = z.object({ account: accountSchema, created: z.boolean().describe('false when an account with this code and the same spec existed') });

export function ledgerAccountsCreateTool(ledger: () => Ledger): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'ledger_accounts_create',
    title: 'Create a ledger account',
    description:
      'Creates a double-entry account {code, kind, currency, flags}. The code is its idempotency key: creating it again with the same spec returns it, ' +
      'with another spec is a conflict. Flags are enforced on every transfer: one that would break them fails whole.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['ledger:write'],
    async handler(args, { project, audit }) {
      const result = await ledger().createAccount(project, args);
      audit({ account: result.account.code, created: result.created });
      return result;
    },
  });
}
