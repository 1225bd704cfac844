import { z, type ToolSpec } from 'anvil/plugin';
import type { Approvals } from '../service.ts';
import { approvalSchema } from './schemas.ts';

const input = z
  .object({
    state: z.enum(['pending', 'approved', 'denied']).optional(),
    kind: z.string().max(40).optional(),
    limit: z.number().int().min(1).max(200).optional().describe('Page size (default 50)'),
  })
  .strict();
const output = z.object({ approvals: z.array(approvalSchema) });

export function approvalsListTool(approvals: Approvals): ToolSpec<typeof input, typeof output> {
  return {
    name: 'approvals_list',
    title: 'List approvals',
    description:
      'Approvals waiting for (or given by) a person, newest first: kind ("payment", "agent-step"), subject, the hash of exactly what is approved, and its summary.',
    input,
    output,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['approvals:read'],
    async handler(args, { project }) {
      return { approvals: await approvals.list(project, { ...args, limit: args.limit ?? 50 }) };
    },
  };
}
