/** A deployment as the tools show it (schema and mapping shared by every tool that returns one). */
import { z } from 'anvil/plugin';
import type { Deployment } from '../schema.ts';
import type { HistoryEntry } from '../store.ts';

const guardrailReading = z.object({
  metric: z.string(),
  op: z.string(),
  threshold: z.number(),
  value: z.number().nullable(),
  samples: z.number(),
  minSamples: z.number(),
  status: z.enum(['pass', 'fail', 'insufficient']),
});

export const deploymentView = z.object({
  name: z.string(),
  model: z.string(),
  alias: z.string().nullable().describe('The alias it was created from (null: a fixed version)'),
  followAlias: z.boolean(),
  state: z.enum(['serving', 'canary', 'ab']).describe('canary: a rollout under way; ab: several variants with weights'),
  variants: z.array(z.object({ name: z.string(), version: z.number().int(), weight: z.number() })),
  threshold: z.number().nullable().describe('Abstain threshold override (null: each version’s own)'),
  batching: z.record(z.string(), z.unknown()),
  logging: z.record(z.string(), z.unknown()),
  rollout: z
    .object({
      stable: z.string(),
      candidate: z.string(),
      state: z.string(),
      stepIndex: z.number().int(),
      steps: z.array(z.record(z.string(), z.unknown())),
      guardrails: z.array(z.record(z.string(), z.unknown())),
      readings: z.array(guardrailReading),
      reason: z.string().nullable(),
      startedAt: z.string(),
      stepStartedAt: z.string(),
    })
    .nullable(),
  shadow: z.object({ variant: z.string(), version: z.number().int(), percent: z.number() }).nullable(),
  generation: z.number().int(),
  createdAt: z.string(),
  createdBy: z.string(),
  updatedAt: z.string(),
  history: z.array(z.object({ at: z.string(), by: z.string(), action: z.string(), detail: z.record(z.string(), z.unknown()) })).optional(),
});
export type DeploymentView = z.output<typeof deploymentView>;

export function toView(deployment: Deployment, history?: HistoryEntry[]): DeploymentView {
  const rollout = deployment.rollout;
  const active = rollout !== null && ['progressing', 'paused', 'awaiting-approval'].includes(rollout.state);
  return {
    name: deployment.name,
    model: deployment.model,
    alias: deployment.alias,
    followAlias: deployment.followAlias,
    state: active ? 'canary' : deployment.variants.filter((variant) => variant.weight > 0).length > 1 ? 'ab' : 'serving',
    variants: deployment.variants,
    threshold: deployment.threshold,
    batching: deployment.batching,
    logging: deployment.logging,
    rollout: rollout
      ? {
          stable: rollout.stable,
          candidate: rollout.candidate,
          state: rollout.state,
          stepIndex: rollout.stepIndex,
          steps: rollout.steps,
          guardrails: rollout.guardrails,
          readings: rollout.readings,
          reason: rollout.reason,
          startedAt: rollout.startedAt,
          stepStartedAt: rollout.stepStartedAt,
        }
      : null,
    shadow: deployment.shadow,
    generation: deployment.generation,
    createdAt: deployment.createdAt,
    createdBy: deployment.createdBy,
    updatedAt: deployment.updatedAt,
    ...(history ? { history: history.map(({ at, by, action, detail }) => ({ at, by, action, detail })) } : {}),
  };
}
