/**
 * Recipe `evaluation`: its params schema and descriptor (the jobs plugin registers the descriptor;
 * the worker starts `entry` as a child process). See README.md in this folder.
 */
import * as z from 'zod';
import type { RecipeSpec as RecipeDescriptor } from '../../../contracts/recipe.ts';
import { workFile } from '../ml/work-file.ts';

export const EVALUATION_SPLITS = ['test', 'validation', 'train', 'all'] as const;
export type EvaluationSplit = (typeof EVALUATION_SPLITS)[number];

export const MODEL_ROLES = ['candidate', 'champion'] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];

export const evaluationDatasetSchema = z.object({
  /** A JSONL file, one JSON object per line, relative to the work dir (`inputs/dataset.jsonl`). */
  file: workFile,
  /** Text models read this column (default `text`). */
  textColumn: z.string().min(1).optional(),
  /** Tabular models read the columns their featurizer names; when given, a column the model needs but this list lacks is reported. */
  featureColumns: z.array(z.string().min(1)).optional(),
  labelColumn: z.string().min(1).default('label'),
  /** A column holding 'train' | 'validation' | 'test' per row; without it every row is evaluated. */
  splitColumn: z.string().min(1).optional(),
});

export const evaluationModelSchema = z.object({
  role: z.enum(MODEL_ROLES),
  /** featurizer.json of a text-classifier or tabular-classifier (relative to the work dir, e.g. `inputs/candidate-featurizer.json`). */
  featurizer: workFile,
  /** model.onnx (relative to the work dir): input `features` [N, F] float32, output `probabilities` [N, C]. */
  model: workFile,
  /** Abstain below this top-class probability; default: the threshold saved in featurizer.json. */
  threshold: z.number().min(0).max(1).optional(),
  /** How reports name the model, e.g. `intent-classifier v3`. */
  name: z.string().min(1).max(300).optional(),
});
export type EvaluationModel = z.infer<typeof evaluationModelSchema>;

const registryRef = z.object({ name: z.string().min(1).max(200), version: z.number().int().min(1) });

/**
 * What the evaluation is of, in registry terms: set by eval_run / eval_compare, echoed into
 * evaluation.json and read back by the plugin's success hook. The recipe needs none of it.
 */
export const evaluationSubjectSchema = z.object({
  kind: z.enum(['run', 'compare']),
  candidate: registryRef,
  champion: registryRef.nullable().default(null),
  dataset: z.object({ name: z.string().min(1).max(200), version: z.number().int().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
});
export type EvaluationSubject = z.infer<typeof evaluationSubjectSchema>;

export const evaluationParams = z
  .object({
    dataset: evaluationDatasetSchema,
    split: z.enum(EVALUATION_SPLITS).default('test'),
    models: z
      .array(evaluationModelSchema)
      .min(1)
      .max(2)
      .refine((models) => new Set(models.map((m) => m.role)).size === models.length, 'each role (candidate, champion) may appear once')
      .refine((models) => models.some((m) => m.role === 'candidate'), 'a candidate model is required'),
    /** The true label of out-of-scope rows; default the candidate featurizer's oosLabel, else `oos`. */
    oosLabel: z.string().min(1).optional(),
    bootstrap: z
      .object({ resamples: z.number().int().min(0).max(10_000).default(1000), seed: z.number().int().min(0).max(0xffffffff).default(1) })
      .default({ resamples: 1000, seed: 1 }),
    /** The metric a comparison's verdict is on. */
    primary: z.enum(['macroF1', 'accuracy']).default('macroF1'),
    subject: evaluationSubjectSchema.optional(),
  })
  .strict();
export type EvaluationParams = z.infer<typeof evaluationParams>;

export const evaluationRecipe = {
  name: 'evaluation',
  description:
    'Evaluates a trained text-classifier or tabular-classifier (featurizer.json + model.onnx) on one split of a JSONL dataset, or ' +
    'compares a candidate with a champion on the same rows (paired bootstrap, verdict better/worse/inconclusive). Artifacts: ' +
    'evaluation.json (every metric, per class, confusions, calibration) and report.md (Markdown tables). Result: {evaluations: ' +
    '{candidate, champion?} summaries, comparison?: {deltas, verdict}, rows, split}. Labels the model never saw are reported in unseenLabels.',
  entry: new URL('./main.ts', import.meta.url),
  params: evaluationParams,
} satisfies RecipeDescriptor;
