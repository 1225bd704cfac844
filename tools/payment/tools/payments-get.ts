import { z, type ToolSpec } from 'anvil/plugin';
import type { PaymentsRuntime } from '../runtime.ts';
import { guarded } from './common.ts';
import { intentSchema, paymentIdSchema, refundSchema } from './intent-schemas.ts';

const input = z.object({ id: paymentIdSchema }).strict();
const output = z.object({
  payment: intentSchema,
  refunds: z.array(refundSchema),
  attempts: z.array(z.object({ number: z.number().int(), connector: z.string(), status: z.string(), declineCode: z.string().nullable() })),
});

export function paymentsGetTool(runtime: () => PaymentsRuntime): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'payments_get',
    title: 'Read a payment',
    description: 'One payment with its status, amounts (authorized, captured, refunded, fee), provider attempts and refunds.',
    input,
    output,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['payments:read'],
    async handler(args, { project }) {
      const found = await runtime().intents.get(project, args.id);
      return { payment: found.intent, refunds: found.refunds, attempts: found.attempts };
    },
  });
}
