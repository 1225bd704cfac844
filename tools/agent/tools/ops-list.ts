import { AnvilError, ErrorCodes, z, type ToolSpec } from 'anvil/plugin';
import type { AgentRuntime } from '../../../graphs/agent/runtime.ts';
import { AGENT_SCOPES } from './schemas.ts';

const input = z
  .object({
    threadId: z.string().min(1).max(100).optional(),
    status: z.enum(['planned', 'running', 'waiting_approval', 'succeeded', 'failed', 'rejected', 'canceled']).optional(),
    limit: z.number().int().min(1).max(100).optional().describe('Page size (default 20)'),
    cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
  })
  .strict();
const output = z.object({
  runs: z.array(z.object({ runId: z.string(), threadId: z.string(), command: z.string(), planner: z.string(), status: z.string(), dryRun: z.boolean(), steps: z.number().int(), createdAt: z.string() })),
  nextCursor: z.string().nullable(),
});

function decodeCursor(cursor: string): { at: string; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!at || !id || Number.isNaN(Date.parse(at)) || !/^[0-9a-f-]{36}$/i.test(id)) throw new AnvilError(ErrorCodes.INVALID_INPUT, 'cursor: expected the nextCursor of a previous ops_list page');
  return { at, id };
}

export function opsListTool(runtime: () => AgentRuntime): ToolSpec<typeof input, typeof output> {
  return {
    name: 'ops_list',
    title: 'List agent runs',
    description: "This project's runs of the ops agent, newest first, a page at a time.",
    input,
    output,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: [AGENT_SCOPES.read],
    async handler(args, { project }) {
      const limit = args.limit ?? 20;
      const rows = await runtime().store.list(project, { ...(args.threadId ? { threadId: args.threadId } : {}), ...(args.status ? { status: args.status } : {}), ...(args.cursor ? { after: decodeCursor(args.cursor) } : {}), limit: limit + 1 });
      const page = rows.slice(0, limit);
      const iso = (value: Date | string) => (value instanceof Date ? value.toISOString() : new Date(value).toISOString());
      const last = page.at(-1);
      return {
        runs: page.map((row) => ({ runId: row.id, threadId: row.thread_id, command: row.command, planner: row.planner, status: row.status, dryRun: row.dry_run, steps: row.plan.steps.length, createdAt: iso(row.created_at) })),
        nextCursor: rows.length > limit && last ? Buffer.from(`${iso(last.created_at)}|${last.id}`).toString('base64url') : null,
      };
    },
  };
}
