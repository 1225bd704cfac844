import { AnvilError, ErrorCodes, z, type ToolSpec } from 'anvil/plugin';
import type { AgentRuntime } from '../../../graphs/agent/runtime.ts';
import { AGENT_SCOPES, runIdSchema, runSchema } from './schemas.ts';

const input = z.object({ runId: runIdSchema }).strict();

export function opsCancelTool(runtime: () => AgentRuntime): ToolSpec<typeof input, typeof runSchema> {
  return {
    name: 'ops_cancel',
    title: 'Cancel an agent run',
    description: 'Stops a run before its next step (a step already calling its tool finishes). A finished run is returned as it is.',
    input,
    output: runSchema,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: [AGENT_SCOPES.write],
    async handler({ runId }, { project, audit }) {
      const run = await runtime().cancel(project, runId);
      if (!run) throw new AnvilError(ErrorCodes.NOT_FOUND, `runId: no agent run "${runId}" in this project`, { details: { field: 'runId' } });
      audit({ runId, status: run.status });
      return run;
    },
  };
}
