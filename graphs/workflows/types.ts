/**
 * A workflow graph: a named, parameterised plan of Anvil's tools (train → evaluate → promote, …),
 * contributed through the `graphs` extension point and run by the agent runtime like any plan —
 * the same approvals, checkpoints, leases and once-only steps.
 */
import type { ObjectSchema } from 'anvil/plugin';
import type { PlanStep } from '../plan.ts';

export interface WorkflowGraph {
  readonly description: string;
  /** Its parameters, validated before the graph is built. */
  readonly params: ObjectSchema;
  /** The steps for validated params (references between steps as in any plan). */
  steps(params: Record<string, unknown>): PlanStep[];
}

export function isWorkflowGraph(value: unknown): value is WorkflowGraph {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<WorkflowGraph>;
  return typeof candidate.description === 'string' && typeof candidate.steps === 'function' && typeof candidate.params === 'object' && candidate.params !== null;
}
