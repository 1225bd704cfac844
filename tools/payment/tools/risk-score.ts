import { AnvilError, ErrorCodes, z, type ToolSpec } from 'anvil/plugin';
import { parseAmount, parseCurrency } from '../money.ts';
import type { PaymentsRuntime } from '../runtime.ts';
import { amountSchema, currencySchema, guarded } from './common.ts';
import { riskAssessmentSchema, riskSignalsSchema } from './risk-schemas.ts';

const transactionSchema = z
  .object({
    amount: amountSchema,
    currency: currencySchema,
    merchantCategory: z.string().regex(/^\d{4}$/, 'a 4-digit merchant category code').optional(),
    attemptsLastHour: z.number().int().min(0).max(10_000).default(0).describe('Payments tried with this card in the last hour'),
    localHour: z.number().int().min(0).max(23).describe("The payer's local hour"),
    cardAgeDays: z.number().int().min(0).max(36_500),
    newDevice: z.boolean().default(false),
    countryMismatch: z.boolean().default(false),
  })
  .strict();

const input = z
  .object({
    intentId: z.string().uuid().optional().describe('A payment of this project: scored with its stored features and the current model'),
    signals: riskSignalsSchema.optional().describe('With intentId: what the checkout knows about the payer'),
    transaction: transactionSchema.optional().describe('A hypothetical payment, scored without storing anything'),
  })
  .strict();

const output = z.object({
  assessment: riskAssessmentSchema,
  stored: riskAssessmentSchema.nullable().describe('With intentId: the assessment stored with the payment when it was created'),
});

export function riskScoreTool(runtime: () => PaymentsRuntime): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'risk_score',
    title: 'Score a payment for fraud risk',
    description:
      "Scores a payment ({intentId}) or a hypothetical one ({transaction}) with the project's deployed risk model: the probability of fraud, the decision " +
      '(approve | review | decline by the thresholds chosen on held-out data, or not-scored with the reason), the thresholds and the model version. Moves no money.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['payments:read'],
    async handler(args, { project, audit }) {
      if ((args.intentId === undefined) === (args.transaction === undefined)) {
        throw new AnvilError(ErrorCodes.INVALID_INPUT, 'intentId: give either intentId or transaction, not both and not neither', { details: { field: 'intentId' } });
      }
      const risk = runtime().risk;
      if (args.intentId !== undefined) {
        const row = await runtime().intents.row(project, args.intentId);
        const assessment = await risk.assessIntent(project, row, args.signals ?? {});
        audit({ paymentId: row.id, decision: assessment.decision, score: assessment.score });
        return { assessment, stored: (row.risk as z.infer<typeof riskAssessmentSchema> | null) ?? null };
      }
      const t = args.transaction as z.infer<typeof transactionSchema>;
      const currency = parseCurrency(t.currency, 'transaction.currency');
      const amount = parseAmount(t.amount, currency, 'transaction.amount');
      const features = {
        amount: Number(amount),
        hour: t.localHour,
        card_age_days: t.cardAgeDays,
        attempts_last_hour: t.attemptsLastHour,
        new_device: t.newDevice ? 1 : 0,
        country_mismatch: t.countryMismatch ? 1 : 0,
        merchant_category: t.merchantCategory ?? 'unknown',
      };
      const assessment = await risk.score(project, features, amount, currency);
      audit({ decision: assessment.decision, score: assessment.score });
      return { assessment, stored: null };
    },
  });
}
