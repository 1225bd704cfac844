import { z, type ToolSpec } from 'anvil/plugin';
import type { PaymentsRuntime } from '../runtime.ts';
import { guarded } from './common.ts';

const input = z.object({ provider: z.string().max(60).optional().describe('Default: every configured provider') }).strict();
const difference = z.object({
  paymentId: z.string(),
  providerPaymentId: z.string(),
  field: z.enum(['captured', 'refunded', 'fee', 'captured_on_superseded_attempt']),
  provider: z.string(),
  intent: z.string(),
  ledger: z.string(),
});
const output = z.object({ reports: z.array(z.object({ provider: z.string(), checked: z.number().int(), matched: z.number().int(), differences: z.array(difference) })) });

export function paymentsReconcileTool(runtime: () => PaymentsRuntime): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'payments_reconcile',
    title: 'Reconcile provider reports with the ledger',
    description:
      "Reads each provider's report of this project's payments and compares captured, refunded and fee amounts with the intents and the ledger; lists every difference " +
      '(none when all agree). Read-only: it moves no money.',
    input,
    output,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    scopes: ['payments:read'],
    async handler(args, { project, audit }) {
      const reports = await runtime().reconcile(project, args.provider);
      audit({ providers: reports.map((each) => each.provider), differences: reports.reduce((sum, each) => sum + each.differences.length, 0) });
      return { reports };
    },
  });
}
