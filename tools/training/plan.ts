/**
 * The pure part of training: which recipe a dataset gets, the recipe's `dataset` params for the
 * stored JSONL, the default model name, and the model's signature from the job's result.
 */
import { AnvilError, ErrorCodes, z } from 'anvil/plugin';
import type { DatasetVersion, ResolvedDataset } from '../datasets/index.ts';
import { MODEL_NAME, type ModelTask, type RegisterVersionInput } from '../models/index.ts';

export const TRAINING_RECIPES = ['text-classifier', 'tabular-classifier', 'torch-text-classifier'] as const;
export type TrainingRecipe = (typeof TRAINING_RECIPES)[number];

/** The job input the dataset blob is downloaded as, and the path the recipe reads it from (its cwd is the work dir). */
export const DATASET_INPUT = 'dataset.jsonl';
export const DATASET_FILE = `inputs/${DATASET_INPUT}`;
/** The split field every stored dataset row carries ('train' | 'validation' | 'test'). */
export const SPLIT_COLUMN = 'split';
/** The artifacts registered with the model (predictions.json stays with the job). */
export const MODEL_ARTIFACTS = ['model.onnx', 'featurizer.json', 'metrics.json'] as const;

export const TASKS: Record<TrainingRecipe, ModelTask> = {
  'text-classifier': 'text-classification',
  'tabular-classifier': 'tabular-classification',
  'torch-text-classifier': 'text-classification',
};

/** Recipes that read a text column (the rest read feature columns). */
const TEXT_RECIPES: ReadonlySet<TrainingRecipe> = new Set(['text-classifier', 'torch-text-classifier']);

export function isTrainingRecipe(value: string): value is TrainingRecipe {
  return (TRAINING_RECIPES as readonly string[]).includes(value);
}

function invalid(message: string, field: string): AnvilError {
  return new AnvilError(ErrorCodes.INVALID_INPUT, message, { details: { field } });
}

const describeVersion = (dataset: Pick<ResolvedDataset, 'name' | 'version'>) => `dataset "${dataset.name}" version ${dataset.version}`;

/** The recipe asked for, or text-classifier when the dataset has a text column, else tabular-classifier; checked against the dataset's columns. */
export function chooseRecipe(dataset: ResolvedDataset, requested?: TrainingRecipe): TrainingRecipe {
  if (dataset.labelColumn === null) throw invalid(`dataset: ${describeVersion(dataset)} has no label column; import it again with labelColumn`, 'dataset');
  if (dataset.labels.length < 2) {
    throw invalid(`dataset: ${describeVersion(dataset)} has ${dataset.labels.length} label${dataset.labels.length === 1 ? '' : 's'}; a classifier needs at least 2`, 'dataset');
  }
  const recipe = requested ?? (dataset.textColumn !== null ? 'text-classifier' : 'tabular-classifier');
  if (TEXT_RECIPES.has(recipe) && dataset.textColumn === null) {
    throw invalid(`recipe: ${describeVersion(dataset)} has no text column for ${recipe}; use tabular-classifier or import it again with textColumn`, 'recipe');
  }
  if (recipe === 'tabular-classifier' && dataset.featureColumns.length === 0) {
    throw invalid(`recipe: ${describeVersion(dataset)} has no feature columns for tabular-classifier; use text-classifier or import it again with featureColumns`, 'recipe');
  }
  return recipe;
}

/** The recipe's `params.dataset` for the stored JSONL: its file in the work dir and the dataset's column roles. */
export function datasetParams(dataset: ResolvedDataset, recipe: TrainingRecipe): Record<string, unknown> {
  const common = { file: DATASET_FILE, labelColumn: dataset.labelColumn, splitColumn: SPLIT_COLUMN };
  if (TEXT_RECIPES.has(recipe)) return { ...common, textColumn: dataset.textColumn };
  const categorical = new Set(dataset.columns.filter((column) => column.type === 'category').map((column) => column.name));
  return { ...common, featureColumns: [...dataset.featureColumns], categoricalColumns: dataset.featureColumns.filter((name) => categorical.has(name)) };
}

/** `<dataset>-<recipe>`, or INVALID_INPUT asking for `model` when that is not a valid model name. */
export function defaultModelName(datasetName: string, recipe: TrainingRecipe): string {
  const name = `${datasetName}-${recipe}`;
  if (!MODEL_NAME.test(name)) throw invalid(`model: the default name "${name}" is not a valid model name (at most 100 characters); give one in model`, 'model');
  return name;
}

/** What the classifier recipes report on success (other keys are kept in the job's result, not read here). */
export const classifierResultSchema = z.looseObject({
  labels: z.array(z.string().min(1)).min(1),
  metrics: z.record(z.string(), z.unknown()),
  threshold: z.number().min(0).max(1).optional(),
  featureCount: z.number().int().min(0).optional(),
  /** The ONNX graph's input form; absent in results of versions before the embedding-bag export (dense). */
  onnxInput: z.enum(['features', 'embedding-bag']).optional(),
  /** How the abstain threshold was chosen (text-classifier): objective, method, figures at it on validation. */
  operatingPoint: z.looseObject({ method: z.string() }).optional(),
  steps: z.number().int().min(0).optional(),
  epochs: z.number().int().min(0).optional(),
});
export type ClassifierResult = z.output<typeof classifierResultSchema>;

/**
 * The model's signature: what a caller gives it (the text column, or each feature column with its
 * type), what it answers (a probability per label; the top label, or none below the threshold),
 * and how the ONNX graph is fed: `onnx.inputForm` 'dense' (`features` [N, F] from featurizer.json)
 * or 'embedding-bag' (`ids` [N, L] int64 and `weights` [N, L] float32: each row's active feature ids
 * and values, padded with id F and weight 0 — `toEmbeddingBag` in text-classifier/bag.ts). Versions
 * registered before the field existed have no `inputForm` and are dense.
 */
export function signatureOf(recipe: TrainingRecipe, dataset: Pick<DatasetVersion, 'textColumn' | 'featureColumns' | 'columns'>, result: ClassifierResult, params: Record<string, unknown>): RegisterVersionInput['signature'] {
  const classes = result.labels.length;
  const threshold = result.threshold !== undefined && result.threshold > 0 ? result.threshold : undefined;
  const inputs =
    TEXT_RECIPES.has(recipe)
      ? [{ name: dataset.textColumn ?? 'text', type: 'string', description: 'The text to classify' }]
      : dataset.featureColumns.map((name) => {
          const type = dataset.columns.find((column) => column.name === name)?.type;
          return type === 'number'
            ? { name, type: 'number', description: 'Standardised with the training mean and std; missing → the mean' }
            : { name, type: 'string', description: 'Categorical: one-hot over the most frequent training values; others → unknown' };
        });
  const oosLabel = TEXT_RECIPES.has(recipe) && typeof params.oosLabel === 'string' && result.labels.includes(params.oosLabel) ? params.oosLabel : undefined;
  // text-classifier's default compares the ONNX `confidence` output (a cosine) with the threshold.
  const confidenceKind = result.operatingPoint?.confidence;
  const cosine = confidenceKind === 'prototype-cosine' ? "the best-matching k-means prototype of a class (adjusted by the prototype's spread and its class's probability)" : confidenceKind === 'nearest-cosine' ? 'the nearest training row' : confidenceKind === 'centroid-cosine' ? 'the nearest class centroid' : null;
  const abstains = [threshold === undefined ? undefined : cosine ? `its confidence (output confidence: the cosine of its hidden activations with ${cosine}) is below ${threshold}` : `its probability is below ${threshold}`, oosLabel === undefined ? undefined : `it is "${oosLabel}"`].filter((part) => part !== undefined);
  return {
    inputs,
    outputs: [
      { name: 'probabilities', type: 'float32', shape: [-1, classes], description: 'One probability per label, in the order of labels' },
      {
        name: 'label',
        type: 'string',
        nullable: abstains.length > 0,
        description: abstains.length > 0 ? `The most probable label, or none (abstain, out of scope) when ${abstains.join(' or ')}` : 'The most probable label',
      },
    ],
    labels: result.labels,
    ...(threshold === undefined ? {} : { threshold }),
    ...(oosLabel === undefined ? {} : { oosLabel }),
    ...(result.operatingPoint === undefined ? {} : { operatingPoint: result.operatingPoint }),
    onnx: {
      artifact: 'model.onnx',
      featurizer: 'featurizer.json',
      ...(result.onnxInput === 'embedding-bag'
        ? {
            inputForm: 'embedding-bag',
            inputs: [
              { name: 'ids', type: 'int64', shape: [-1, -1], description: 'Active feature ids per row; padding id = vocabularySize' },
              { name: 'weights', type: 'float32', shape: [-1, -1], description: 'The features\' values, 0 for padding' },
            ],
            vocabularySize: result.featureCount ?? -1,
          }
        : { inputForm: 'dense', input: { name: 'features', type: 'float32', shape: [-1, result.featureCount ?? -1] } }),
      output: { name: 'probabilities', type: 'float32', shape: [-1, classes] },
      ...(cosine ? { confidence: { name: 'confidence', type: 'float32', shape: [-1], description: `Compared with the threshold: the cosine of the hidden activations with ${cosine}` } } : {}),
    },
  };
}
