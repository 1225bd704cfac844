/**
 * Enough labelled feedback on a deployment → a new dataset version cut from it → the very steps of
 * train_evaluate_promote on that version (train → compare with the champion → canary → promote or
 * roll back). Below the threshold the dataset step's condition fails and every later step is
 * skipped with it, since each refers to the one before: the run ends succeeded, with the reason.
 */
import { z } from 'anvil/plugin';
import type { ArgValue, PlanStep } from '../plan.ts';
import { candidateParams, candidateSteps } from './train-evaluate-promote.ts';
import type { WorkflowGraph } from './types.ts';

const params = z
  .object({
    ...candidateParams,
    minFeedback: z.number().int().min(1).max(100_000).describe('Retrain only when the deployment has at least this many labelled feedback rows with logged inputs'),
    feedbackDataset: z.string().min(1).max(100).optional().describe('The dataset the feedback is written to as a new version; default "<deployment>-feedback"'),
    evaluationDataset: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe('What the candidate and the champion are scored on (its test split), e.g. the original training data; default: the new feedback version'),
  })
  .strict();

const ref = (path: string): ArgValue => ({ $ref: path });

export const retrainOnFeedback: WorkflowGraph = {
  description:
    "When a deployment has gathered enough labelled feedback, write it as a new dataset version, train a candidate on it, compare it with the champion, and if it is better canary it and promote it (or roll back)",
  params,
  steps(raw) {
    const p = params.parse(raw);
    const feedbackVersion: ArgValue = { name: ref('dataset.dataset'), version: ref('dataset.version') };
    const gate: PlanStep[] = [
      { id: 'feedback', tool: 'deployments_feedback_stats', args: { name: p.deployment }, why: 'count the labelled feedback that carries its input', risk: 'read' },
      {
        id: 'dataset',
        tool: 'deployments_feedback_dataset',
        args: { name: p.deployment, ...(p.feedbackDataset ? { dataset: p.feedbackDataset } : {}) },
        why: 'write the feedback as a new dataset version to train on',
        risk: 'write',
        when: { left: ref('feedback.usable'), op: 'gte', right: p.minFeedback, describe: `the deployment has at least ${p.minFeedback} labelled feedback rows with logged inputs (minFeedback)` },
      },
    ];
    return [...gate, ...candidateSteps(p, { dataset: feedbackVersion, evaluationDataset: p.evaluationDataset ?? feedbackVersion, workflow: 'retrain_on_feedback' })];
  },
};
