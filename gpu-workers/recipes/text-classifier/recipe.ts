/**
 * Recipe `text-classifier`: its params schema and descriptor (the jobs plugin registers the
 * descriptor; the worker starts `entry` as a child process). See README.md in this folder.
 */
import * as z from 'zod';
import type { RecipeSpec as RecipeDescriptor } from '../../../contracts/recipe.ts';
import { workFile } from '../ml/work-file.ts';
import { ngramRange } from './featurizer.ts';

export const textDatasetSchema = z.object({
  /** A JSONL file (one JSON object per line) relative to the work dir, e.g. `inputs/dataset.jsonl`. */
  file: workFile,
  textColumn: z.string().min(1).default('text'),
  labelColumn: z.string().min(1).default('label'),
  /** A column holding 'train' | 'validation' | 'test' per row; without it every row is training data. */
  splitColumn: z.string().min(1).optional(),
});

export const textClassifierParams = z.object({
  dataset: textDatasetSchema,
  wordNgrams: ngramRange.nullable().default([1, 2]),
  charNgrams: ngramRange.nullable().default([2, 5]),
  sublinearTf: z.boolean().default(true),
  minDf: z.number().int().min(1).default(2),
  maxFeatures: z.number().int().min(1).max(500_000).default(50_000),
  model: z.enum(['softmax', 'mlp']).default('mlp'),
  hiddenSize: z.number().int().min(1).max(4096).default(256),
  epochs: z.number().int().min(1).max(1000).default(6),
  batchSize: z.number().int().min(1).max(65_536).default(32),
  learningRate: z.number().positive().max(10).default(0.002),
  schedule: z.enum(['linear', 'constant']).default('linear'),
  l2: z.number().min(0).max(10).default(0),
  dropout: z.number().min(0).max(0.95).default(0.3),
  labelSmoothing: z.number().min(0).max(0.5).default(0),
  seed: z.number().int().min(0).max(0xffffffff).default(42),
  validationFraction: z.number().min(0).max(0.5).default(0.1),
  patience: z.number().int().min(1).max(1000).default(3),
  classWeights: z.enum(['balanced', 'none']).default('none'),
  oosLabel: z.string().min(1).default('oos'),
  /** The abstain threshold's objective on validation: the best in-scope accuracy with OOS recall ≥ oosRecallTarget, or the lowest cost. */
  thresholdObjective: z.enum(['oos-recall-target', 'cost']).default('oos-recall-target'),
  oosRecallTarget: z.number().min(0).max(1).default(0.6),
  /** `cost` objective: the cost of answering an out-of-scope query relative to failing an in-scope one. */
  costRatio: z.number().min(0).max(1000).default(1),
  /** When validation has no out-of-scope rows: the share of training intents held out to simulate them (0: no threshold). */
  simulatedOosFraction: z.number().min(0).max(0.5).default(0.25),
  /** Epochs of the simulation's model (at most `epochs`; null: `epochs`): it only has to rank validation rows like the real model, so it is trained shorter. */
  simulationEpochs: z.number().int().min(1).max(1000).nullable().default(3),
  /**
   * What the abstain threshold is compared with (MLP only, else the top probability; ml/confidence.ts):
   * the query's hidden activations' best match with k-means prototypes of each class (cosine adjusted
   * by the prototype's spread and the class probability), the best cosine with a training row's or a
   * class centroid's, or the top probability.
   */
  confidence: z.enum(['prototype-cosine', 'nearest-cosine', 'centroid-cosine', 'max-probability']).default('prototype-cosine'),
  checkpointEvery: z.number().int().min(0).max(10_000_000).default(500),
  /** The exported ONNX graph's input: an embedding bag (`ids` + `weights`, fast for one row), or the dense `features` matrix [N, F] older versions have. */
  onnxInput: z.enum(['embedding-bag', 'features']).default('embedding-bag'),
});
export type TextClassifierParams = z.infer<typeof textClassifierParams>;

export const textClassifierRecipe = {
  name: 'text-classifier',
  description:
    'Trains a text classifier (TF-IDF word + char_wb n-grams, then a softmax or one-hidden-layer MLP) on a JSONL dataset, ' +
    'with early stopping on validation and an abstain threshold chosen on validation by an explicit objective (default: the best in-scope accuracy ' +
    'with out-of-scope recall ≥ oosRecallTarget; out-of-scope rows are those labelled oosLabel or unseen, simulated by holding out intents when there are none), ' +
    'checkpoints every checkpointEvery steps and exact resume. Artifacts: model.onnx (embedding bag: ids + weights → probabilities; onnxInput: features for a dense [N, F] input), featurizer.json, ' +
    'metrics.json, predictions.json (test split). Result: {labels, metrics, threshold, operatingPoint, steps, epochs, featureCount, onnxInput, resumedFrom}.',
  entry: new URL('./main.ts', import.meta.url),
  params: textClassifierParams,
} satisfies RecipeDescriptor;
