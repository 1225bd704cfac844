import { z, type ToolSpec } from 'anvil/plugin';
import type { PaymentsRuntime } from '../runtime.ts';
import { guarded } from './common.ts';
import { approvalSchema } from './mandate-schemas.ts';

const input = z.object({ id: z.string().min(1).max(64), decision: z.enum(['approve', 'deny']), reason: z.string().max(500).optional() }).strict();
const output = z.object({ approval: approvalSchema });

export function approvalsDecideTool(runtime: () => PaymentsRuntime): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'approvals_decide',
    title: 'Approve or deny',
    description: 'Approves or denies a pending approval, once; never by the principal that asked for it. An approved payment is then executed by confirming it with the same preview hash.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['approvals:write'],
    async handler(args, { project, principal, audit }) {
      const approval = await runtime().approvals.decide(project, args.id, args.decision, principal.id, args.reason);
      audit({ approvalId: approval.id, decision: args.decision, kind: approval.kind, subject: approval.subject });
      return { approval };
    },
  });
}
