import { AnvilError, ErrorCodes, z, type ToolSpec } from 'anvil/plugin';
import { parseAmount, parseCurrency } from '../money.ts';
import type { PaymentsRuntime } from '../runtime.ts';
import { amountSchema, guarded } from './common.ts';
import { riskDeploymentSchema, riskSettingsSchema } from './risk-schemas.ts';

const input = z
  .object({
    deployment: riskDeploymentSchema.nullable().optional().describe("The deployment that scores this project's payments (thresholds must have been stored for it by payments_risk_train); null: off"),
    unscoredReviewAbove: z
      .record(z.string().max(8), amountSchema)
      .optional()
      .describe('Per currency ({"EUR": "50000"}): an unscored payment above this needs a person\'s approval, as a review does; replaces the stored map'),
  })
  .strict();

const output = z.object({ settings: riskSettingsSchema });

export function paymentsRiskConfigureTool(runtime: () => PaymentsRuntime): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'payments_risk_configure',
    title: 'Choose the risk model and the unscored limit',
    description:
      "Sets which deployment of this project scores its payments (null switches scoring off: payments are recorded \"not-scored\") and, per currency, the amount above which a payment that could not be scored needs a person's approval.",
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['payments:admin'],
    async handler(args, { project, principal, audit }) {
      if (args.deployment === undefined && args.unscoredReviewAbove === undefined) {
        throw new AnvilError(ErrorCodes.INVALID_INPUT, 'deployment: give deployment, unscoredReviewAbove or both', { details: { field: 'deployment' } });
      }
      const limits = args.unscoredReviewAbove === undefined
        ? undefined
        : Object.fromEntries(Object.entries(args.unscoredReviewAbove).map(([code, amount]) => {
            const currency = parseCurrency(code, `unscoredReviewAbove.${code}`);
            return [currency, parseAmount(amount, currency, `unscoredReviewAbove.${code}`).toString()];
          }));
      const settings = await runtime().risk.configure(project, principal.id, { ...(args.deployment === undefined ? {} : { deployment: args.deployment }), ...(limits ? { unscoredReviewAbove: limits } : {}) });
      audit({ deployment: settings.deployment, unscoredReviewAbove: settings.unscoredReviewAbove });
      return { settings };
    },
  });
}
