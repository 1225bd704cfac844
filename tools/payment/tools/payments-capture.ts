import { z, type ToolSpec } from 'anvil/plugin';
import type { PaymentsRuntime } from '../runtime.ts';
import { amountSchema, guarded } from './common.ts';
import { intentSchema, paymentIdSchema } from './intent-schemas.ts';

const input = z.object({ id: paymentIdSchema, amount: amountSchema.optional().describe('Default: the whole authorized amount; less captures part') }).strict();
const output = z.object({ payment: intentSchema });

export function paymentsCaptureTool(runtime: () => PaymentsRuntime): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'payments_capture',
    title: 'Capture a payment',
    description: 'Captures an authorized manual-capture payment, in full or in part, once: a retry with the same amount returns the same capture; another amount is a conflict.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    scopes: ['payments:write'],
    async handler(args, { project, audit }) {
      const payment = await runtime().intents.capture(project, args.id, args.amount);
      audit({ paymentId: payment.id, status: payment.status, captured: payment.amountCaptured });
      return { payment };
    },
  });
}
