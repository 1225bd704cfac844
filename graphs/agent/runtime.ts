/**
 * The agent runtime: plans a command with a planner, checks the plan against the caller's catalog,
 * and drives the run graph (graph.ts) under a lease, step by step, each step a tool call as the
 * caller. Steps that need a person wait on the approvals plugin; runs survive restarts through the
 * checkpointer and the run_steps record (a finished step is never called again; a started one is
 * called again only with the same idempotency key, or when the tool is idempotent).
 */
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, interrupt } from '@langchain/langgraph';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { AnvilError, ErrorCodes, type CallerPrincipal, type ToolDescription, type ToolResult } from 'anvil/plugin';
import type { Plan, PlanStep, Planner } from '../plan.ts';
import { planWithFallback } from '../planners/llm/index.ts';
import { argsHash } from './canonical.ts';
import { buildRunGraph, type RunStateUpdate, type RunStateValue } from './graph.ts';
import { rememberCommand, rememberStep } from './memory.ts';
import { approvalRequired, needsApproval, effectiveRisk, plannableTools, validatePlan } from './policy.ts';
import { conditionHolds, referencedSteps, resolveArgs, resolveValue } from './refs.ts';
import { toolResolver } from './resolver.ts';
import { AgentStore, FINAL_STATUSES, type RunRow, type RunStatus } from './store.ts';
import type { AgentRuntimeOptions, AskApproval, CallSession } from './types.ts';
import { runView, type RunView } from './view.ts';

/** LangGraph counts each pass through `step` (one per plan step, plus one per wake-up). */
const RECURSION_LIMIT = 10_000;
const WAIT_POLL_MS = 1_000;
const DEFAULT_WAIT_TIMEOUT_MS = 60 * 60_000;

export interface AskInput {
  command: string;
  dryRun: boolean;
  threadId?: string;
}

function errorOf(result: ToolResult): { code: string; message: string } {
  const meta = result._meta?.['dev.anvil/error'] as { code?: string } | undefined;
  const text = result.content.map((part) => (part.type === 'text' ? part.text : '')).join(' ').slice(0, 1_000);
  return { code: meta?.code ?? ErrorCodes.INTERNAL, message: text || 'the tool failed without a message' };
}

function structured(result: ToolResult): unknown {
  if (result.structuredContent !== undefined) return result.structuredContent;
  return { text: result.content.map((part) => (part.type === 'text' ? part.text : '')).join('\n').slice(0, 10_000) };
}

function acceptsIdempotencyKey(tool: ToolDescription): boolean {
  const properties = tool.inputSchema.properties;
  return typeof properties === 'object' && properties !== null && 'idempotencyKey' in properties;
}

/** Derived from run and step: the same on every server and after every restart. */
export function stepIdempotencyKey(runId: string, stepId: string): string {
  return `agent-${createHash('sha256').update(`${runId}/${stepId}`).digest('hex').slice(0, 32)}`;
}

export class AgentRuntime {
  readonly store: AgentStore;
  private readonly saver: PostgresSaver;
  private readonly graph: ReturnType<typeof buildRunGraph>;
  private readonly active = new Map<string, Promise<void>>();
  private readonly closing = new AbortController();
  /** Runs started by an `ops_ask` call still open, and how to ask that call's client for approvals. */
  private readonly chatAsk = new Map<string, AskApproval>();
  /** Questions put to a caller's client that have not been answered yet. */
  private readonly chatPending = new Map<string, Promise<void>>();
  private readonly wakeAgain = new Set<string>();

  constructor(private readonly options: AgentRuntimeOptions) {
    this.store = new AgentStore(options.sql);
    // The saver's tables were made by the plugin's migration (never saver.setup() on every server).
    this.saver = new PostgresSaver(options.sql.pool(), undefined, { schema: options.sql.schema });
    this.graph = buildRunGraph((state) => this.step(state), this.saver);
  }

  /** Stops driving runs: the ones in flight keep their checkpoint and lease expiry, and resume elsewhere or later. */
  async close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled([...this.active.values()]);
  }

  /** The planners to try, best first: the operator's choice alone when one is named, else all of them. */
  private plannersFor(session: CallSession): readonly Planner[] {
    const planners = this.options.planners(session);
    const preferred = this.options.preferredPlanner ? planners.filter((planner) => planner.name === this.options.preferredPlanner) : planners;
    if (preferred.length === 0) {
      throw new AnvilError(ErrorCodes.TOOL_UNAVAILABLE, 'ops_ask: no planner is configured on this server (offline, an OpenAI-compatible endpoint or MCP sampling); nothing can be planned', {
        details: { reason: 'no_planner', ...(this.options.preferredPlanner ? { preferred: this.options.preferredPlanner } : {}) },
      });
    }
    return preferred;
  }

  async ask(principal: CallerPrincipal, input: AskInput, signal: AbortSignal, session: CallSession = {}): Promise<RunView> {
    const project = principal.project;
    const threadId = input.threadId ?? randomUUID();
    const planners = this.plannersFor(session);
    const catalog = plannableTools(await this.options.tools.list(principal));
    const memory = await this.store.memory(project, threadId);
    const context = { tools: catalog, memory, resolve: toolResolver(this.options.tools, principal, signal), dryRun: input.dryRun, signal };
    const { plan, skipped } = await planWithFallback(planners, input.command, context);
    if (skipped.length > 0) this.options.log.info({ skipped }, 'planners skipped before one answered');
    return this.start(principal, { ...plan, command: input.command }, { ...input, threadId }, catalog, session);
  }

  /**
   * Starts a run of a plan made elsewhere (a workflow graph): checked against the caller's catalog
   * exactly like a planner's, then driven the same way.
   */
  async runPlan(principal: CallerPrincipal, plan: Plan, input: AskInput): Promise<RunView> {
    const catalog = plannableTools(await this.options.tools.list(principal));
    return this.start(principal, plan, { ...input, threadId: input.threadId ?? randomUUID() }, catalog);
  }

  private async start(principal: CallerPrincipal, stamped: Plan, input: AskInput & { threadId: string }, catalog: ToolDescription[], session: CallSession = {}): Promise<RunView> {
    const project = principal.project;
    const threadId = input.threadId;
    validatePlan(stamped, catalog);
    const runId = randomUUID();
    const status: RunStatus = input.dryRun ? 'planned' : stamped.steps.length === 0 ? 'succeeded' : 'running';
    const run = await this.store.insert({ id: runId, project, threadId, command: input.command, plan: stamped, status, dryRun: input.dryRun, principal, approvalRequired: approvalRequired(stamped, catalog, this.options.policy) });
    await this.store.updateMemory(project, threadId, (current) => rememberCommand(current, input.command));
    this.options.onChange(runId);
    if (status === 'running') {
      // While this call is open its client may be asked for approvals in the chat.
      if (session.ask) this.chatAsk.set(runId, session.ask);
      try {
        await this.settle(runId, Date.now() + this.options.settleMs);
      } finally {
        this.chatAsk.delete(runId);
      }
    }
    return (await this.view(project, run.id)) as RunView;
  }

  /**
   * Waits until the run finishes or pauses, or `deadline`. A pause for a question put to this
   * call's client is waited out too: the answer wakes the run, which is then driven on.
   */
  private async settle(runId: string, deadline: number): Promise<void> {
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      const timer = sleep(left, undefined, { signal: this.closing.signal }).catch(() => undefined);
      await Promise.race([this.active.get(runId) ?? this.drive(runId), timer]);
      const pending = this.chatPending.get(runId);
      if (!pending) {
        // Driven on already (an answer from the chat that came in while it was pausing): follow it.
        if (this.active.has(runId)) continue;
        return;
      }
      await Promise.race([pending, sleep(Math.max(0, deadline - Date.now()), undefined, { signal: this.closing.signal }).catch(() => undefined)]);
      if (this.chatPending.has(runId)) return;
      const after = await this.store.byId(runId);
      if (!after || FINAL_STATUSES.has(after.status)) return;
    }
  }

  async view(project: string, runId: string): Promise<RunView | undefined> {
    const run = await this.store.get(project, runId);
    return run ? runView(run, await this.store.steps(run.id)) : undefined;
  }

  async cancel(project: string, runId: string): Promise<RunView | undefined> {
    const canceled = await this.store.cancel(project, runId);
    if (canceled) this.options.onChange(canceled.id);
    return this.view(project, runId);
  }

  /**
   * Runs that were running with no live lease (their server died), and waiting runs whose approval
   * was decided: driven again here. Called at start and on a schedule.
   */
  async resumeDue(limit = 20): Promise<number> {
    let resumed = 0;
    for (const { id, status } of await this.store.resumable(limit)) {
      if (this.active.has(id)) continue;
      if (status === 'waiting_approval' && !(await this.approvalDecided(id))) continue;
      void this.drive(id);
      resumed += 1;
    }
    return resumed;
  }

  /** Wakes the run an approval belongs to (the approvals.decided event). */
  wake(runId: string): void {
    // A decision that lands while the run is still being driven (it has not reached its pause yet)
    // must not be lost: the drive runs once more when the current one ends.
    if (this.active.has(runId)) this.wakeAgain.add(runId);
    else void this.drive(runId);
  }

  private async approvalDecided(runId: string): Promise<boolean> {
    const run = await this.store.byId(runId);
    if (!run) return false;
    const waiting = (await this.store.steps(runId)).find((step) => step.state === 'waiting_approval' && step.approval_id);
    if (!waiting?.approval_id) return true;
    const approval = await this.options.approvals.get(run.project, waiting.approval_id);
    return approval === undefined || approval.state !== 'pending';
  }

  /** Drives a run under its lease until it finishes or waits; at most once at a time per process. */
  drive(runId: string): Promise<void> {
    const running = this.active.get(runId);
    if (running) return running;
    const work = this.driveLeased(runId)
      .catch((error: unknown) => this.options.log.warn({ err: error, runId }, 'could not drive an agent run; it is tried again on the next resume'))
      .finally(() => {
        this.active.delete(runId);
        if (this.wakeAgain.delete(runId)) void this.drive(runId);
      });
    this.active.set(runId, work);
    return work;
  }

  private async driveLeased(runId: string): Promise<void> {
    const { owner, leaseMs } = this.options;
    if (this.closing.signal.aborted || !(await this.store.takeLease(runId, owner, leaseMs))) return;
    const heartbeat = setInterval(() => void this.store.takeLease(runId, owner, leaseMs).catch(() => undefined), Math.max(100, Math.floor(leaseMs / 3)));
    heartbeat.unref();
    try {
      const config = { configurable: { thread_id: runId }, recursionLimit: RECURSION_LIMIT, signal: this.closing.signal };
      const snapshot = await this.graph.getState(config);
      if (snapshot.createdAt === undefined) await this.graph.invoke({ runId, index: 0, done: null }, config);
      else if (snapshot.tasks.some((task) => task.interrupts.length > 0)) await this.graph.invoke(new Command({ resume: { wokenAt: new Date().toISOString() } }), config);
      else if (snapshot.next.length > 0) await this.graph.invoke(null, config);
    } catch (error) {
      if (this.closing.signal.aborted) return;
      this.options.log.error({ err: error, runId }, 'agent run failed outside its steps');
      await this.store.setStatus(runId, 'failed', { code: ErrorCodes.INTERNAL, message: error instanceof Error ? error.message.slice(0, 500) : 'the run failed' });
      this.options.onChange(runId);
    } finally {
      clearInterval(heartbeat);
      await this.store.releaseLease(runId, owner).catch(() => undefined);
    }
  }

  private async end(run: RunRow, status: RunStatus, error?: { code: string; message: string; step?: string }): Promise<RunStateUpdate> {
    await this.store.setStatus(run.id, status, error);
    this.options.onChange(run.id);
    return { done: status };
  }

  /** One pass of the graph's node: the next unfinished step. Everything before the tool call is a read. */
  private async step(state: RunStateValue): Promise<RunStateUpdate> {
    const run = await this.store.byId(state.runId);
    if (!run) return { done: 'failed' };
    if (FINAL_STATUSES.has(run.status)) return { done: run.status };
    const steps = run.plan.steps;
    if (state.index >= steps.length) return this.end(run, 'succeeded');
    const step = steps[state.index] as PlanStep;
    const recorded = await this.store.steps(run.id);
    const record = recorded.find((row) => row.step_id === step.id);
    if (record?.state === 'succeeded' || record?.state === 'skipped') return { index: state.index + 1 };
    if (record?.state === 'failed') return this.end(run, 'failed', { ...(record.error ?? { code: ErrorCodes.INTERNAL, message: 'step failed' }), step: step.id });
    if (record?.state === 'rejected') return this.end(run, 'rejected', { code: 'approval_denied', message: `step ${step.id} was not approved`, step: step.id });

    const results = new Map(recorded.filter((row) => row.state === 'succeeded').map((row) => [row.step_id, row.result]));
    let principal: CallerPrincipal;
    try {
      principal = await this.options.tools.refresh(run.principal);
    } catch (error) {
      const code = error instanceof AnvilError ? error.code : ErrorCodes.UNAUTHENTICATED;
      return this.end(run, 'failed', { code, message: `the key this run acts for can no longer be used: ${error instanceof Error ? error.message : 'refused'}`, step: step.id });
    }
    const skipped = recorded.filter((row) => row.state === 'skipped').map((row) => row.step_id);
    const dependsOnSkipped = [...referencedSteps(step.args), ...(step.when ? [...referencedSteps(step.when.left), ...referencedSteps(step.when.right)] : [])].find((id) => skipped.includes(id));
    if (dependsOnSkipped) {
      await this.store.skipStep(run.id, step.id, `it depends on step ${dependsOnSkipped}, which was skipped`);
      this.options.onChange(run.id);
      return { index: state.index + 1 };
    }
    let args: Record<string, unknown>;
    try {
      if (step.when && !conditionHolds(step.when, results)) {
        await this.store.skipStep(run.id, step.id, `condition did not hold: ${step.when.describe}`);
        this.options.onChange(run.id);
        return { index: state.index + 1 };
      }
      args = resolveArgs(step.args, results);
    } catch (error) {
      return this.failStep(run, step, { code: error instanceof AnvilError ? error.code : ErrorCodes.INVALID_INPUT, message: error instanceof Error ? error.message : 'bad reference' });
    }
    const tool = (await this.options.tools.list(principal)).find((each) => each.name === step.tool);
    if (!tool) return this.failStep(run, step, { code: ErrorCodes.FORBIDDEN, message: `${step.tool}: the caller can no longer call this tool` });
    const hash = argsHash(args);

    if (needsApproval(step, tool, this.options.policy)) {
      const approval = await this.options.approvals.approvalFor({
        project: run.project,
        subjectId: `${run.id}/${step.id}`,
        argsHash: hash,
        requestedBy: run.requested_by,
        summary: { runId: run.id, step: step.id, tool: step.tool, args, why: step.why, risk: effectiveRisk(step, tool), command: run.command },
      });
      if (approval.state === 'denied') {
        await this.store.markStep(run.id, step.id, 'waiting_approval', args, hash, { approvalId: approval.id });
        await this.store.finishStep(run.id, step.id, 'rejected', undefined, { code: 'approval_denied', message: `denied by ${approval.decidedBy ?? 'a person'}${approval.reason ? `: ${approval.reason}` : ''}` });
        return this.end(run, 'rejected', { code: 'approval_denied', message: `step ${step.id} (${step.tool}) was denied by ${approval.decidedBy ?? 'a person'}`, step: step.id });
      }
      if (approval.state === 'pending') {
        if (record?.state !== 'waiting_approval' || record.approval_id !== approval.id) {
          await this.store.markStep(run.id, step.id, 'waiting_approval', args, hash, { approvalId: approval.id });
          await this.store.setStatus(run.id, 'waiting_approval');
          this.options.onChange(run.id);
          this.askInChat(run, step, principal, approval.id, args, hash);
        }
        // Pauses the graph here; a wake-up (decision, restart) runs this node again from its first line.
        interrupt({ approvalId: approval.id, step: step.id, argsHash: hash });
        return {};
      }
    }
    if (run.status === 'waiting_approval') await this.store.setStatus(run.id, 'running');

    const supportsKey = acceptsIdempotencyKey(tool);
    const repeatable = supportsKey || tool.annotations.idempotentHint === true || tool.annotations.readOnlyHint === true;
    if (record?.state === 'started' && !repeatable) {
      return this.failStep(run, step, {
        code: 'outcome_unknown',
        message: `${step.tool} was started before a restart and its outcome is unknown; it takes no idempotency key and is not idempotent, so it is not called again (check it, then ask again)`,
      });
    }
    const key = stepIdempotencyKey(run.id, step.id);
    await this.store.markStep(run.id, step.id, 'started', args, hash, { idempotencyKey: key });
    this.options.onChange(run.id);
    const callArgs = supportsKey && args.idempotencyKey === undefined ? { ...args, idempotencyKey: key } : args;
    const result = await this.options.tools.call(step.tool, callArgs, { principal, requestId: key, signal: this.closing.signal });
    if (this.closing.signal.aborted) throw new Error('server closing');
    if (result.isError) return this.failStep(run, step, errorOf(result));
    let value = structured(result);
    if (step.waitFor) {
      const waited = await this.waitFor(step, principal, new Map([...results, [step.id, value]]));
      if ('error' in waited) return this.failStep(run, step, waited.error);
      value = { ...(typeof value === 'object' && value !== null ? value : { value }), wait: waited.value };
    }
    await this.store.finishStep(run.id, step.id, 'succeeded', value);
    await this.store.updateMemory(run.project, run.thread_id, (memory) => rememberStep(memory, step.tool, args, value));
    this.options.onChange(run.id);
    return { index: state.index + 1 };
  }

  private async failStep(run: RunRow, step: PlanStep, error: { code: string; message: string }): Promise<RunStateUpdate> {
    await this.store.failStep(run.id, step.id, error);
    return this.end(run, 'failed', { ...error, step: step.id });
  }

  private async waitFor(step: PlanStep, principal: CallerPrincipal, results: Map<string, unknown>): Promise<{ value: unknown } | { error: { code: string; message: string } }> {
    const wait = step.waitFor;
    if (!wait) return { value: null };
    const deadline = Date.now() + (wait.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS);
    for (;;) {
      const args = resolveValue(wait.args, results) as Record<string, unknown>;
      const polled = await this.options.tools.call(wait.tool, args, { principal, signal: this.closing.signal });
      if (polled.isError) return { error: errorOf(polled) };
      const value = structured(polled);
      const polledResults = new Map([...results, ['wait', value]]);
      if (conditionHolds(wait.until, polledResults)) return { value };
      if (wait.failWhen && conditionHolds(wait.failWhen, polledResults)) return { error: { code: 'wait_failed', message: `${wait.failWhen.describe} (while waiting for: ${wait.until.describe})` } };
      if (Date.now() > deadline) return { error: { code: 'wait_timeout', message: `${wait.until.describe}: not reached within ${wait.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS} ms` } };
      await sleep(WAIT_POLL_MS, undefined, { signal: this.closing.signal });
    }
  }

  private askInChat(run: RunRow, step: PlanStep, principal: CallerPrincipal, approvalId: string, args: Record<string, unknown>, hash: string): void {
    const ask = this.chatAsk.get(run.id) ?? this.options.ask;
    if (!ask) return;
    const question = { runId: run.id, stepId: step.id, approvalId, tool: step.tool, args, argsHash: hash, why: step.why, risk: step.risk, command: run.command };
    const asked = ask(question, principal, this.closing.signal)
      .then(async (decision) => {
        if (!decision) return;
        await this.options.approvals.decide(run.project, approvalId, decision, `elicitation:${principal.id}`);
        this.wake(run.id);
      })
      .catch((error: unknown) => this.options.log.warn({ err: error, runId: run.id }, 'asking for approval in the chat failed; the run waits for approvals_decide'))
      .finally(() => this.chatPending.delete(run.id));
    this.chatPending.set(run.id, asked);
  }

  /** Deletes checkpoints of runs finished more than `days` ago. */
  expireCheckpoints(days: number): Promise<number> {
    return this.store.expireCheckpoints(days);
  }
}
