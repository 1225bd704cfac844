import { z, type ToolSpec } from 'anvil/plugin';
import { parseAmount, parseCurrency } from '../money.ts';
import type { PaymentsRuntime } from '../runtime.ts';
import { amountSchema, currencySchema, guarded } from './common.ts';

const input = z
  .object({
    amount: amountSchema,
    currency: currencySchema,
    method: z.enum(['card']),
    country: z.string().regex(/^[A-Z]{2}$/).optional(),
    merchantCategory: z.string().regex(/^\d{4}$/).optional(),
  })
  .strict();
const candidate = z.object({
  connector: z.string(),
  estimate: z.number().describe('Posterior mean success rate in this segment'),
  observations: z.number().int(),
  recentRate: z.number().nullable(),
  fee: z.string().describe('Estimated fee in minor units'),
  eliminated: z.boolean().describe('Degraded: recent success rate under the threshold'),
  probability: z.number().describe('Probability it would be chosen'),
});
const output = z.object({ rule: z.string().nullable(), strategy: z.enum(['split', 'success_rate']), segment: z.string(), likely: z.string().nullable(), candidates: z.array(candidate) });

export function routingExplainTool(runtime: () => PaymentsRuntime): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'routing_explain',
    title: 'Explain where a payment would go',
    description: 'Which connector a payment like this would go to right now and why: the rule that decided, every candidate with its estimated success rate, fee and probability. Moves no money.',
    input,
    output,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['payments:read'],
    async handler(args, { project }) {
      const currency = parseCurrency(args.currency);
      const amount = parseAmount(args.amount, currency);
      const decision = await runtime().routing.explain(project, { amount, currency, method: args.method, country: args.country ?? null, merchantCategory: args.merchantCategory ?? null });
      const likely = decision.candidates.filter((c) => !c.eliminated).sort((a, b) => b.probability - a.probability)[0]?.connector ?? null;
      return { ...decision, likely };
    },
  });
}
