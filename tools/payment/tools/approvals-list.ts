import { z, type ToolSpec } from 'anvil/plugin';
import type { PaymentsRuntime } from '../runtime.ts';
import { guarded, limitSchema } from './common.ts';
import { approvalSchema } from './mandate-schemas.ts';

const input = z.object({ state: z.enum(['pending', 'approved', 'denied']).optional(), kind: z.string().max(40).optional(), limit: limitSchema }).strict();
const output = z.object({ approvals: z.array(approvalSchema) });

export function approvalsListTool(runtime: () => PaymentsRuntime): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'approvals_list',
    title: 'List approvals',
    description: 'Approvals waiting for (or given by) a person, newest first: kind (e.g. "payment"), subject, the hash of exactly what is approved, and its summary.',
    input,
    output,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['approvals:read'],
    async handler(args, { project }) {
      return { approvals: await runtime().approvals.list(project, { ...args, limit: args.limit ?? 50 }) };
    },
  });
}
