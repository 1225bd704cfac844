import { z, type ToolSpec } from 'anvil/plugin';
import type { EvaluationDeps } from '../service.ts';
import { evaluationView } from './get.ts';
import { evaluationRecordOutput, modelNameSchema } from './view.ts';

export const EVAL_LIST_MAX = 100;

const input = z
  .object({
    model: modelNameSchema.describe('A registered model of your project'),
    version: z.number().int().min(1).optional().describe('Only evaluations of this version (as candidate or champion); default every version'),
    limit: z.number().int().min(1).max(EVAL_LIST_MAX).optional().describe('At most this many, newest first (default 20)'),
  })
  .strict();

const output = z.object({ evaluations: z.array(evaluationRecordOutput) });

export function listTool(name: string, deps: EvaluationDeps): ToolSpec<typeof input, typeof output> {
  return {
    name,
    title: 'List a model’s evaluations',
    description:
      'The finished evaluations of a model of your project, newest first: those that evaluated it and the comparisons it took part in ' +
      '(as candidate or champion), optionally of one version, with headline metrics, verdict and report URI (read one with eval_get). ' +
      'An unknown model is ANVIL_E_NOT_FOUND.',
    input,
    output,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['evaluation:read'],
    async handler({ model, version, limit }, { project }) {
      // Refuses a model that is not this project's exactly like one that does not exist.
      await deps.registry().get(project, model, version ?? 'latest');
      const records = await deps.store.listForModel(project, model, version, limit ?? 20);
      return { evaluations: records.map(evaluationView) };
    },
  };
}
