import { AnvilError, ErrorCodes, z, type ToolSpec } from 'anvil/plugin';
import type { AgentRuntime } from '../../../graphs/agent/runtime.ts';
import type { WorkflowGraph } from '../../../graphs/workflows/types.ts';
import { AGENT_SCOPES, runSchema } from './schemas.ts';

const input = z
  .object({
    name: z.string().min(1).max(100).describe('A workflow from workflows_list, e.g. train_evaluate_promote'),
    params: z.record(z.string(), z.unknown()).default({}).describe("The workflow's parameters (workflows_list shows their schema)"),
    dryRun: z.boolean().optional().describe('Build and check the plan only'),
    threadId: z.string().min(1).max(100).regex(/^[A-Za-z0-9._:-]+$/).optional(),
  })
  .strict();

export function workflowsRunTool(runtime: () => AgentRuntime, graphs: () => ReadonlyMap<string, WorkflowGraph>): ToolSpec<typeof input, typeof runSchema> {
  return {
    name: 'workflows_run',
    title: 'Run a workflow',
    description:
      'Runs a named workflow graph (train_evaluate_promote, retrain_on_feedback, or one a plugin contributes) as an agent run: the same steps-as-you, approvals, checkpoints and once-only steps as ops_ask. Returns the run; watch it with ops_get or anvil://agent/runs/{runId}.',
    input,
    output: runSchema,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    scopes: [AGENT_SCOPES.write],
    async handler(args, { principal, audit }) {
      const graph = graphs().get(args.name);
      if (!graph) throw new AnvilError(ErrorCodes.NOT_FOUND, `name: no workflow "${args.name}"; workflows_list shows what there is`, { details: { field: 'name' } });
      const parsed = graph.params.safeParse(args.params);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new AnvilError(ErrorCodes.INVALID_INPUT, `params.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`, { details: { field: `params.${issue?.path.join('.') ?? ''}` } });
      }
      const command = `workflow ${args.name}`;
      const plan = { command, planner: `workflow:${args.name}`, steps: graph.steps(parsed.data), unresolved: [], confidence: 1 };
      const run = await runtime().runPlan(principal, plan, { command, dryRun: args.dryRun ?? false, ...(args.threadId ? { threadId: args.threadId } : {}) });
      audit({ runId: run.runId, workflow: args.name, status: run.status });
      return run;
    },
  };
}
