/** What the agent runtime needs from its host (the `agent` plugin wires these to Anvil). */
import type { CallerPrincipal, Logger, PluginSql, ToolInvoker } from 'anvil/plugin';
import type { Planner } from '../plan.ts';
import type { ApprovalPolicy } from './policy.ts';

export type ApprovalState = 'pending' | 'approved' | 'denied';

export interface GateApproval {
  readonly id: string;
  readonly state: ApprovalState;
  readonly hash: string;
  readonly decidedBy: string | null;
  readonly reason: string | null;
}

/** Approvals, as the approvals plugin keeps them (kind `agent-step`, subject `<runId>/<stepId>`). */
export interface ApprovalGate {
  /** The approval of exactly these arguments (by hash): the one asked before, or a new pending one. */
  approvalFor(request: { project: string; subjectId: string; argsHash: string; summary: Record<string, unknown>; requestedBy: string }): Promise<GateApproval>;
  get(project: string, id: string): Promise<GateApproval | undefined>;
  /** Records a decision a person gave in the chat (through `ask`); `by` names them. */
  decide(project: string, id: string, decision: 'approve' | 'deny', by: string, reason?: string): Promise<GateApproval>;
}

/** What a person is asked when a step waits for approval (the summary and the hash it binds). */
export interface ApprovalQuestion {
  readonly runId: string;
  readonly stepId: string;
  readonly approvalId: string;
  readonly tool: string;
  readonly args: Record<string, unknown>;
  readonly argsHash: string;
  readonly why: string;
  readonly risk: string;
  readonly command: string;
}

/**
 * The elicitation seam: asks a person in the chat (MCP elicitation, wired by the host at merge).
 * `undefined` means the client cannot ask (or nobody answered): the run waits for approvals_decide.
 * A decision is recorded in the approvals table as given by `elicitation:<principal id>`.
 */
export type AskApproval = (question: ApprovalQuestion, principal: CallerPrincipal, signal: AbortSignal) => Promise<'approve' | 'deny' | undefined>;

/**
 * What one `ops_ask` call brings besides its principal: planners that only this caller's client
 * can serve (MCP sampling through its model), and a way to ask its person for an approval while
 * the call is open (MCP elicitation). Both are gone once the call has answered.
 */
export interface CallSession {
  readonly planners?: readonly Planner[];
  readonly ask?: AskApproval;
}

export interface AgentRuntimeOptions {
  readonly sql: PluginSql;
  readonly tools: ToolInvoker;
  readonly approvals: ApprovalGate;
  /** Read at each `ask`, best first (planners may be contributed after the agent registered); the call's own come first. */
  readonly planners: (session: CallSession) => readonly Planner[];
  /** The planner to prefer by name (else the first available). */
  readonly preferredPlanner?: string;
  readonly policy: ApprovalPolicy;
  readonly log: Logger;
  /** Told after every change of a run (the plugin sends resource updates). */
  readonly onChange: (runId: string) => void;
  /** Who this server is, for run leases. */
  readonly owner: string;
  readonly leaseMs: number;
  /** How long `ask` waits for a run to settle (finished, waiting for approval) before answering. */
  readonly settleMs: number;
  readonly ask?: AskApproval;
}
