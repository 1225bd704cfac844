/**
 * Recipe `torch-text-classifier`: PyTorch (Debian's python3-torch) on the same JSON-lines protocol as
 * the TypeScript recipes. Its params schema and descriptor; the entry is `run`, a launcher that
 * starts main.py with a Python that has torch. `unavailable()` says why a machine cannot run it
 * (no such Python), so a worker does not offer it and `anvil doctor` / `jobs_explain` say so.
 * See README.md in this folder.
 */
import * as z from 'zod';
import type { RecipeSpec as RecipeDescriptor } from '../../../plugins/sdk/types.ts';
import { ngramRange } from '../text-classifier/featurizer.ts';
import { textDatasetSchema } from '../text-classifier/recipe.ts';
import { torchUnavailable } from './availability.ts';

export const torchTextClassifierParams = z.object({
  dataset: textDatasetSchema,
  wordNgrams: ngramRange.nullable().default([1, 2]),
  charNgrams: ngramRange.nullable().default([2, 5]),
  sublinearTf: z.boolean().default(true),
  minDf: z.number().int().min(1).default(2),
  maxFeatures: z.number().int().min(1).max(500_000).default(50_000),
  /** Embedding (and hidden) width of the bag of n-gram embeddings. */
  hiddenSize: z.number().int().min(1).max(4096).default(256),
  epochs: z.number().int().min(1).max(1000).default(6),
  batchSize: z.number().int().min(1).max(65_536).default(32),
  learningRate: z.number().positive().max(10).default(0.002),
  dropout: z.number().min(0).max(0.95).default(0.3),
  labelSmoothing: z.number().min(0).max(0.5).default(0),
  seed: z.number().int().min(0).max(0xffffffff).default(42),
  validationFraction: z.number().min(0).max(0.5).default(0.1),
  oosLabel: z.string().min(1).default('oos'),
  oosRecallTarget: z.number().min(0).max(1).default(0.6),
  checkpointEvery: z.number().int().min(0).max(10_000_000).default(500),
  /** `auto`: CUDA when torch sees a GPU (submit with resources {gpus: 1} to get one), else CPU. */
  device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  /** torch.set_num_threads; 0 leaves torch's default. */
  threads: z.number().int().min(0).max(256).default(0),
});
export type TorchTextClassifierParams = z.infer<typeof torchTextClassifierParams>;

export const torchTextClassifierRecipe = {
  name: 'torch-text-classifier',
  description:
    'Trains a fastText-style text classifier in PyTorch: TF-IDF-weighted word + char_wb n-gram ids into an EmbeddingBag, ReLU, a linear layer ' +
    '(CUDA when available and asked for with resources {gpus: 1}, else CPU). Same dataset params and artifacts as text-classifier: model.onnx ' +
    '(torch.onnx.export, opset 13, embedding-bag input ids + weights), featurizer.json, metrics.json, predictions.json; abstain threshold by ' +
    'the OOS recall target on validation OOS rows. Checkpoints, exact resume, SIGTERM. Needs python3 with torch on the worker (Debian python3-torch).',
  entry: new URL('./run', import.meta.url),
  params: torchTextClassifierParams,
  unavailable: torchUnavailable,
} satisfies RecipeDescriptor;
