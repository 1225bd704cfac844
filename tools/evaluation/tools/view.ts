/** Input and output pieces the evaluation tools share. */
import { z } from 'anvil/plugin';
import { NAME_PATTERN } from '../../datasets/index.ts';
import { modelNameSchema } from '../../models/index.ts';
import { JOB_STATES } from '../../jobs/index.ts';
import { EVALUATION_SPLITS, comparisonSummarySchema, evaluationSummarySchema } from '../../../gpu-workers/index.ts';

export const versionRef = z
  .union([z.number().int().min(1), z.string().min(1).max(40)])
  .describe('A version number, an alias (e.g. "champion") or "latest"');

const datasetName = z.string().min(1).max(100).regex(NAME_PATTERN, "letters, digits, '.', '_' or '-', starting with a letter or digit");

export const datasetInput = z
  .union([datasetName, z.object({ name: datasetName, version: z.number().int().min(1).optional().describe('Default: the latest') }).strict()])
  .describe('A dataset of your project: its name (latest version) or {name, version}');

export const splitInput = z.enum(EVALUATION_SPLITS).describe("The rows to score: the dataset's test split by default, or validation, train, all");

export const modelRef = z.object({ name: z.string(), version: z.number().int() });
export const datasetRefOutput = z.object({ name: z.string(), version: z.number().int() });

export const submittedOutput = {
  jobId: z.string().describe('The evaluation job; also the evaluation id for eval_get once it succeeds'),
  state: z.enum(JOB_STATES),
  created: z.boolean().describe('false when the idempotency key named an existing job'),
  dataset: datasetRefOutput,
  split: splitInput,
  rows: z.number().int().describe('Rows of the split the job scores'),
  reportUri: z.string().describe('The Markdown report, readable once the job has succeeded'),
};

export const evaluationRecordOutput = z.object({
  id: z.string(),
  kind: z.enum(['run', 'compare']),
  model: modelRef.nullable().describe('The model evaluated (the candidate of a comparison)'),
  champion: modelRef.nullable(),
  dataset: z.object({ name: z.string(), version: z.number().int(), sha256: z.string() }).nullable(),
  split: z.string(),
  rows: z.number().int(),
  metrics: z.object({ candidate: evaluationSummarySchema, champion: evaluationSummarySchema.optional(), comparison: comparisonSummarySchema.optional() }),
  verdict: z.enum(['better', 'worse', 'inconclusive']).nullable().describe('A comparison’s verdict on the candidate; null for a run'),
  reportUri: z.string().nullable(),
  detailUri: z.string().nullable().describe('Every metric as JSON (evaluation.json)'),
  createdAt: z.string(),
});

export { modelNameSchema, datasetName };
