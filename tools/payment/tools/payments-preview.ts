import { z, type ToolSpec } from 'anvil/plugin';
import type { PaymentsRuntime } from '../runtime.ts';
import { guarded } from './common.ts';
import { paymentIdSchema } from './intent-schemas.ts';

const input = z.object({ id: paymentIdSchema }).strict();
const output = z.object({
  summary: z.object({
    paymentId: z.string(),
    payee: z.string(),
    amount: z.string(),
    currency: z.string(),
    captureMethod: z.string(),
    route: z.object({ provider: z.string(), connector: z.string() }).nullable(),
    fees: z.object({ estimated: z.string(), connector: z.string().nullable() }),
    mandate: z.object({ id: z.string(), maxPerPayment: z.string(), maxPerPeriod: z.string(), period: z.string(), expiresAt: z.string() }).nullable(),
    risk: z.record(z.string(), z.unknown()).nullable(),
  }),
  previewHash: z.string().describe('SHA-256 of the canonical JSON of `summary`; payments_confirm with it executes exactly this'),
});

export function paymentsPreviewTool(runtime: () => PaymentsRuntime): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'payments_preview',
    title: 'Preview a payment',
    description:
      'The canonical summary of what confirming a payment would do — payee, amount, currency, estimated fees and the connector it goes to, mandate, risk — and its SHA-256. ' +
      'Show it to the person; payments_confirm with previewHash then executes exactly that (a newer preview replaces the hash). Required under a mandate.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['payments:write'],
    async handler(args, { project, principal, audit }) {
      const { summary, hash } = await runtime().preview({ project, principal }, args.id);
      audit({ paymentId: args.id, previewHash: hash });
      return { summary, previewHash: hash };
    },
  });
}
