import { z } from 'anvil/plugin';

const risk = z.enum(['read', 'write', 'destructive', 'spend']);
const error = z.object({ code: z.string(), message: z.string() });

export const planSchema = z.object({
  command: z.string(),
  planner: z.string(),
  steps: z.array(
    z.object({
      id: z.string(),
      tool: z.string(),
      args: z.record(z.string(), z.unknown()),
      why: z.string(),
      risk,
      when: z.unknown().optional().describe('Runs only when this holds ({left, op, right, describe}); refs like {"$ref": "s1.accuracy"}'),
      waitFor: z.unknown().optional().describe('Polls a read tool until a condition holds before later steps run'),
    }),
  ).readonly(),
  unresolved: z.array(z.object({ step: z.string(), field: z.string(), mention: z.string(), reason: z.string() })).readonly(),
  confidence: z.number(),
  reason: z.string().optional(),
  question: z.string().optional(),
});

export const runSchema = z.object({
  runId: z.string(),
  threadId: z.string().describe('Pass it again with a follow-up so "it", "that job", "the last model" resolve'),
  command: z.string(),
  planner: z.string(),
  status: z.enum(['planned', 'running', 'waiting_approval', 'succeeded', 'failed', 'rejected', 'canceled']),
  dryRun: z.boolean(),
  plan: planSchema,
  approvalRequired: z.array(z.string()).describe('Ids of the steps that wait for a person (approvals_list / approvals_decide)'),
  steps: z.array(
    z.object({
      id: z.string(),
      tool: z.string(),
      state: z.enum(['pending', 'waiting_approval', 'started', 'succeeded', 'skipped', 'failed', 'rejected']),
      argsHash: z.string().nullable().describe('SHA-256 of the canonical JSON of the arguments it ran (or waits to run) with'),
      approvalId: z.string().nullable(),
      attempts: z.number().int(),
      result: z.unknown(),
      error: error.nullable(),
    }),
  ),
  error: error.extend({ step: z.string().optional() }).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
});

export const runIdSchema = z.string().min(1).max(64).describe('The run id ops_ask returned');
export const AGENT_SCOPES = { read: 'agent:read', write: 'agent:write' } as const;
export const runUri = (id: string) => `anvil://agent/runs/${id}`;
