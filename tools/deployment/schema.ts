/**
 * The shapes of a deployment: names, batching, logging, variants, canary steps and guardrails, as
 * zod schemas (checked before any SQL runs) and the types they give.
 */
import { AnvilError, ErrorCodes, z } from 'anvil/plugin';

export const DEPLOYMENT_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const deploymentNameSchema = z
  .string()
  .regex(DEPLOYMENT_NAME, 'must be 1-63 lower-case letters, digits or "-", starting with a letter or digit (it is a URL path segment)')
  .describe('Deployment name, e.g. "intents"');

export const LIMITS = {
  /** Inputs per predict call. */
  inputsMax: 256,
  textCharsMax: 10_000,
  topKMax: 20,
  requestKeyMax: 200,
  historyShown: 20,
  stepsMax: 20,
  guardrailsMax: 10,
} as const;

const batchingFields = {
  enabled: z.boolean().describe('Group concurrent requests into one model run'),
  maxBatchSize: z.number().int().min(1).max(1024).describe('Rows per model run'),
  maxQueueDelayMicros: z.number().int().min(0).max(1_000_000).describe('How long the first waiting row may wait for others while a run is in flight (an idle variant runs a request at once)'),
  maxQueueSize: z.number().int().min(1).max(100_000).describe('Rows waiting at most; more are refused with 429 and Retry-After'),
  timeoutMs: z.number().int().min(1).max(120_000).describe('Per request: answered with an error when not served by then'),
};
export const BATCHING_DEFAULTS = { enabled: true, maxBatchSize: 64, maxQueueDelayMicros: 500, maxQueueSize: 1024, timeoutMs: 10_000 } as const;

export const batchingSchema = z
  .object({
    enabled: batchingFields.enabled.default(BATCHING_DEFAULTS.enabled),
    maxBatchSize: batchingFields.maxBatchSize.default(BATCHING_DEFAULTS.maxBatchSize),
    maxQueueDelayMicros: batchingFields.maxQueueDelayMicros.default(BATCHING_DEFAULTS.maxQueueDelayMicros),
    maxQueueSize: batchingFields.maxQueueSize.default(BATCHING_DEFAULTS.maxQueueSize),
    timeoutMs: batchingFields.timeoutMs.default(BATCHING_DEFAULTS.timeoutMs),
  })
  .strict();
export type Batching = z.output<typeof batchingSchema>;
/** Some batching fields, without defaults: what a caller gives is laid over the current (or configured default) settings. */
export const batchingPatch = z.object(batchingFields).partial().strict();

const loggingFields = {
  sample: z.number().min(0).max(1).describe('Share of requests written to the prediction log'),
  inputs: z.boolean().describe('Store the inputs too (needed for a feedback dataset with the rows)'),
  retentionDays: z.number().int().min(1).max(3650).describe('Log rows older than this are deleted'),
};
export const LOGGING_DEFAULTS = { sample: 1, inputs: false, retentionDays: 30 } as const;

export const loggingSchema = z
  .object({
    sample: loggingFields.sample.default(LOGGING_DEFAULTS.sample),
    inputs: loggingFields.inputs.default(LOGGING_DEFAULTS.inputs),
    retentionDays: loggingFields.retentionDays.default(LOGGING_DEFAULTS.retentionDays),
  })
  .strict();
/** Some logging fields, without defaults (see batchingPatch). */
export const loggingPatch = z.object(loggingFields).partial().strict();
export type Logging = z.output<typeof loggingSchema>;

export interface Variant {
  /** `v<version>`. */
  name: string;
  version: number;
  /** Percent of traffic (the weights of a deployment sum to 100). */
  weight: number;
}

export const variantName = (version: number): string => `v${version}`;

export const GUARDRAIL_METRICS = ['error_rate', 'p99_latency_ms', 'abstain_rate', 'accuracy', 'psi'] as const;
export type GuardrailMetric = (typeof GUARDRAIL_METRICS)[number];

export const guardrailSchema = z
  .object({
    metric: z.enum(GUARDRAIL_METRICS).describe('Measured on the candidate since the canary started; accuracy from feedback, psi of the predicted classes against the stable variant'),
    op: z.enum(['<', '<=', '>', '>=']).describe('The guardrail holds while `metric op threshold`'),
    threshold: z.number(),
    minSamples: z.number().int().min(1).max(1_000_000).default(30).describe('Below this many samples the rollout pauses (it never rolls back on missing data)'),
  })
  .strict();
export type Guardrail = z.output<typeof guardrailSchema>;

export const stepSchema = z
  .object({
    percent: z.number().min(0).max(100).describe('Candidate share of traffic during this step'),
    pauseSeconds: z.number().int().min(0).max(7 * 24 * 3600).optional().describe('Advance after this long (with every guardrail passing)'),
    untilApproved: z.boolean().optional().describe('Wait for deployments_canary {action: "approve"}'),
  })
  .strict()
  .refine((step) => (step.pauseSeconds === undefined) !== (step.untilApproved === undefined || step.untilApproved === false), 'give either pauseSeconds or untilApproved: true');
export type Step = z.output<typeof stepSchema>;

export type RolloutState = 'progressing' | 'paused' | 'awaiting-approval' | 'rolled-back' | 'completed' | 'aborted';

export interface GuardrailReading {
  metric: GuardrailMetric;
  op: Guardrail['op'];
  threshold: number;
  value: number | null;
  samples: number;
  minSamples: number;
  status: 'pass' | 'fail' | 'insufficient';
}

export interface Rollout {
  stable: string;
  candidate: string;
  candidateVersion: number;
  steps: Step[];
  guardrails: Guardrail[];
  stepIndex: number;
  state: RolloutState;
  startedAt: string;
  stepStartedAt: string;
  reason: string | null;
  readings: GuardrailReading[];
  /** The server that last advanced it (one controller at a time). */
  controller: string | null;
}

export interface Shadow {
  variant: string;
  version: number;
  percent: number;
}

export interface Deployment {
  project: string;
  name: string;
  model: string;
  alias: string | null;
  followAlias: boolean;
  variants: Variant[];
  batching: Batching;
  logging: Logging;
  threshold: number | null;
  rollout: Rollout | null;
  shadow: Shadow | null;
  generation: number;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
}

export function invalid(message: string, field?: string): AnvilError {
  return new AnvilError(ErrorCodes.INVALID_INPUT, message, field ? { details: { field } } : undefined);
}

export function notFound(project: string, name: string): AnvilError {
  return new AnvilError(ErrorCodes.NOT_FOUND, `No deployment "${name}" in project ${project}; deployments_list shows the deployments there are`, { details: { deployment: name } });
}

/** Weights in percent must sum to 100 (to 0.001). */
export function checkWeights(weights: Record<string, number>, field = 'weights'): void {
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  if (Math.abs(total - 100) > 1e-3) throw invalid(`${field}: the percentages must sum to 100, they sum to ${Number(total.toFixed(3))}`, field);
  for (const [variant, weight] of Object.entries(weights)) {
    if (!Number.isFinite(weight) || weight < 0 || weight > 100) throw invalid(`${field}.${variant}: expected a percentage from 0 to 100, got ${weight}`, field);
  }
}

/** Equal as JSON whatever the key order (jsonb does not keep it). */
export function sameJson(a: unknown, b: unknown): boolean {
  const sorted = (value: unknown): unknown =>
    Array.isArray(value) ? value.map(sorted) : typeof value === 'object' && value !== null ? Object.fromEntries(Object.entries(value).sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => [k, sorted(v)])) : value;
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}
