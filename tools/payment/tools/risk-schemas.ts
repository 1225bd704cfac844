/** Schemas of the risk tools and of the risk signals payments_create accepts. */
import { z } from 'anvil/plugin';

/** As the deployments plugin names deployments (a URL path segment). */
export const riskDeploymentSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1-63 lower-case letters, digits or "-", starting with a letter or digit')
  .describe('A deployment of the deployments plugin in this project');

export const riskSignalsSchema = z
  .object({
    localHour: z.number().int().min(0).max(23).optional().describe("The payer's local hour; default: the hour (UTC) the payment was created"),
    cardAgeDays: z.number().int().min(0).max(36_500).optional().describe('Days since the card was issued; default: days since this project first saw its token'),
    newDevice: z.boolean().optional().describe('The payer is on a device not seen before'),
    countryMismatch: z.boolean().optional().describe("The card's country differs from the payer's"),
  })
  .strict()
  .describe('What the checkout knows about the payer, for risk scoring');

export const thresholdsSchema = z.object({
  review: z.number().describe('Scores at or above this go to a person (payments_confirm then needs an approval)'),
  decline: z.number().describe('Scores at or above this are declined'),
});

export const riskAssessmentSchema = z.object({
  decision: z.enum(['approve', 'review', 'decline', 'not-scored']),
  score: z.number().nullable().describe("The model's probability of fraud; null when not scored"),
  thresholds: thresholdsSchema.nullable(),
  model: z.object({ deployment: z.string(), name: z.string(), version: z.number().int() }).nullable(),
  reason: z.string().nullable().describe('Why it was not scored, or null'),
  features: z.record(z.string(), z.union([z.number(), z.string()])).nullable().describe('What was scored; null when the project has no risk deployment'),
});

export const riskSettingsSchema = z.object({
  deployment: z.string().nullable().describe('The deployment that scores this project\'s payments; null: scoring is off'),
  unscoredReviewAbove: z.record(z.string(), z.string()).describe('Per currency: an unscored payment above this amount needs an approval'),
});
