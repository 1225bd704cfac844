import { z, type ToolSpec } from 'anvil/plugin';
import type { PaymentsRuntime } from '../runtime.ts';
import { amountSchema, guarded, idempotencyKeySchema } from './common.ts';
import { intentSchema, paymentIdSchema, refundSchema } from './intent-schemas.ts';

const input = z
  .object({
    id: paymentIdSchema,
    amount: amountSchema.optional().describe('Default: everything still refundable'),
    reason: z.string().max(200).optional(),
    idempotencyKey: idempotencyKeySchema,
  })
  .strict();
const output = z.object({ refund: refundSchema, payment: intentSchema, created: z.boolean() });

export function paymentsRefundTool(runtime: () => PaymentsRuntime): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'payments_refund',
    title: 'Refund a payment',
    description: 'Refunds a succeeded payment in full or in part. Refunds together never exceed what was captured, even when sent concurrently; each is booked in the ledger.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    scopes: ['payments:write'],
    async handler(args, { project, principal, audit }) {
      const result = await runtime().intents.refund(project, args.id, args, principal.id);
      audit({ paymentId: args.id, refundId: result.refund.id, amount: result.refund.amount, created: result.created });
      return { refund: result.refund, payment: result.intent, created: result.created };
    },
  });
}
