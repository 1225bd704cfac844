import { Readable } from 'node:stream';
import { AnvilError, ErrorCodes, z, type ToolSpec } from 'anvil/plugin';
import { deploymentNameSchema } from '../schema.ts';
import { loadSql } from '../sql.ts';
import type { Ready } from '../runtime.ts';

const ROWS = loadSql('feedback-dataset-rows');
const ROWS_MAX = 100_000;

const input = z
  .object({
    name: deploymentNameSchema,
    dataset: z.string().min(1).max(100).optional().describe('Dataset name; default "<deployment>-feedback"'),
  })
  .strict();

const output = z.object({ dataset: z.string(), version: z.number().int(), rows: z.number().int(), created: z.boolean().describe('false: no new feedback since the last version') });

type Row = { request_id: string; deployment: string; variant: string; model_version: number; label: string; input: unknown; by: string; at: Date | string };

export function feedbackDatasetTool(ready: Ready): ToolSpec<typeof input, typeof output> {
  return {
    name: 'deployments_feedback_dataset',
    title: 'Cut a dataset version from feedback',
    description:
      'Writes the deployment’s labelled feedback (rows whose input was logged: logging.inputs) as a new version of a dataset, each row tagged with its source ' +
      '(source_deployment, source_request_id, source_by, source_at, source_variant, source_model_version), ready for training_start.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['deployments:write', 'datasets:write'],
    async handler(args, { project, principal, signal }) {
      const runtime = ready();
      const deployment = await runtime.store.get(project, args.name);
      const rows = (await runtime.sql.query<Row>(ROWS, [project, args.name, ROWS_MAX])).rows;
      if (rows.length === 0) throw new AnvilError(ErrorCodes.CONFLICT, `deployment "${args.name}" has no labelled feedback with logged inputs yet (set logging.inputs: true with deployments_update)`, { details: { field: 'name' } });
      const text = typeof rows[0]?.input === 'string';
      const lines = rows.map((row) =>
        JSON.stringify({
          ...(text ? { text: row.input } : (row.input as Record<string, unknown>)),
          label: row.label,
          source_deployment: row.deployment,
          source_request_id: row.request_id,
          source_by: row.by,
          source_at: (row.at instanceof Date ? row.at : new Date(row.at)).toISOString(),
          source_variant: row.variant,
          source_model_version: row.model_version,
        }),
      );
      const name = args.dataset ?? `${args.name}-feedback`;
      const outcome = await runtime
        .datasets()
        .service.importUpload(
          { project, by: principal.id, name, options: { labelColumn: 'label', ...(text ? { textColumn: 'text' } : {}), columnTypes: { source_model_version: 'category' } }, signal },
          Readable.from([`${lines.join('\n')}\n`]),
          'jsonl',
          `feedback of deployment ${deployment.name}`,
        );
      return { dataset: name, version: outcome.version.version, rows: outcome.version.rows, created: outcome.created };
    },
  };
}
