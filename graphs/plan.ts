/**
 * What every planner produces and the agent runtime executes: typed steps over Anvil's own tools.
 * Planners (an OpenAI-compatible endpoint, MCP sampling, the offline intent model) differ only in
 * how they get here; the runtime, approvals and the bench read nothing else. No MCP in here.
 */
import type { ToolDescription } from 'anvil/plugin';

/** How much a step can hurt: `destructive` and `spend` always wait for a person's approval. */
export type StepRisk = 'read' | 'write' | 'destructive' | 'spend';

/**
 * A value taken from an earlier step's structured result when this step runs:
 * `{ $ref: 's1.modelId' }` reads `structuredContent.modelId` of step `s1`.
 */
export interface StepRef {
  readonly $ref: string;
}

/** An argument value: JSON, where any value may be a reference to an earlier step's result. */
export type ArgValue = string | number | boolean | null | StepRef | readonly ArgValue[] | { readonly [key: string]: ArgValue };

export type ComparisonOp = 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'ne';

/** A step with a condition runs only when it holds; otherwise it is recorded as skipped with why. */
export interface StepCondition {
  readonly left: ArgValue;
  readonly op: ComparisonOp;
  readonly right: ArgValue;
  /** Said to the person: "the candidate's accuracy beats the champion's". */
  readonly describe: string;
}

export interface PlanStep {
  /** `s1`, `s2`, …: unique within the plan, referenced by later steps. */
  readonly id: string;
  /** A tool from the caller's own catalog (never one the caller could not call). */
  readonly tool: string;
  readonly args: { readonly [key: string]: ArgValue };
  readonly why: string;
  readonly risk: StepRisk;
  readonly when?: StepCondition;
  /**
   * For tools that start long work (a job): wait until the work is finished before later steps run,
   * polling this read tool with these args (references allowed) until `until` holds. In `until`,
   * `{ $ref: 'poll.<field>' }` reads the latest poll's structured result (the offline planner
   * waits for a job with `jobs_get` until `poll.state` eq `succeeded`).
   */
  readonly waitFor?: {
    readonly tool: string;
    readonly args: { readonly [key: string]: ArgValue };
    /** `{ $ref: 'wait.state' }` reads the latest poll's structured result. */
    readonly until: StepCondition;
    /** When this holds instead (e.g. the job failed), the step fails at once rather than waiting out its time. */
    readonly failWhen?: StepCondition;
    readonly timeoutMs?: number;
  };
}

/** Something the command names that could not be found (yet); a dry run reports it instead of failing. */
export interface UnresolvedSlot {
  readonly step: string;
  readonly field: string;
  /** The words of the command it came from ("the intent model"). */
  readonly mention: string;
  readonly reason: string;
}

export interface Plan {
  readonly command: string;
  /** Which planner made it (`openai:<model>`, `sampling`, `offline`), reported in the run. */
  readonly planner: string;
  readonly steps: readonly PlanStep[];
  readonly unresolved: readonly UnresolvedSlot[];
  /** 0..1: the planner's confidence; offline plans under its threshold come back empty. */
  readonly confidence: number;
  /** Why the plan is empty (outside Anvil's skills, too vague, low confidence). */
  readonly reason?: string;
  /** A clarifying question when the command was too vague to plan. */
  readonly question?: string;
}

/** What a thread remembers between commands, so "it", "that job", "the last model" resolve. */
export interface ThreadMemory {
  readonly lastJobId?: string;
  readonly lastModel?: { readonly name: string; readonly version?: number };
  readonly lastDataset?: { readonly name: string; readonly version?: number };
  readonly lastDeployment?: string;
  readonly lastKnowledgeBase?: string;
  readonly lastPaymentId?: string;
  /** Earlier commands of the thread, oldest first (bounded). */
  readonly commands: readonly string[];
}

/** Looks names up in the caller's project (registry, datasets, deployments, knowledge bases). */
export interface EntityResolver {
  model(name: string): Promise<{ name: string; version?: number } | undefined>;
  dataset(name: string): Promise<{ name: string; version?: number } | undefined>;
  deployment(name: string): Promise<{ name: string } | undefined>;
  knowledgeBase(name: string): Promise<{ name: string } | undefined>;
  job(id: string): Promise<{ id: string; state: string } | undefined>;
}

export interface PlanningContext {
  /** The caller's own catalog (`ctx.tools.list(principal)`): a planner may use nothing else. */
  readonly tools: readonly ToolDescription[];
  readonly memory: ThreadMemory;
  readonly resolve: EntityResolver;
  readonly dryRun: boolean;
  readonly signal: AbortSignal;
}

export interface Planner {
  /** `offline`, `sampling`, `openai` — reported in the run. */
  readonly name: string;
  plan(command: string, context: PlanningContext): Promise<Plan>;
}
