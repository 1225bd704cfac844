/**
 * train → evaluate against the champion → if better, canary → watch the guardrails → promote, or
 * roll back when the watch ends undecided. A canary the guardrails fail is rolled back by the
 * deployment itself (state rolled-back): then nothing is promoted and nothing more is needed.
 */
import { z } from 'anvil/plugin';
import type { ArgValue, PlanStep } from '../plan.ts';
import type { WorkflowGraph } from './types.ts';

/** Everything but the dataset: shared with workflows that make the dataset first (retrain_on_feedback). */
export const candidateParams = {
  deployment: z.string().min(1).max(100).describe('The deployment serving the model, where the candidate is canaried'),
  model: z.string().min(1).max(100).optional().describe('The model to register the candidate as (the deployed one); default: as training_start names it'),
  recipe: z.string().min(1).max(60).optional().describe('Training recipe; default: chosen by training_start'),
  trainingParams: z.record(z.string(), z.unknown()).optional().describe("The recipe's params"),
  evaluationDataset: z.string().min(1).max(100).optional().describe('Default: the training dataset (its test split)'),
  canaryPercent: z.number().int().min(1).max(99).default(10),
  watchSeconds: z.number().int().min(10).max(7 * 86_400).default(600).describe('How long the canary takes traffic before promote or roll back'),
  guardrails: z.array(z.record(z.string(), z.unknown())).max(10).default([]).describe('As deployments_canary takes them, e.g. [{metric: "accuracy", op: ">=", threshold: 0.85, minSamples: 50}]'),
  timeoutMinutes: z.number().int().min(1).max(24 * 60).default(120).describe('How long training and evaluation may each take'),
};

const params = z
  .object({ dataset: z.string().min(1).max(100).describe('The dataset to train on (its latest version)'), ...candidateParams })
  .strict();

export type CandidateParams = z.output<z.ZodObject<typeof candidateParams>>;
const ref = (path: string): ArgValue => ({ $ref: path });

export interface CandidateSource {
  /** What training_start trains on: a name, or `{name, version}` (references allowed). */
  readonly dataset: ArgValue;
  /** What eval_compare scores on; default: `dataset`. */
  readonly evaluationDataset?: ArgValue;
  /** Named in the promote / roll back reasons. */
  readonly workflow: string;
}

export const trainEvaluatePromote: WorkflowGraph = {
  description: 'Train a new version on a dataset, compare it with the champion, and if it is better canary it, watch the guardrails, then promote it (or roll back)',
  params,
  steps(raw) {
    const p = params.parse(raw);
    return candidateSteps(p, { dataset: p.dataset, evaluationDataset: p.evaluationDataset ?? p.dataset, workflow: 'train_evaluate_promote' });
  },
};

/**
 * The train → compare with the champion → canary → promote or roll back steps (ids train, compare,
 * verdict, canary, promote, rollback), on `source.dataset`. Each step refers to the one before, so
 * when the step that made the dataset was skipped, all of them are skipped with it.
 */
export function candidateSteps(p: CandidateParams, source: CandidateSource): PlanStep[] {
  const timeoutMs = p.timeoutMinutes * 60_000;
  const jobDone = (step: string) => ({
    tool: 'jobs_get',
    args: { id: ref(`${step}.jobId`), waitSeconds: 30 },
    until: { left: ref('wait.state'), op: 'eq' as const, right: 'succeeded', describe: `the ${step} job succeeded` },
    failWhen: { left: ref('wait.state'), op: 'eq' as const, right: 'failed', describe: `the ${step} job failed` },
    timeoutMs,
  });
  const rolloutState = ref('canary.wait.rollout.state');
  const steps: PlanStep[] = [
    {
      id: 'train',
      tool: 'training_start',
      args: { dataset: source.dataset, ...(p.model ? { model: p.model } : {}), ...(p.recipe ? { recipe: p.recipe } : {}), ...(p.trainingParams ? { params: p.trainingParams as { [key: string]: ArgValue } } : {}) },
      why: 'train a candidate version',
      risk: 'write',
      waitFor: jobDone('train'),
    },
    {
      id: 'compare',
      tool: 'eval_compare',
      args: { candidate: { model: ref('train.model'), version: ref('train.wait.result.model.version') }, dataset: source.evaluationDataset ?? source.dataset },
      why: 'score the candidate against the champion on the same rows',
      risk: 'write',
      waitFor: jobDone('compare'),
    },
    { id: 'verdict', tool: 'eval_get', args: { id: ref('compare.jobId') }, why: 'read the comparison verdict', risk: 'read' },
    {
      id: 'canary',
      tool: 'deployments_canary',
      args: {
        name: p.deployment,
        action: 'start',
        candidate: ref('train.wait.result.model.version'),
        steps: [{ percent: p.canaryPercent, pauseSeconds: p.watchSeconds }, { percent: 100, untilApproved: true }],
        guardrails: p.guardrails as ArgValue[],
      },
      why: `send ${p.canaryPercent}% of the traffic to the candidate while the guardrails watch it`,
      risk: 'write',
      when: { left: ref('verdict.verdict'), op: 'eq', right: 'better', describe: 'the candidate beats the champion' },
      waitFor: {
        tool: 'deployments_get',
        args: { name: p.deployment },
        until: { left: ref('wait.rollout.state'), op: 'ne', right: 'progressing', describe: 'the canary step was watched to its end' },
        timeoutMs: (p.watchSeconds + 600) * 1_000,
      },
    },
    {
      id: 'promote',
      tool: 'deployments_promote',
      args: { name: p.deployment, reason: `${source.workflow}: better than the champion, guardrails held` },
      why: 'make the candidate the champion',
      risk: 'write',
      when: { left: rolloutState, op: 'eq', right: 'awaiting-approval', describe: 'the guardrails held through the canary step' },
    },
    {
      id: 'rollback',
      tool: 'deployments_rollback',
      args: { name: p.deployment, reason: `${source.workflow}: the canary did not get enough evidence` },
      why: 'take the candidate out of traffic',
      risk: 'destructive',
      when: { left: rolloutState, op: 'eq', right: 'paused', describe: 'the canary ended paused (not enough evidence)' },
    },
  ];
  return steps;
}
