import { z, type ToolSpec } from 'anvil/plugin';
import type { PaymentsRuntime } from '../runtime.ts';
import { guarded } from './common.ts';
import { intentSchema, paymentIdSchema } from './intent-schemas.ts';

const input = z
  .object({
    id: paymentIdSchema,
    previewHash: z.string().regex(/^[0-9a-f]{64}$/, 'the 64-hex-digit hash payments_preview returned').optional().describe('Required under a mandate: executes exactly what the preview showed'),
  })
  .strict();
const output = z.object({ payment: intentSchema });

export function paymentsConfirmTool(runtime: () => PaymentsRuntime): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'payments_confirm',
    title: 'Confirm a payment',
    description:
      'Confirms a payment: routes it to a provider connector and authorizes (and, with automatic capture, captures) it. Returns succeeded, requires_capture, requires_action, ' +
      'failed, or processing when the provider has not answered yet (it is resumed automatically; read it with payments_get). Confirming again never pays twice.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    scopes: ['payments:write'],
    async handler(args, context) {
      const payment = await runtime().confirmPayment(context, args.id, args.previewHash);
      context.audit({ paymentId: payment.id, status: payment.status });
      return { payment };
    },
  });
}
