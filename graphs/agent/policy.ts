/**
 * What a plan may contain and which steps wait for a person. A plan may use only tools the caller
 * could call itself (their catalog as `ctx.tools.list(principal)` shows it), never the agent's own
 * tools nor the approvals tools (the agent must not decide its own approvals).
 */
import { AnvilError, ErrorCodes, type ToolDescription } from 'anvil/plugin';
import type { Plan, PlanStep, StepRisk } from '../plan.ts';
import { referencedSteps } from './refs.ts';

/** Plugins whose tools never appear in a plan. */
const UNPLANNABLE_PLUGINS: ReadonlySet<string> = new Set(['agent', 'approvals']);
export const MAX_PLAN_STEPS = 50;

export interface ApprovalPolicy {
  /** Tools (names, or prefixes ending in `*`) that always wait for a person, whatever their risk. */
  readonly approvalTools: readonly string[];
}

export function plannableTools(catalog: readonly ToolDescription[]): ToolDescription[] {
  return catalog.filter((tool) => !UNPLANNABLE_PLUGINS.has(tool.pluginId));
}

function matches(patterns: readonly string[], name: string): boolean {
  return patterns.some((pattern) => (pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name));
}

/** The step's risk, raised to `destructive` when the tool itself says it is (planners can be wrong). */
export function effectiveRisk(step: PlanStep, tool: ToolDescription | undefined): StepRisk {
  if (step.risk === 'destructive' || step.risk === 'spend') return step.risk;
  return tool?.annotations.destructiveHint === true && tool.annotations.readOnlyHint !== true ? 'destructive' : step.risk;
}

export function needsApproval(step: PlanStep, tool: ToolDescription | undefined, policy: ApprovalPolicy): boolean {
  const risk = effectiveRisk(step, tool);
  return risk === 'destructive' || risk === 'spend' || matches(policy.approvalTools, step.tool);
}

/**
 * Refuses a plan naming a tool outside `catalog` (ANVIL_E_FORBIDDEN), and a malformed one: duplicate
 * step ids, references to a step that does not come earlier, too many steps (ANVIL_E_INVALID_INPUT).
 */
export function validatePlan(plan: Plan, catalog: readonly ToolDescription[]): void {
  const callable = new Map(plannableTools(catalog).map((tool) => [tool.name, tool]));
  if (plan.steps.length > MAX_PLAN_STEPS) throw new AnvilError(ErrorCodes.INVALID_INPUT, `plan: ${plan.steps.length} steps; at most ${MAX_PLAN_STEPS}`);
  const seen = new Set<string>();
  for (const step of plan.steps) {
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(step.id) || seen.has(step.id)) {
      throw new AnvilError(ErrorCodes.INVALID_INPUT, `plan: step id "${step.id}" must be unique, 1-40 letters, digits, '_' or '-'`);
    }
    for (const tool of [step.tool, ...(step.waitFor ? [step.waitFor.tool] : [])]) {
      if (!callable.has(tool)) {
        throw new AnvilError(ErrorCodes.FORBIDDEN, `plan: step ${step.id} uses tool "${tool}", which this caller cannot call (or the agent may not); the plan is refused`, {
          details: { step: step.id, tool, reason: 'tool_not_callable' },
        });
      }
    }
    const refs = [
      ...referencedSteps(step.args),
      ...(step.when ? [...referencedSteps(step.when.left), ...referencedSteps(step.when.right)] : []),
    ];
    const waitRefs = step.waitFor ? [...referencedSteps(step.waitFor.args), ...referencedSteps(step.waitFor.until.left), ...referencedSteps(step.waitFor.until.right)] : [];
    for (const ref of refs) if (!seen.has(ref)) throw new AnvilError(ErrorCodes.INVALID_INPUT, `plan: step ${step.id} refers to "${ref}", which is not an earlier step`);
    for (const ref of waitRefs) if (!seen.has(ref) && ref !== step.id && ref !== 'wait') throw new AnvilError(ErrorCodes.INVALID_INPUT, `plan: step ${step.id} waits on "${ref}", which is not this or an earlier step`);
    seen.add(step.id);
  }
}

export function approvalRequired(plan: Plan, catalog: readonly ToolDescription[], policy: ApprovalPolicy): string[] {
  const tools = new Map(catalog.map((tool) => [tool.name, tool]));
  return plan.steps.filter((step) => needsApproval(step, tools.get(step.tool), policy)).map((step) => step.id);
}
