/**
 * The built-in `agent` plugin: natural-language ops commands planned as steps over the caller's own
 * tools and run as the caller (ops_ask, ops_get, ops_list, ops_cancel, anvil://agent/runs/{id}).
 * The engine lives in graphs/agent (LangGraph, checkpointed in this plugin's schema); approvals go
 * through the approvals plugin. Planners are given at creation (`createAgentPlugin({ planners })`)
 * and may also be contributed as `llmProviders` entries that implement `Planner` (graphs/plan.ts).
 * See docs/agent.md.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { definePlugin, z } from 'anvil/plugin';
import type { Planner } from '../../graphs/plan.ts';
import { AgentRuntime } from '../../graphs/agent/runtime.ts';
import type { ApprovalGate, AskApproval } from '../../graphs/agent/types.ts';
import { approvalsPlugin, type Approval, type Approvals } from '../approvals/index.ts';
import { opsAskTool } from './tools/ops-ask.ts';
import { opsCancelTool } from './tools/ops-cancel.ts';
import { opsGetTool } from './tools/ops-get.ts';
import { opsListTool } from './tools/ops-list.ts';
import { runResource } from './tools/run-resource.ts';
import { runUri } from './tools/schemas.ts';
import { workflowsListTool } from './tools/workflows-list.ts';
import { workflowsRunTool } from './tools/workflows-run.ts';
import { isWorkflowGraph, type WorkflowGraph } from '../../graphs/workflows/types.ts';
import { trainEvaluatePromote } from '../../graphs/workflows/train-evaluate-promote.ts';

export const agentConfig = z
  .object({
    planner: z.string().max(100).optional().describe('The planner to use by name (offline, openai, sampling, …); default: the first one available'),
    approvalTools: z.array(z.string().min(1).max(100)).max(200).default([]).describe('Tools (or prefixes ending in *) that always wait for a person, whatever their risk'),
    leaseMs: z.number().int().min(500).max(600_000).default(30_000).describe('How long a server holds a run it drives before another may take it over (renewed while it runs)'),
    settleMs: z.number().int().min(0).max(300_000).default(20_000).describe('How long ops_ask waits for the run to finish or wait for approval before answering with it running'),
    resumeEveryMs: z.number().int().min(200).max(600_000).default(2_000).describe('How often runs left behind (a dead server, a decided approval) are looked for'),
    checkpointRetentionDays: z.number().int().min(0).max(3_650).default(7).describe('Checkpoints of runs finished longer ago than this are deleted'),
  })
  .strict();

export interface AgentPluginOptions {
  /** Planners in order of preference: the offline intent model, an OpenAI-compatible endpoint, MCP sampling. */
  readonly planners?: readonly Planner[];
  /** The elicitation seam: asks for an approval in the chat when the client can (wired at merge). */
  readonly ask?: AskApproval;
}

export function isPlanner(value: unknown): value is Planner {
  return typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string' && typeof (value as { plan?: unknown }).plan === 'function';
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
    register(ctx) {
      ctx.migrations(new URL('./migrations/', import.meta.url));
      const approvalsApi = ctx.use(approvalsPlugin);
      const contributed = (): Planner[] => ([...ctx.extensions('llmProviders').values()] as unknown[]).filter(isPlanner);
      const runtimeValue = new AgentRuntime({
        sql: ctx.sql,
        tools: ctx.tools,
        approvals: gateOf(approvalsApi.approvals),
        planners: () => [...(options.planners ?? []), ...contributed()],
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
      ctx.tool(opsGetTool(runtime));
      ctx.tool(opsListTool(runtime));
      ctx.tool(opsCancelTool(runtime));
      ctx.resource(runResource(runtime));
      // Workflow graphs: the built-in one, and any a plugin provides to `graphs` (read at call time).
      ctx.provide('graphs', 'train_evaluate_promote', trainEvaluatePromote);
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

/** The agent as `{"id": "agent"}` in anvil.config.json switches it on: planners come from `llmProviders`. */
export const agentPlugin = createAgentPlugin();
