import { z, type ToolSpec } from 'anvil/plugin';
import type { PaymentsRuntime } from '../runtime.ts';
import { guarded } from './common.ts';

const input = z
  .object({
    policy: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('connector'), connector: z.string().max(120) }).strict(),
        z.object({ type: z.literal('greedy') }).strict(),
        z.object({ type: z.literal('uniform') }).strict(),
        z.object({ type: z.literal('split'), weights: z.record(z.string().max(120), z.number().min(0).max(100)) }).strict(),
      ])
      .describe('The policy to evaluate: always one connector, greedy on estimated success rate, uniform, or a weighted split'),
    since: z.iso.datetime().optional().describe('Only decisions from this time on'),
  })
  .strict();
const output = z.object({
  decisions: z.number().int(),
  loggedSuccessRate: z.number().nullable().describe('What the routing that ran achieved'),
  ips: z.number().nullable().describe("Inverse-propensity estimate of the evaluated policy's success rate"),
  snips: z.number().nullable().describe('Self-normalized IPS (lower variance)'),
  effectiveSampleSize: z.number(),
  supported: z.number().int().describe('Decisions where the evaluated policy could have chosen what was chosen'),
});

export function routingEvaluateTool(runtime: () => PaymentsRuntime): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'routing_evaluate',
    title: 'Evaluate another routing policy offline',
    description: "Estimates another routing policy's success rate from the stored decisions (candidates, propensity, outcome) by inverse propensity scoring, without sending a payment.",
    input,
    output,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['payments:read'],
    async handler(args, { project }) {
      return runtime().routing.evaluate(project, args.policy, args.since);
    },
  });
}
