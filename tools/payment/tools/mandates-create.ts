import { z, type ToolSpec } from 'anvil/plugin';
import { PERIODS } from '../mandates/service.ts';
import type { PaymentsRuntime } from '../runtime.ts';
import { amountSchema, currencySchema, guarded, idempotencyKeySchema } from './common.ts';
import { mandateSchema } from './mandate-schemas.ts';

const input = z
  .object({
    grantee: z.string().regex(/^(key|local):[A-Za-z0-9._-]{1,100}$/, 'a principal id such as "key:<key id>" (whoami shows it)').describe('The principal that may pay under this mandate'),
    currency: currencySchema,
    maxPerPayment: amountSchema,
    maxPerPeriod: amountSchema,
    period: z.enum(PERIODS),
    payees: z.array(z.string().min(1).max(200)).min(1).max(100).optional().describe('Only these payees (default: any)'),
    categories: z.array(z.string().regex(/^\d{4}$/)).min(1).max(100).optional().describe('Only these merchant category codes (default: any)'),
    expiresAt: z.string().max(40).describe('ISO 8601 time after which it allows nothing'),
    approvalAbove: amountSchema.optional().describe('Payments above this wait for a person to approve them'),
    idempotencyKey: idempotencyKeySchema,
  })
  .strict();
const output = z.object({ mandate: mandateSchema, created: z.boolean() });

export function mandatesCreateTool(runtime: () => PaymentsRuntime): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'mandates_create',
    title: 'Grant a spending mandate',
    description:
      'Lets a principal (an agent key) pay within limits: per payment, per period (day, week, month or total), payees, merchant categories, until expiresAt; above approvalAbove a person ' +
      'must approve each payment. Enforced on the server: a principal holding a mandate can only pay under one, and concurrent payments never exceed its cap. Needs payments:admin (a person).',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['payments:admin'],
    async handler(args, { project, principal, audit }) {
      const result = await runtime().mandates.create(project, args, principal.id);
      audit({ mandateId: result.mandate.id, grantee: args.grantee, created: result.created });
      return result;
    },
  });
}
