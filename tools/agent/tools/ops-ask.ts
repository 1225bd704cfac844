import { z, type ToolContext, type ToolSpec } from 'anvil/plugin';
import type { AgentRuntime } from '../../../graphs/agent/runtime.ts';
import type { AskApproval, CallSession } from '../../../graphs/agent/types.ts';
import { createSamplingPlanner } from '../../../graphs/planners/llm/index.ts';
import { askForDecision } from '../../approvals/index.ts';
import { AGENT_SCOPES, runSchema } from './schemas.ts';

const input = z
  .object({
    command: z.string().min(1).max(2_000).describe('What to do, in plain words: "retrain the intent model and roll it out to 10% if it beats the champion"'),
    dryRun: z.boolean().optional().describe('Plan only: return the steps and which need approval, run nothing'),
    threadId: z.string().min(1).max(100).regex(/^[A-Za-z0-9._:-]+$/, "letters, digits, '.', '_', ':' or '-'").optional().describe('A conversation: follow-ups in it resolve "it", "that job", "the last model"'),
  })
  .strict();

export function opsAskTool(runtime: () => AgentRuntime): ToolSpec<typeof input, typeof runSchema> {
  return {
    name: 'ops_ask',
    title: 'Ask the ops agent',
    description:
      "Plans a command as steps over the tools your key can call, then (unless dryRun) runs them as you. Steps of risk destructive or spend, or named by the operator's policy, wait for another person's approval (approvals_decide). Returns the run; watch anvil://agent/runs/{runId}.",
    input,
    output: runSchema,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    scopes: [AGENT_SCOPES.write],
    async handler(args, context) {
      const { principal, signal, audit } = context;
      const run = await runtime().ask(principal, { command: args.command, dryRun: args.dryRun ?? false, ...(args.threadId ? { threadId: args.threadId } : {}) }, signal, sessionOf(context));
      audit({ runId: run.runId, threadId: run.threadId, planner: run.planner, steps: run.plan.steps.map((step) => step.tool), status: run.status });
      return run;
    },
  };
}

/**
 * What this caller's client can do for the run while the call is open: plan with its own model (MCP
 * sampling) and put an approval question to its person (MCP elicitation, with the step, its
 * arguments and the hash the approval binds).
 */
function sessionOf(context: ToolContext): CallSession {
  const { sampling, elicitation } = context.clientCapabilities;
  const planners = sampling ? [createSamplingPlanner({ sample: (request, options) => context.sample(request, options), toolUse: sampling.tools !== undefined })] : [];
  const ask: AskApproval | undefined = elicitation
    ? (question, _principal, signal) =>
        askForDecision(
          context,
          `Step ${question.stepId} of "${question.command}" waits for your approval: ${question.tool} ${JSON.stringify(question.args)} — ${question.why} ` +
            `(risk ${question.risk}; the approval binds argument hash ${question.argsHash}).`,
          'this exact step',
          signal,
        )
    : undefined;
  return { planners, ...(ask ? { ask } : {}) };
}
