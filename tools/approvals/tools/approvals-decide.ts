import { z, type ToolSpec } from 'anvil/plugin';
import type { Approvals } from '../service.ts';
import { approvalSchema } from './schemas.ts';

const input = z.object({ id: z.string().min(1).max(64), decision: z.enum(['approve', 'deny']), reason: z.string().max(500).optional() }).strict();
const output = z.object({ approval: approvalSchema });

export function approvalsDecideTool(approvals: Approvals): ToolSpec<typeof input, typeof output> {
  return {
    name: 'approvals_decide',
    title: 'Approve or deny',
    description:
      'Approves or denies a pending approval, once; never by the principal that asked for it. An approved payment is then executed by confirming it with the same preview hash; an approved agent step runs (a denied one stops its run).',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['approvals:write'],
    async handler(args, { project, principal, audit }) {
      const approval = await approvals.decide(project, args.id, args.decision, principal.id, args.reason);
      audit({ approvalId: approval.id, decision: args.decision, kind: approval.kind, subject: approval.subject });
      return { approval };
    },
  };
}
