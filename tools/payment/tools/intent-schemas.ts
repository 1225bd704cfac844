/** Output shapes of the payments_* tools. */
import { z } from 'anvil/plugin';
import { INTENT_STATUSES } from '../intents/rows.ts';

export const intentSchema = z.object({
  id: z.string(),
  status: z.enum(INTENT_STATUSES),
  amount: z.string(),
  currency: z.string(),
  payee: z.string(),
  method: z.object({ type: z.literal('card'), token: z.string() }),
  captureMethod: z.enum(['automatic', 'manual']),
  country: z.string().nullable(),
  merchantCategory: z.string().nullable(),
  mandateId: z.string().nullable(),
  provider: z.string().nullable(),
  connector: z.string().nullable(),
  providerPaymentId: z.string().nullable(),
  amountAuthorized: z.string(),
  amountCaptured: z.string(),
  amountRefunded: z.string(),
  fee: z.string(),
  declineCode: z.string().nullable(),
  risk: z.record(z.string(), z.unknown()).nullable(),
  idempotencyKey: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const refundSchema = z.object({
  id: z.string(),
  intentId: z.string(),
  amount: z.string(),
  status: z.enum(['pending', 'succeeded', 'failed']),
  providerRefundId: z.string().nullable(),
  reason: z.string().nullable(),
  idempotencyKey: z.string(),
  createdAt: z.string(),
});

export const paymentIdSchema = z.string().min(1).max(64).describe('The payment (intent) id');
