/**
 * The built-in `agent` plugin: natural-language ops commands planned as steps over the caller's own
 * tools and run as the caller (ops_ask, ops_get, ops_list, ops_cancel, anvil://agent/runs/{id}).
 * The engine lives in graphs/agent (LangGraph, checkpointed in this plugin's schema); approvals go
 * through the approvals plugin. Planners per run, best first: the configured chat endpoint (`llm`),
 * MCP sampling through the caller's client, `planners` contributed by plugins, those given at
 * creation, and the offline intent model. See docs/agent.md.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { definePlugin, z } from 'anvil/plugin';
import type { Planner } from '../../graphs/plan.ts';
import { createConfiguredPlanner, llmConfigSchema, type LlmProvider } from '../../graphs/planners/llm/index.ts';
import { createOfflinePlanner } from '../../graphs/planners/offline/index.ts';
import { AgentRuntime } from '../../graphs/agent/runtime.ts';
import type { ApprovalGate, AskApproval } from '../../graphs/agent/types.ts';
import { approvalsPlugin, type Approval, type Approvals } from '../approvals/index.ts';
import { opsAskTool } from './tools/ops-ask.ts';
import { opsCancelTool } from './tools/ops-cancel.ts';
import { opsGetTool } from './tools/ops-get.ts';
import { runApp } from './tools/app.ts';
import { opsListTool } from './tools/ops-list.ts';
import { runResource } from './tools/run-resource.ts';
import { runUri } from './tools/schemas.ts';
import { workflowsListTool } from './tools/workflows-list.ts';
import { workflowsRunTool } from './tools/workflows-run.ts';
import { isWorkflowGraph, type WorkflowGraph } from '../../graphs/workflows/types.ts';
import { trainEvaluatePromote } from '../../graphs/workflows/train-evaluate-promote.ts';
import { retrainOnFeedback } from '../../graphs/workflows/retrain-on-feedback.ts';

export const agentConfig = z
  .object({
    planner: z.string().max(100).optional().describe('The only planner to use, by name (offline, sampling, openai:<model>, a contributed one); default: each in turn until one answers'),
    llm: llmConfigSchema.optional().describe('A chat endpoint to plan with (OpenAI-compatible by default, or an llmProviders entry); its key is read from the variable apiKeyEnv names'),
    approvalTools: z.array(z.string().min(1).max(100)).max(200).default([]).describe('Tools (or prefixes ending in *) that always wait for a person, whatever their risk'),
    leaseMs: z.number().int().min(500).max(600_000).default(30_000).describe('How long a server holds a run it drives before another may take it over (renewed while it runs)'),
    settleMs: z.number().int().min(0).max(300_000).default(20_000).describe('How long ops_ask waits for the run to finish or wait for approval before answering with it running'),
    resumeEveryMs: z.number().int().min(200).max(600_000).default(2_000).describe('How often runs left behind (a dead server, a decided approval) are looked for'),
    checkpointRetentionDays: z.number().int().min(0).max(3_650).default(7).describe('Checkpoints of runs finished longer ago than this are deleted'),
  })
  .strict();

export interface AgentPluginOptions {
  /** Extra planners, tried after the configured endpoint, sampling and contributed ones, before the offline one. */
  readonly planners?: readonly Planner[];
  /** Asks for approvals when no ops_ask call is open to ask its client (ops_ask asks its own client by MCP elicitation). */
  readonly ask?: AskApproval;
  /** Leave out the offline intent model (tests of the other planners). */
  readonly offline?: false;
}

export function isPlanner(value: unknown): value is Planner {
  return typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string' && typeof (value as { plan?: unknown }).plan === 'function';
}

function isLlmProvider(value: unknown): value is LlmProvider {
  return typeof value === 'object' && value !== null && typeof (value as { createChatModel?: unknown }).createChatModel === 'function';
}

function gateOf(approvals: Approvals): ApprovalGate {
  const shape = (approval: Approval) => ({ id: approval.id, state: approval.state, hash: approval.hash, decidedBy: approval.decidedBy, reason: approval.reason });
  return {
    approvalFor: async (request) => shape(await approvals.request({ ...request, kind: 'agent-step' })),
    get: async (project, id) => {
      const approval = await approvals.get(project, id);
      return approval ? shape(approval) : undefined;
    },
    decide: async (project, id, decision, by, reason) => shape(await approvals.decide(project, id, decision, by, reason)),
  };
}

export function createAgentPlugin(options: AgentPluginOptions = {}) {
  return definePlugin({
    id: 'agent',
    version: '0.1.0',
    apiVersion: 1,
    description: 'Ops agent: plain-language commands planned over your own tools, approved by a person where it matters, run durably',
    permissions: ['sql', 'tools'],
    requires: { plugins: { approvals: '^0.1.0' } },
    config: agentConfig,
    async register(ctx) {
      ctx.migrations(new URL('./migrations/', import.meta.url));
      const approvalsApi = ctx.use(approvalsPlugin);
      const contributed = (): Planner[] => ([...ctx.extensions('planners').values()] as unknown[]).filter(isPlanner);
      const providers = (): ReadonlyMap<string, LlmProvider> =>
        new Map([...ctx.extensions('llmProviders')].filter((entry): entry is [string, LlmProvider] => isLlmProvider(entry[1])));
      const { llm } = ctx.config;
      const configured = llm ? createConfiguredPlanner({ config: llm, env: process.env, providers: providers() }) : undefined;
      // The committed intent model loads in a few ms; nothing trains at start.
      const offline = options.offline === false ? undefined : await createOfflinePlanner();
      const runtimeValue = new AgentRuntime({
        sql: ctx.sql,
        tools: ctx.tools,
        approvals: gateOf(approvalsApi.approvals),
        planners: (session) => [
          ...(configured ? [configured] : []),
          ...(session.planners ?? []),
          ...contributed(),
          ...(options.planners ?? []),
          ...(offline ? [offline] : []),
        ],
        ...(ctx.config.planner ? { preferredPlanner: ctx.config.planner } : {}),
        policy: { approvalTools: ctx.config.approvalTools },
        log: ctx.log,
        onChange: (runId) => ctx.resourceUpdated(runUri(runId)),
        owner: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
        leaseMs: ctx.config.leaseMs,
        settleMs: ctx.config.settleMs,
        ...(options.ask ? { ask: options.ask } : {}),
      });
      const runtime = () => runtimeValue;
      ctx.tool(opsAskTool(runtime));
      // ops_get's MCP App: the plan with Approve / Reject (ui://anvil/agent/run and …/{runId}).
      const app = runApp(runtime);
      ctx.tool({ ...opsGetTool(runtime), app: app.tool });
      for (const resource of app.resources) ctx.resource(resource);
      ctx.tool(opsListTool(runtime));
      ctx.tool(opsCancelTool(runtime));
      ctx.resource(runResource(runtime));
      // Workflow graphs: the built-in ones, and any a plugin provides to `graphs` (read at call time).
      ctx.provide('graphs', 'train_evaluate_promote', trainEvaluatePromote);
      ctx.provide('graphs', 'retrain_on_feedback', retrainOnFeedback);
      const graphs = (): ReadonlyMap<string, WorkflowGraph> => new Map([...ctx.extensions('graphs')].filter((entry): entry is [string, WorkflowGraph] => isWorkflowGraph(entry[1])));
      ctx.tool(workflowsRunTool(runtime, graphs));
      ctx.tool(workflowsListTool(graphs));

      // A decision wakes its run at once; the schedule below catches what this process did not see.
      approvalsApi.onDecided((approval) => {
        if (approval.kind === 'agent-step') runtimeValue.wake(approval.subject.split('/')[0] ?? '');
      });
      ctx.onReady(async () => {
        await runtimeValue.resumeDue();
      });
      ctx.every('resume-runs', ctx.config.resumeEveryMs, async () => {
        await runtimeValue.resumeDue();
      });
      ctx.every('checkpoint-retention', 60 * 60_000, async () => {
        const deleted = await runtimeValue.expireCheckpoints(ctx.config.checkpointRetentionDays);
        if (deleted > 0) ctx.log.info({ deleted }, 'deleted checkpoints of finished agent runs');
      });
      ctx.onClose(() => runtimeValue.close());
    },
  });
}

/** The agent as `{"id": "agent"}` in anvil.config.json switches it on. */
export const agentPlugin = createAgentPlugin();
