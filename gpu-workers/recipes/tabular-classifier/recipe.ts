/** Recipe `tabular-classifier`: params schema and descriptor. See README.md in this folder. */
import * as z from 'zod';
import type { RecipeSpec as RecipeDescriptor } from '../../../contracts/recipe.ts';
import { workFile } from '../ml/work-file.ts';

export const tabularDatasetSchema = z.object({
  /** A JSONL file (one JSON object per line) relative to the work dir, e.g. `inputs/dataset.jsonl`. */
  file: workFile,
  /** Feature columns; default: every column of the training rows except the label and split columns. */
  featureColumns: z.array(z.string().min(1)).min(1).optional(),
  /** Columns to one-hot even when their values look numeric; other non-numeric columns are categorical anyway. */
  categoricalColumns: z.array(z.string().min(1)).default([]),
  labelColumn: z.string().min(1).default('label'),
  splitColumn: z.string().min(1).optional(),
});

export const tabularClassifierParams = z.object({
  dataset: tabularDatasetSchema,
  model: z.enum(['softmax', 'mlp']).default('softmax'),
  hiddenSize: z.number().int().min(1).max(4096).default(32),
  epochs: z.number().int().min(1).max(10_000).default(40),
  batchSize: z.number().int().min(1).max(65_536).default(64),
  learningRate: z.number().positive().max(10).default(0.01),
  schedule: z.enum(['linear', 'constant']).default('linear'),
  l2: z.number().min(0).max(10).default(1e-4),
  dropout: z.number().min(0).max(0.95).default(0),
  seed: z.number().int().min(0).max(0xffffffff).default(42),
  validationFraction: z.number().min(0).max(0.5).default(0.2),
  patience: z.number().int().min(1).max(10_000).default(8),
  classWeights: z.enum(['balanced', 'none']).default('balanced'),
  /** Binary tasks: the class PR-AUC is computed for; default the rarer training class. */
  positiveLabel: z.string().min(1).optional(),
  maxCategories: z.number().int().min(1).max(10_000).default(50),
  checkpointEvery: z.number().int().min(0).max(10_000_000).default(500),
});
export type TabularClassifierParams = z.infer<typeof tabularClassifierParams>;

export const tabularClassifierRecipe = {
  name: 'tabular-classifier',
  description:
    'Trains a classifier on table rows (JSONL): numeric columns standardised, categorical columns one-hot with an unknown slot, ' +
    'then softmax (logistic) regression or a one-hidden-layer MLP with class weights; early stopping on validation, PR-AUC for ' +
    'binary tasks, checkpoints and exact resume. Artifacts: model.onnx, featurizer.json, metrics.json, predictions.json (test split).',
  entry: new URL('./main.ts', import.meta.url),
  params: tabularClassifierParams,
} satisfies RecipeDescriptor;
