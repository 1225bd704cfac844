import { randomUUID } from 'node:crypto';
import { AnvilError, ErrorCodes, z, type ToolSpec } from 'anvil/plugin';
import { LIMITS as DATASET_LIMITS, NAME_PATTERN } from '../../datasets/limits.ts';
import { JOB_STATES } from '../../jobs/states.ts';
import { LIMITS as JOB_LIMITS } from '../../jobs/store.ts';
import { modelNameSchema } from '../../models/schema.ts';
import { chooseRecipe, DATASET_INPUT, datasetParams, defaultModelName, TRAINING_RECIPES } from '../plan.ts';
import type { TrainingRuntime } from '../runtime.ts';

const datasetName = z
  .string()
  .min(1)
  .max(DATASET_LIMITS.nameMaxChars)
  .regex(NAME_PATTERN, "letters, digits, '.', '_' or '-', starting with a letter or digit");

const input = z
  .object({
    dataset: z
      .union([datasetName, z.object({ name: datasetName, version: z.number().int().min(1).optional().describe('Default: the latest') }).strict()])
      .describe('The dataset to train on: its name (latest version) or {name, version}'),
    recipe: z
      .enum(TRAINING_RECIPES)
      .optional()
      .describe('Default: text-classifier when the dataset has a text column, else tabular-classifier. torch-text-classifier: PyTorch (needs python3-torch on the worker)'),
    params: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        "The recipe's training params, checked against its schema: e.g. model ('mlp' | 'softmax'), epochs, hiddenSize, batchSize, learningRate, seed, " +
          'patience, classWeights; text-classifier also wordNgrams, charNgrams, minDf, maxFeatures, oosLabel. Leave out dataset: it is filled in',
      ),
    model: modelNameSchema.optional().describe('The registry model the result is registered under, as its next version. Default: "<dataset>-<recipe>"'),
    resources: z
      .object({
        gpus: z.number().int().min(0).max(64).optional(),
        gpuType: z.string().max(40).optional(),
        minVramGb: z.number().positive().max(4096).optional(),
        cpus: z.number().positive().max(1024).optional(),
        memoryGb: z.number().positive().max(65536).optional(),
      })
      .strict()
      .optional()
      .describe('What the job needs of a worker (default: CPU). torch-text-classifier uses CUDA when its worker has a GPU: ask for {gpus: 1}; the others do not use GPUs'),
    priority: z.number().int().min(JOB_LIMITS.priorityMin).max(JOB_LIMITS.priorityMax).optional().describe('Higher runs first (default 0)'),
    idempotencyKey: z.string().min(1).max(200).optional().describe('Starting again with the same key returns the first training job'),
  })
  .strict();

const output = z.object({
  jobId: z.string().describe('The training job; watch it with jobs_get (waitSeconds), jobs_logs, jobs_metrics'),
  state: z.enum(JOB_STATES),
  created: z.boolean().describe('false when the idempotency key named an existing training job'),
  recipe: z.enum(TRAINING_RECIPES),
  model: z.string().describe('The model the job registers a version of when it succeeds (its result then says which: {model: {name, version}})'),
  dataset: z.object({ name: z.string(), version: z.number().int(), sha256: z.string() }),
});

function conflict(message: string, details: Record<string, unknown>): AnvilError {
  return new AnvilError(ErrorCodes.CONFLICT, message, { details });
}

export function startTool(name: string, training: () => TrainingRuntime): ToolSpec<typeof input, typeof output> {
  return {
    name,
    title: 'Train a model on a dataset',
    description:
      'Starts a training job on a dataset version (text-classifier for text datasets, tabular-classifier otherwise) and returns its job id at once. ' +
      "When the job succeeds, its model is registered in the model registry as the next version of `model` with the job's metrics, a signature, " +
      "lineage (dataset name/version/SHA-256, job, code version, params) and artifacts (model.onnx, featurizer.json, metrics.json); the job's result " +
      'then names it ({model: {name, version}}). Watch it with jobs_get (waitSeconds); read the model with models_get.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    scopes: ['training:write'],
    async handler(args, { project, principal, audit, emit }) {
      const runtime = training();
      const ref = typeof args.dataset === 'string' ? { name: args.dataset } : args.dataset;
      const dataset = await runtime.datasets.resolve(project, ref.name, ref.version);
      const recipe = chooseRecipe(dataset, args.recipe);
      const userParams = args.params ?? {};
      if ('dataset' in userParams) {
        throw new AnvilError(ErrorCodes.INVALID_INPUT, 'params.dataset: training_start fills it in from the dataset version; leave it out', { details: { field: 'params.dataset' } });
      }
      const model = args.model ?? defaultModelName(dataset.name, recipe);

      // The run is recorded before the job exists, under the key the job is submitted with: a crash
      // after the submit still leaves the success hook a run to register the model by.
      const key = args.idempotencyKey ?? `training-${randomUUID()}`;
      const reserved = await runtime.runs.reserve({
        key,
        project,
        model,
        dataset: { id: dataset.id, name: dataset.name, version: dataset.version, sha256: dataset.sha256 },
        recipe,
        params: userParams,
        createdBy: principal.id,
      });
      if (!reserved.created && (reserved.run.dataset.id !== dataset.id || reserved.run.model !== model)) {
        const existing = reserved.run;
        throw conflict(
          `Idempotency key "${key}" already started ${existing.jobId === null ? 'a training' : `job ${existing.jobId} training`} model "${existing.model}" on dataset "${existing.dataset.name}" version ${existing.dataset.version}; use a new key for a different training`,
          { idempotencyKey: key, jobId: existing.jobId, model: existing.model, dataset: { name: existing.dataset.name, version: existing.dataset.version } },
        );
      }
      const submitted = await runtime.jobs
        .submit(project, {
          recipe,
          params: { ...userParams, dataset: datasetParams(dataset, recipe) },
          inputs: [{ name: DATASET_INPUT, sha256: dataset.sha256 }],
          ...(args.resources === undefined ? {} : { resources: args.resources }),
          ...(args.priority === undefined ? {} : { priority: args.priority }),
          idempotencyKey: key,
        })
        .catch(async (error: unknown) => {
          // Refused (bad params, a key used by another job): no job will ever need this run.
          if (reserved.created) await runtime.runs.release(project, key);
          throw error;
        });
      const { job, created } = submitted;
      if (!(await runtime.runs.attach(project, key, job.id))) {
        throw conflict(`Idempotency key "${key}" names a training run of another job than ${job.id}; use a new key`, { idempotencyKey: key, jobId: job.id });
      }
      await runtime.datasets.recordLineage(dataset.id, { jobId: job.id, kind: 'trained' });

      audit({ jobId: job.id, created, recipe, model, dataset: dataset.name, datasetVersion: dataset.version });
      if (created) emit('started', { jobId: job.id, recipe, model, dataset: { name: dataset.name, version: dataset.version }, by: principal.id });
      return { jobId: job.id, state: job.state, created, recipe, model, dataset: { name: dataset.name, version: dataset.version, sha256: dataset.sha256 } };
    },
  };
}
