import { z, type ToolSpec } from 'anvil/plugin';
import { DEFAULT_COSTS } from '../risk/evaluate.ts';
import type { TrainOutcome, TrainRequest } from '../risk/train.ts';
import { guarded } from './common.ts';
import { riskDeploymentSchema, thresholdsSchema } from './risk-schemas.ts';

const name = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits or "-", starting with a letter or digit');

const input = z
  .object({
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(1).describe('Seed of the sandbox history trained on (the held-out evaluation rows come from another stream)'),
    rows: z.number().int().min(500).max(50_000).default(4000).describe('Training history rows'),
    evaluationRows: z.number().int().min(500).max(50_000).default(4000).describe('Held-out rows the thresholds are chosen on'),
    fraudRate: z.number().min(0.01).max(0.3).default(0.04),
    dataset: name.default('payments-risk-history').describe('The dataset the history is imported as (a new version when it changes)'),
    model: name.default('payments-risk').describe('The registry model the result becomes the next version of'),
    deployment: riskDeploymentSchema.default('payments-risk'),
    epochs: z.number().int().min(1).max(200).default(30),
    costs: z
      .object({ missedFraud: z.number().positive().max(1e6), falseDecline: z.number().positive().max(1e6), review: z.number().positive().max(1e6) })
      .partial()
      .strict()
      .optional()
      .describe(`Costs the thresholds minimise (default ${JSON.stringify(DEFAULT_COSTS)}): a fraud approved, a legitimate payment declined, a review`),
    waitSeconds: z.number().int().min(10).max(600).default(300).describe('How long to wait for the training job'),
  })
  .strict();

const output = z.object({
  dataset: z.object({ name: z.string(), version: z.number().int() }),
  jobId: z.string(),
  model: z.object({ name: z.string(), version: z.number().int(), metrics: z.record(z.string(), z.unknown()) }),
  deployment: z.string(),
  evaluation: z.object({
    seed: z.number().int(),
    rows: z.number().int(),
    frauds: z.number().int(),
    prAuc: z.number(),
    thresholds: thresholdsSchema,
    costPer1000: z.number(),
    costPer1000ApproveAll: z.number(),
    declinePrecision: z.number(),
    declineRecall: z.number(),
    fraudStopped: z.number(),
    reviewRate: z.number(),
    declineRate: z.number(),
  }),
});

export function paymentsRiskTrainTool(train: (request: TrainRequest) => Promise<TrainOutcome>): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'payments_risk_train',
    title: 'Train and deploy the payment risk model',
    description:
      "End to end: the sandbox's seeded, labelled transaction history (card testing, account takeover, high-risk merchants) is imported as a dataset, trained by " +
      'training_start (tabular-classifier) as a job, deployed (deployments_create, or all traffic to the new version), scored on held-out rows through predict, and the ' +
      'approve/review/decline thresholds chosen on PR-AUC and cost are stored; the project\'s payments are then scored by it. The training and deployment steps run with ' +
      "the caller's scopes (training:write, jobs:read, deployments:write). The same arguments again return the same model.",
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['payments:admin'],
    async handler(args, { project, principal, audit, signal }) {
      const outcome = await train({ ...args, costs: { ...DEFAULT_COSTS, ...(args.costs ?? {}) }, project, principal, signal });
      audit({ model: outcome.model, deployment: outcome.deployment, prAuc: outcome.evaluation.prAuc, thresholds: outcome.evaluation.thresholds });
      return outcome;
    },
  });
}
