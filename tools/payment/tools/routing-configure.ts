import { z, type ToolSpec } from 'anvil/plugin';
import { routingConfigSchema } from '../routing/policy.ts';
import type { PaymentsRuntime } from '../runtime.ts';
import { guarded } from './common.ts';

const output = z.object({ config: routingConfigSchema });

export function routingConfigureTool(runtime: () => PaymentsRuntime): ToolSpec<typeof routingConfigSchema, typeof output> {
  return guarded({
    name: 'routing_configure',
    title: 'Set payment routing rules',
    description:
      'Replaces the project\'s routing config: ordered rules (the first whose `when` matches currency, method, country, merchant category and amount range decides), each restricting ' +
      'connectors and optionally splitting volume by weight; payments no rule splits go by success rate per segment (Thompson sampling, degraded connectors eliminated).',
    input: routingConfigSchema,
    output,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['payments:admin'],
    async handler(args, { project, principal, audit }) {
      const config = await runtime().routing.configure(project, args, principal.id);
      audit({ rules: config.rules.length });
      return { config };
    },
  });
}
