import { AnvilError, ErrorCodes, z, type ToolSpec } from 'anvil/plugin';
import { datasetInput, modelNameSchema, modelRef, splitInput, submittedOutput, versionRef } from './view.ts';
import { reportUri, resolveModel, submitEvaluation, type EvaluationDeps } from '../service.ts';

/** The alias a comparison's champion defaults to. */
export const CHAMPION_ALIAS = 'champion';

const input = z
  .object({
    candidate: z
      .object({
        model: modelNameSchema.describe('A registered model of your project'),
        version: versionRef.optional().describe('Default: the latest version'),
      })
      .strict(),
    champion: z
      .object({
        model: modelNameSchema.optional().describe("Default: the candidate's model"),
        version: versionRef.optional().describe(`Default: the model's "${CHAMPION_ALIAS}" alias`),
      })
      .strict()
      .optional()
      .describe(`What the candidate is measured against; default the candidate model's "${CHAMPION_ALIAS}" alias`),
    dataset: datasetInput,
    split: splitInput.optional(),
    idempotencyKey: z.string().min(1).max(200).optional().describe('Submitting again with the same key returns the first job'),
  })
  .strict();

const output = z.object({ ...submittedOutput, candidate: modelRef, champion: modelRef });

export function compareTool(name: string, deps: EvaluationDeps): ToolSpec<typeof input, typeof output> {
  return {
    name,
    title: 'Compare a candidate with the champion',
    description:
      `Scores a candidate model version and a champion (by default the candidate model's "${CHAMPION_ALIAS}" alias) on the same rows of a ` +
      'dataset split in one job, then compares them: metric deltas, paired bootstrap intervals of the accuracy and macro-F1 deltas, and a ' +
      'verdict (better, worse or inconclusive) on macro F1. Returns the job id at once: wait with jobs_get {id, waitSeconds}, then eval_get ' +
      '{id} and the report resource.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    scopes: ['evaluation:write'],
    async handler(args, { project, audit }) {
      const candidate = await resolveModel(deps, project, args.candidate.model, args.candidate.version, 'candidate.version');
      const championModel = args.champion?.model ?? args.candidate.model;
      const champion = await resolveModel(deps, project, championModel, args.champion?.version ?? CHAMPION_ALIAS, 'champion.version');
      if (candidate.name === champion.name && candidate.version === champion.version) {
        throw new AnvilError(ErrorCodes.INVALID_INPUT, `the candidate and the champion are the same version (${candidate.name} v${candidate.version}): nothing to compare`, {
          details: { field: 'champion' },
        });
      }
      const dataset = typeof args.dataset === 'string' ? { name: args.dataset } : args.dataset;
      const split = args.split ?? 'test';
      const submitted = await submitEvaluation(deps, project, {
        models: [
          { role: 'candidate', version: candidate },
          { role: 'champion', version: champion },
        ],
        dataset,
        split,
        idempotencyKey: args.idempotencyKey,
      });
      audit({
        jobId: submitted.job.id,
        candidate: `${candidate.name}@${candidate.version}`,
        champion: `${champion.name}@${champion.version}`,
        dataset: submitted.dataset.name,
        datasetVersion: submitted.dataset.version,
        split,
      });
      return {
        jobId: submitted.job.id,
        state: submitted.job.state,
        created: submitted.created,
        candidate: { name: candidate.name, version: candidate.version },
        champion: { name: champion.name, version: champion.version },
        dataset: { name: submitted.dataset.name, version: submitted.dataset.version },
        split,
        rows: submitted.rows,
        reportUri: reportUri(submitted.job.id),
      };
    },
  };
}
