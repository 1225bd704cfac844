import { z, type ToolSpec } from 'anvil/plugin';
import type { PaymentsRuntime } from '../runtime.ts';
import { amountSchema, currencySchema, guarded, idempotencyKeySchema, metadataSchema } from './common.ts';
import { intentSchema } from './intent-schemas.ts';
import { riskSignalsSchema } from './risk-schemas.ts';

export const createInput = z
  .object({
    amount: amountSchema,
    currency: currencySchema,
    payee: z.string().min(1).max(200).describe('Who is paid: a merchant id or name'),
    method: z
      .object({ type: z.literal('card'), token: z.string().regex(/^tok_[A-Za-z0-9_]{4,100}$/, 'a provider token such as "tok_…" (tokenize cards at the provider; card numbers are refused)') })
      .strict(),
    captureMethod: z.enum(['automatic', 'manual']).optional().describe('automatic (default) captures at confirmation; manual waits for payments_capture'),
    country: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166 alpha-2 code such as "DE"').optional(),
    merchantCategory: z.string().regex(/^\d{4}$/, 'a 4-digit merchant category code').optional(),
    mandate: z.string().uuid().optional().describe('The mandate this payment is made under (required for keys acting under one)'),
    idempotencyKey: idempotencyKeySchema,
    metadata: metadataSchema.optional(),
    riskSignals: riskSignalsSchema.optional(),
  })
  .strict();
const output = z.object({ payment: intentSchema, created: z.boolean() });

export function paymentsCreateTool(runtime: () => PaymentsRuntime): ToolSpec<typeof createInput, typeof output> {
  return guarded({
    name: 'payments_create',
    title: 'Create a payment',
    description:
      'Creates a payment intent {amount (minor units as a string), currency, payee, method: {type: "card", token}} in requires_confirmation; nothing moves until payments_confirm. ' +
      'The idempotency key returns the first intent for the same body and is a conflict for another. Card numbers are refused anywhere: send a provider token. ' +
      'The payment is risk-scored at once and the decision stored with it (`risk`): decline refuses it (ANVIL_E_POLICY_DENIED, reason risk_declined), review makes payments_confirm wait for an approval.',
    input: createInput,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['payments:write'],
    async handler(args, { project, principal, audit }) {
      const { mandate, riskSignals, ...rest } = args;
      const result = await runtime().createPayment(project, principal, { ...rest, ...(mandate ? { mandateId: mandate } : {}) }, riskSignals ?? {});
      audit({ paymentId: result.intent.id, created: result.created, amount: result.intent.amount, currency: result.intent.currency });
      return { payment: result.intent, created: result.created };
    },
  });
}
