/**
 * The success hook of the classifier recipes: when a job training_start submitted succeeds, its
 * model is registered as the next version of the run's model (metrics, signature, lineage,
 * artifacts), the dataset version records which model it trained, and the job's result gains
 * `{model: {name, version}}`. It runs before the job is marked succeeded; a throw fails the job
 * (`finalize_failed`). Jobs of these recipes submitted some other way (jobs_submit) are left alone.
 */
import type { Logger } from 'anvil/plugin';
import type { ArtifactRecord } from '../../gpu-workers/wire.ts';
import { anvilVersion } from '../../server/version.ts';
import type { DatasetStore } from '../datasets/index.ts';
import type { SuccessHook } from '../jobs/service.ts';
import type { Job } from '../jobs/store.ts';
import type { ModelRegistry } from '../models/index.ts';
import { classifierResultSchema, isTrainingRecipe, MODEL_ARTIFACTS, signatureOf, TASKS } from './plan.ts';
import type { TrainingRun, TrainingRunStore } from './store.ts';

const REQUIRED_ARTIFACTS = ['model.onnx', 'featurizer.json'] as const;

export interface HookDeps {
  runs: TrainingRunStore;
  datasets: () => DatasetStore;
  registry: () => ModelRegistry;
  log: Logger;
}

/**
 * training_start reserves the run under the job's idempotency key before submitting, then names
 * the job; if it stopped in between (a crash), the run is found by the key and the job attached here.
 */
async function runOf(deps: HookDeps, job: Job): Promise<TrainingRun | undefined> {
  const run = await deps.runs.get(job.id);
  if (run || job.idempotencyKey === null) return run;
  return deps.runs.attach(job.project, job.idempotencyKey, job.id);
}

/**
 * The model's artifacts, registered under their file names. The recipes publish them as `model`,
 * `featurizer`, `metrics` (files model.onnx, featurizer.json, metrics.json); either name is taken.
 * model.onnx and featurizer.json must be there.
 */
function pickArtifacts(job: Job, artifacts: readonly ArtifactRecord[]): Array<{ name: string; sha256: string; size: number; mediaType: string }> {
  const byName = new Map(artifacts.map((artifact) => [artifact.name, artifact]));
  const find = (file: string) => byName.get(file) ?? byName.get(file.slice(0, file.lastIndexOf('.')));
  const missing = REQUIRED_ARTIFACTS.filter((file) => find(file) === undefined);
  if (missing.length > 0) {
    const have = artifacts.map((artifact) => artifact.name).join(', ') || 'none';
    throw new Error(`job ${job.id} published no ${missing.join(' or ')} (it has: ${have}); there is no model to register`);
  }
  return MODEL_ARTIFACTS.flatMap((file) => {
    const artifact = find(file);
    return artifact ? [{ name: file, sha256: artifact.sha256, size: artifact.size, mediaType: artifact.mediaType }] : [];
  });
}

export function trainingSuccessHook(deps: HookDeps): SuccessHook {
  return async (job, result, artifacts) => {
    if (!isTrainingRecipe(job.recipe)) return undefined;
    const run = await runOf(deps, job);
    if (!run) return undefined;
    const parsed = classifierResultSchema.safeParse(result);
    if (!parsed.success) {
      throw new Error(`the result of job ${job.id} is not a classifier's: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'result'}: ${issue.message}`).join('; ')}`);
    }
    const dataset = await deps.datasets().byId(run.dataset.id);
    const registered = await deps.registry().registerVersion(job.project, {
      name: run.model,
      description: `${TASKS[job.recipe]} model trained by training_start with recipe ${job.recipe} on dataset "${run.dataset.name}"`,
      task: TASKS[job.recipe],
      recipe: job.recipe,
      metrics: parsed.data.metrics,
      signature: signatureOf(job.recipe, dataset, parsed.data, job.params),
      lineage: {
        dataset: { name: run.dataset.name, version: run.dataset.version, sha256: run.dataset.sha256 },
        jobId: job.id,
        codeVersion: anvilVersion,
        params: job.params,
      },
      artifacts: pickArtifacts(job, artifacts),
      createdBy: run.createdBy,
    });
    const model = { name: registered.name, version: registered.version };
    // The model's own lineage already names the dataset; this is the dataset's side of the link.
    await deps
      .datasets()
      .recordLineage(run.dataset.id, { jobId: job.id, model, kind: 'trained' })
      .catch((error: unknown) => deps.log.warn({ err: error, jobId: job.id, model }, 'could not record the trained model in the dataset lineage'));
    deps.log.info({ jobId: job.id, model, created: registered.created }, 'trained model registered');
    return { model };
  };
}
