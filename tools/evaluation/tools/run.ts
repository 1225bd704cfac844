import { z, type ToolSpec } from 'anvil/plugin';
import { modelRef, datasetInput, modelNameSchema, splitInput, submittedOutput, versionRef } from './view.ts';
import { reportUri, resolveModel, submitEvaluation, type EvaluationDeps } from '../service.ts';

const input = z
  .object({
    model: modelNameSchema.describe('A registered model of your project'),
    version: versionRef.optional().describe('A version number, an alias (e.g. "champion") or "latest" (the default)'),
    dataset: datasetInput,
    split: splitInput.optional(),
    idempotencyKey: z.string().min(1).max(200).optional().describe('Submitting again with the same key returns the first job'),
  })
  .strict();

const output = z.object({ ...submittedOutput, model: modelRef });

export function runTool(name: string, deps: EvaluationDeps): ToolSpec<typeof input, typeof output> {
  return {
    name,
    title: 'Evaluate a model',
    description:
      'Scores a registered model version on a split of a dataset (the test split by default) in a job and computes accuracy, macro/micro F1, ' +
      'per-class metrics, the confusion matrix, log loss, calibration (ECE), bootstrap intervals and out-of-scope metrics. Returns the job id at ' +
      'once: wait with jobs_get {id, waitSeconds}, then eval_get {id} for the summary and read the report resource (Markdown). Labels the model ' +
      'never saw are reported in unseenLabels.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    scopes: ['evaluation:write'],
    async handler(args, { project, audit }) {
      const version = await resolveModel(deps, project, args.model, args.version, 'version');
      const dataset = typeof args.dataset === 'string' ? { name: args.dataset } : args.dataset;
      const split = args.split ?? 'test';
      const submitted = await submitEvaluation(deps, project, {
        models: [{ role: 'candidate', version }],
        dataset,
        split,
        idempotencyKey: args.idempotencyKey,
      });
      audit({ jobId: submitted.job.id, model: version.name, version: version.version, dataset: submitted.dataset.name, datasetVersion: submitted.dataset.version, split });
      return {
        jobId: submitted.job.id,
        state: submitted.job.state,
        created: submitted.created,
        model: { name: version.name, version: version.version },
        dataset: { name: submitted.dataset.name, version: submitted.dataset.version },
        split,
        rows: submitted.rows,
        reportUri: reportUri(submitted.job.id),
      };
    },
  };
}
