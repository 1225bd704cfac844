/**
 * What the evaluation tools do: resolve registered model versions and a dataset version, check they
 * fit together, submit one `evaluation` job whose inputs are their blobs, record the dataset's
 * lineage; and, when such a job succeeds, store its summary (the success hook).
 */
import { AnvilError, ErrorCodes } from 'anvil/plugin';
import type { ArtifactRecord } from '../../contracts/wire.ts';
import type { DatasetsRuntime, ResolvedDataset } from '../datasets/index.ts';
import type { Job, JobsRuntime } from '../jobs/index.ts';
import type { ModelArtifact, ModelRegistry, ModelVersion, VersionRef } from '../models/index.ts';
import type { EvaluationRecord, EvaluationStore } from './store.ts';
import { type EvaluationParams, type EvaluationSplit, type EvaluationSubject, type ModelRole, evaluationParams, evaluationResultSchema } from '../../gpu-workers/index.ts';

export const EVALUATION_RECIPE = 'evaluation';
/** Wall-clock limit of an evaluation job. */
export const EVALUATION_TIMEOUT_MS = 2 * 60 * 60 * 1000;

export const reportUri = (id: string): string => `anvil://evaluations/${encodeURIComponent(id)}/report`;
export const detailUri = (id: string): string => `anvil://evaluations/${encodeURIComponent(id)}/detail`;

export interface EvaluationDeps {
  jobs: () => JobsRuntime;
  datasets: () => DatasetsRuntime;
  registry: () => ModelRegistry;
  store: EvaluationStore;
}

export interface DatasetRef {
  name: string;
  version?: number | undefined;
}

export interface ModelChoice {
  role: ModelRole;
  version: ModelVersion;
}

export interface SubmittedEvaluation {
  job: Job;
  created: boolean;
  dataset: ResolvedDataset;
  /** Rows of the split the job scores. */
  rows: number;
}

const notFound = (message: string, details: Record<string, unknown>) => new AnvilError(ErrorCodes.NOT_FOUND, message, { details });
const invalid = (message: string, details: Record<string, unknown>) => new AnvilError(ErrorCodes.INVALID_INPUT, message, { details });

/** A registered version (number, alias or latest); NOT_FOUND naming what is missing. */
export async function resolveModel(deps: EvaluationDeps, project: string, name: string, version: VersionRef | undefined, field: string): Promise<ModelVersion> {
  try {
    return await deps.registry().resolve(project, name, version ?? null);
  } catch (error) {
    if (error instanceof AnvilError && error.code === ErrorCodes.NOT_FOUND && typeof version === 'string' && !/^[0-9]+$/.test(version) && version !== 'latest') {
      const alias = version;
      if (/has no alias/.test(error.message)) {
        throw notFound(`${field}: model "${name}" has no alias "${alias}"; set it with models_set_alias {name: "${name}", alias: "${alias}", version} or name a version`, {
          field,
          name,
          alias,
        });
      }
    }
    throw error;
  }
}

/** The model's ONNX graph and featurizer among its registered artifacts (named `model.onnx`/`model`, `featurizer.json`/`featurizer`). */
export function modelFiles(version: ModelVersion): { model: ModelArtifact; featurizer: ModelArtifact } {
  const named = (...names: string[]) => names.map((name) => version.artifacts.find((a) => a.name === name)).find((a) => a !== undefined);
  const model = named('model.onnx', 'model') ?? version.artifacts.find((a) => a.name.endsWith('.onnx') || a.mediaType === 'application/onnx');
  const featurizer = named('featurizer.json', 'featurizer');
  if (!model || !featurizer) {
    const have = version.artifacts.map((a) => a.name).join(', ') || 'none';
    throw notFound(
      `Model "${version.name}" v${version.version} has no ${model ? 'featurizer.json' : 'model.onnx'} artifact (it has: ${have}); only text-classifier and tabular-classifier models can be evaluated`,
      { name: version.name, version: version.version },
    );
  }
  return { model, featurizer };
}

function splitRows(dataset: ResolvedDataset, split: EvaluationSplit): number {
  return split === 'all' ? dataset.rows : dataset.splits[split];
}

function checkFit(dataset: ResolvedDataset, models: readonly ModelChoice[], split: EvaluationSplit): void {
  const where = `dataset "${dataset.name}" v${dataset.version}`;
  if (!dataset.labelColumn) throw invalid(`${where} has no label column: an evaluation needs labelled rows`, { field: 'dataset' });
  for (const { role, version } of models) {
    if (version.task === 'text-classification' && !dataset.textColumn) {
      throw invalid(`${where} has no text column, but ${role} "${version.name}" v${version.version} is a text classifier`, { field: 'dataset' });
    }
    if (version.task === 'tabular-classification' && dataset.featureColumns.length === 0) {
      throw invalid(`${where} has no feature columns, but ${role} "${version.name}" v${version.version} is a tabular classifier`, { field: 'dataset' });
    }
  }
  const [first, second] = models;
  if (first && second && first.version.task !== second.version.task) {
    throw invalid(`the candidate is a ${first.version.task} model and the champion a ${second.version.task} one; compare models of one task`, { field: 'champion' });
  }
  if (splitRows(dataset, split) === 0) {
    const { train, validation, test } = dataset.splits;
    throw invalid(`${where} has no ${split} rows (train ${train}, validation ${validation}, test ${test}); pass split`, { field: 'split', splits: dataset.splits });
  }
}

/** Resolves the dataset, checks it against the models, submits the job and records lineage. */
export async function submitEvaluation(
  deps: EvaluationDeps,
  project: string,
  request: { models: ModelChoice[]; dataset: DatasetRef; split: EvaluationSplit; idempotencyKey?: string | undefined },
): Promise<SubmittedEvaluation> {
  const datasets = deps.datasets();
  const dataset = await datasets.store.resolve(project, request.dataset.name, request.dataset.version);
  checkFit(dataset, request.models, request.split);

  const inputs: Array<{ name: string; sha256: string }> = [{ name: 'dataset.jsonl', sha256: dataset.sha256 }];
  const models: EvaluationParams['models'] = [];
  for (const { role, version } of request.models) {
    const files = modelFiles(version);
    inputs.push({ name: `${role}-model.onnx`, sha256: files.model.sha256 }, { name: `${role}-featurizer.json`, sha256: files.featurizer.sha256 });
    models.push({ role, model: `inputs/${role}-model.onnx`, featurizer: `inputs/${role}-featurizer.json`, name: `${version.name} v${version.version}` });
  }
  const candidate = request.models.find((m) => m.role === 'candidate')?.version;
  const champion = request.models.find((m) => m.role === 'champion')?.version;
  if (!candidate) throw invalid('a candidate model is required', { field: 'candidate' });
  const subject: EvaluationSubject = {
    kind: champion ? 'compare' : 'run',
    candidate: { name: candidate.name, version: candidate.version },
    champion: champion ? { name: champion.name, version: champion.version } : null,
    dataset: { name: dataset.name, version: dataset.version, sha256: dataset.sha256 },
  };
  const params: Record<string, unknown> = {
    dataset: {
      file: 'inputs/dataset.jsonl',
      ...(dataset.textColumn ? { textColumn: dataset.textColumn } : {}),
      ...(dataset.featureColumns.length > 0 ? { featureColumns: dataset.featureColumns } : {}),
      labelColumn: dataset.labelColumn,
      splitColumn: 'split',
    },
    split: request.split,
    models,
    subject,
  };

  const { job, created } = await deps.jobs().service.submit(project, {
    recipe: EVALUATION_RECIPE,
    params,
    inputs,
    timeoutMs: EVALUATION_TIMEOUT_MS,
    ...(request.idempotencyKey === undefined ? {} : { idempotencyKey: request.idempotencyKey }),
  });
  for (const { version } of request.models) {
    await datasets.store.recordLineage(dataset.id, { jobId: job.id, model: { name: version.name, version: version.version }, kind: 'evaluated' });
  }
  return { job, created, dataset, rows: splitRows(dataset, request.split) };
}

/** The newest artifact of that name (a retried job may have reported one per attempt). */
function artifactNamed(artifacts: readonly ArtifactRecord[], name: string): ArtifactRecord | undefined {
  return artifacts.filter((a) => a.name === name).at(-1);
}

/**
 * Stores a succeeded evaluation job's summary (the success hook, and eval_get for a job that
 * succeeded while the hook was not registered). Throws when the result is not the recipe's.
 */
export async function recordEvaluation(store: EvaluationStore, job: Job, result: unknown, artifacts: readonly ArtifactRecord[]): Promise<EvaluationRecord> {
  const parsed = evaluationResultSchema.safeParse(result);
  if (!parsed.success) {
    throw new AnvilError(ErrorCodes.INTERNAL, `evaluation job ${job.id}: its result is not an evaluation summary (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
  }
  const summary = parsed.data;
  const params = evaluationParams.safeParse(job.params);
  const subject = params.success ? (params.data.subject ?? null) : null;
  return store.save({
    id: job.id,
    project: job.project,
    kind: subject?.kind ?? (summary.comparison ? 'compare' : 'run'),
    model: subject?.candidate ?? null,
    champion: subject?.champion ?? null,
    dataset: subject?.dataset ?? null,
    split: summary.split,
    rows: summary.rows,
    metrics: {
      candidate: summary.evaluations.candidate,
      ...(summary.evaluations.champion ? { champion: summary.evaluations.champion } : {}),
      ...(summary.comparison ? { comparison: summary.comparison } : {}),
    },
    verdict: summary.comparison?.verdict ?? null,
    reportSha256: artifactNamed(artifacts, 'report')?.sha256 ?? null,
    evaluationSha256: artifactNamed(artifacts, 'evaluation')?.sha256 ?? null,
  });
}

/**
 * The project's stored evaluation `id`. A succeeded evaluation job not stored yet is stored now;
 * one still running, failed or cancelled is CONFLICT saying so; anything else NOT_FOUND.
 */
export async function findEvaluation(deps: EvaluationDeps, project: string, id: string): Promise<EvaluationRecord> {
  const stored = await deps.store.find(project, id);
  if (stored) return stored;
  const missing = notFound(`No evaluation ${id} in project ${project}; eval_run and eval_compare return evaluation ids (their jobId)`, { id });
  const runtime = deps.jobs();
  const job = await runtime.service.store.get(project, id).catch(() => undefined);
  if (!job || job.recipe !== EVALUATION_RECIPE) throw missing;
  if (job.state === 'succeeded') return recordEvaluation(deps.store, job, job.result, await runtime.service.artifacts(job.id));
  const why =
    job.state === 'failed'
      ? `failed: ${job.error?.message ?? 'see jobs_get'}; jobs_logs {id: "${id}"} shows why`
      : job.state === 'cancelled'
        ? 'was cancelled'
        : `is ${job.state}; wait for it with jobs_get {id: "${id}", waitSeconds: 120}`;
  throw new AnvilError(ErrorCodes.CONFLICT, `Evaluation ${id} has no results: its job ${why}`, { details: { id, state: job.state } });
}
