import { z, type ToolSpec } from 'anvil/plugin';
import type { PaymentsRuntime } from '../runtime.ts';
import { guarded } from './common.ts';
import { intentSchema, paymentIdSchema } from './intent-schemas.ts';

const input = z.object({ id: paymentIdSchema }).strict();
const output = z.object({ payment: intentSchema });

export function paymentsCancelTool(runtime: () => PaymentsRuntime): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'payments_cancel',
    title: 'Cancel a payment',
    description: 'Cancels a payment before confirmation, or while it requires capture or action (the authorization is voided and its ledger reservation released).',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    scopes: ['payments:write'],
    async handler(args, { project, audit }) {
      const payment = await runtime().intents.cancel(project, args.id);
      audit({ paymentId: payment.id, status: payment.status });
      return { payment };
    },
  });
}
