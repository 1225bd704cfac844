import { errorMessage, z, type ToolContext, type ToolSpec } from 'anvil/plugin';
import { askForDecision } from '../../approvals/index.ts';
import type { ConfirmContext, PaymentsRuntime } from '../runtime.ts';
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
      const payment = await runtime().confirmPayment({ project: context.project, principal: context.principal, ...askInChat(context) }, args.id, args.previewHash);
      context.audit({ paymentId: payment.id, status: payment.status });
      return { payment };
    },
  });
}

/**
 * A payment that waits for a person is put to the person at the caller's client when it declared
 * MCP elicitation: the canonical summary and the preview hash the approval binds.
 */
function askInChat(context: ToolContext): Pick<ConfirmContext, 'ask'> {
  if (!context.clientCapabilities.elicitation) return {};
  return {
    ask: async (approval, preview) => {
      const what = preview ? `${preview.amount} ${preview.currency} (minor units) to ${preview.payee}` : `payment ${approval.subject}`;
      try {
        return await askForDecision(context, `Approve paying ${what}? Approval ${approval.id} binds preview hash ${approval.hash}. Summary: ${JSON.stringify(preview ?? {})}`, 'exactly this payment', context.signal);
      } catch (error) {
        context.log.warn({ err: errorMessage(error), approvalId: approval.id }, 'asking for the approval in the chat failed; it waits for approvals_decide');
        return undefined;
      }
    },
  };
}
