import { AnvilError, ErrorCodes, z, type ToolSpec } from 'anvil/plugin';
import type { AgentRuntime } from '../../../graphs/agent/runtime.ts';
import { AGENT_SCOPES, runIdSchema, runSchema } from './schemas.ts';

const input = z.object({ runId: runIdSchema }).strict();

export function opsGetTool(runtime: () => AgentRuntime): ToolSpec<typeof input, typeof runSchema> {
  return {
    name: 'ops_get',
    title: 'Get an agent run',
    description: 'A run of the ops agent: its plan, status, which steps wait for approval, and each step’s result.',
    input,
    output: runSchema,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: [AGENT_SCOPES.read],
    async handler({ runId }, { project }) {
      const run = await runtime().view(project, runId);
      if (!run) throw new AnvilError(ErrorCodes.NOT_FOUND, `runId: no agent run "${runId}" in this project`, { details: { field: 'runId' } });
      return run;
    },
  };
}
