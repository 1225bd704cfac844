/**
 * The LLM planners: a configured chat endpoint (OpenAI-compatible by default, or a provider from
 * the `llmProviders` extension point) and MCP sampling through the calling client's model. Both
 * produce the plan of graphs/plan.ts through the same checks (catalog only, arguments against the
 * tool's JSON Schema, risk from graphs/risk.ts). See docs/agent.md, "LLM planners".
 */
import { isAnvilError, type ClientCapabilities } from 'anvil/plugin';
import type { Plan, Planner, PlanningContext } from '../../plan.ts';
import type { RiskOptions } from '../../risk.ts';
import { createSamplingPlanner, type SampleFunction } from './sampling-planner.ts';

export { createLlmPlanner, type LlmPlannerOptions } from './chat-planner.ts';
export { createSamplingPlanner, type SampleFunction, type SamplingPlannerOptions } from './sampling-planner.ts';
export {
  createConfiguredPlanner,
  llmConfigSchema,
  openAiCompatibleProvider,
  OPENAI_COMPATIBLE,
  type ConfiguredPlannerOptions,
  type LlmConfig,
  type LlmModelConfig,
  type LlmProvider,
} from './provider.ts';
export { planFromToolCalls, type ModelToolCall, type StepsInput } from './steps.ts';
export { checkArgs, type ArgIssue } from './arguments.ts';
export { CLARIFY_TOOL, DECLINE_TOOL, toolDefinitions, systemPrompt } from './prompt.ts';

export interface PlannerCandidates {
  /** The planner of the configured `llm` section, when there is one. */
  readonly configured?: Planner;
  /** The calling client (a tool's `context.clientCapabilities` and `context.sample`). */
  readonly client?: { readonly capabilities: ClientCapabilities; readonly sample: SampleFunction };
  readonly offline: Planner;
  readonly risk?: RiskOptions;
}

/**
 * The planners to try for one run, best first: the configured endpoint, then sampling when the
 * client declared it (with tools when it declared `sampling.tools`), then the offline planner.
 */
export function plannersFor(candidates: PlannerCandidates): Planner[] {
  const planners: Planner[] = [];
  if (candidates.configured) planners.push(candidates.configured);
  const sampling = candidates.client?.capabilities.sampling;
  if (candidates.client && sampling) {
    planners.push(createSamplingPlanner({ sample: candidates.client.sample, toolUse: sampling.tools !== undefined, ...(candidates.risk ? { risk: candidates.risk } : {}) }));
  }
  planners.push(candidates.offline);
  return planners;
}

export interface PlannedWithFallback {
  readonly plan: Plan;
  /** Planners that failed before the one that planned, with their stable code and message. */
  readonly skipped: ReadonlyArray<{ readonly planner: string; readonly code: string; readonly message: string }>;
}

/**
 * Plans with the first planner that answers: an endpoint that is down (ANVIL_E_UPSTREAM_FAILED) or
 * a client that cannot sample (ANVIL_E_CLIENT_CAPABILITY) moves on to the next; anything else, and
 * the last planner's failure, is thrown. An abort is thrown at once.
 */
export async function planWithFallback(planners: readonly Planner[], command: string, context: PlanningContext): Promise<PlannedWithFallback> {
  const skipped: Array<{ planner: string; code: string; message: string }> = [];
  for (const [index, planner] of planners.entries()) {
    try {
      return { plan: await planner.plan(command, context), skipped };
    } catch (error) {
      const last = index === planners.length - 1;
      const movesOn = isAnvilError(error, 'ANVIL_E_UPSTREAM_FAILED') || isAnvilError(error, 'ANVIL_E_CLIENT_CAPABILITY');
      if (context.signal.aborted || last || !movesOn) throw error;
      skipped.push({ planner: planner.name, code: error.code, message: error.message });
    }
  }
  throw new Error('planWithFallback needs at least one planner');
}
