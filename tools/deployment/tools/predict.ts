import { z, type ToolSpec } from 'anvil/plugin';
import { deploymentNameSchema, LIMITS } from '../schema.ts';
import type { Ready } from '../runtime.ts';

const input = z
  .object({
    deployment: deploymentNameSchema,
    inputs: z
      .array(z.union([z.string(), z.record(z.string(), z.unknown())]))
      .min(1)
      .max(LIMITS.inputsMax)
      .describe('Texts for a text model, row objects ({column: value}) for a tabular one'),
    requestKey: z.string().min(1).max(LIMITS.requestKeyMax).optional().describe('Routes sticky: the same key always reaches the same variant (e.g. a user id)'),
    topK: z.number().int().min(1).max(LIMITS.topKMax).default(3),
  })
  .strict();

export const predictionSchema = z.object({
  requestId: z.string().describe('Give it to feedback with the true label later'),
  label: z.string().nullable().describe('null: abstained (out of scope)'),
  abstained: z.boolean(),
  topK: z.array(z.object({ label: z.string(), probability: z.number() })),
  variant: z.string(),
  modelVersion: z.number().int(),
  threshold: z.number().describe('The abstain threshold that served it'),
});

const output = z.object({ deployment: z.string(), model: z.string(), predictions: z.array(predictionSchema) });

export function predictTool(ready: Ready): ToolSpec<typeof input, typeof output> {
  return {
    name: 'predict',
    title: 'Predict with a deployment',
    description:
      'Classifies inputs with a deployed model: per input the label (null when abstaining as out of scope), the top-k probabilities, ' +
      'the variant and model version that answered and a requestId for feedback. requestKey keeps a caller on one variant.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    scopes: ['deployments:predict'],
    async handler(args, { project }) {
      const { deployment, model, predictions } = await ready().service.predict(project, args.deployment, args.inputs, { requestKey: args.requestKey, topK: args.topK });
      return { deployment, model, predictions };
    },
  };
}
