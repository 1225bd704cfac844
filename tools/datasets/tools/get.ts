import { z, type ToolSpec } from 'anvil/plugin';
import { LIMITS } from '../limits.ts';
import type { DatasetsRuntime } from '../runtime.ts';
import { datasetName } from './import.ts';
import { columnSchema, labelTotals, lineageSchema, lineageView, splitEnum, versionSummary, versionSummarySchema } from './view.ts';

const input = z
  .object({
    name: datasetName,
    version: z.number().int().min(1).optional().describe('Default: the latest'),
    sampleRows: z.number().int().min(0).max(LIMITS.sampleMax).optional().describe(`Rows to show (default ${LIMITS.sampleDefault}); long values are cut`),
    split: splitEnum.optional().describe('Sample only this split'),
  })
  .strict();

const output = z.object({
  dataset: versionSummarySchema.extend({ columns: z.array(columnSchema), source: z.string(), latestVersion: z.number().int() }),
  labels: z.object({
    count: z.number().int(),
    truncated: z.boolean().describe(`true: only the ${LIMITS.getLabelsMax} most frequent labels are listed`),
    distribution: z.array(z.object({ label: z.string(), train: z.number().int(), validation: z.number().int(), test: z.number().int(), total: z.number().int() })),
  }),
  lineage: z.array(lineageSchema).describe('Jobs and models that trained on or were evaluated with this version, newest first'),
  sample: z.object({
    split: splitEnum.nullable(),
    rows: z.array(z.record(z.string(), z.unknown())),
    truncated: z.boolean().describe(`true: more rows matched; the sample stops at sampleRows or ${LIMITS.sampleBudgetBytes} bytes`),
    valuesCut: z.boolean().describe(`true: strings longer than ${LIMITS.sampleValueChars} characters were cut (they end with …)`),
  }),
});

export function getTool(name: string, datasets: () => DatasetsRuntime): ToolSpec<typeof input, typeof output> {
  return {
    name,
    title: 'Show a dataset',
    description:
      'One dataset version (the latest by default): columns and their types, split sizes, the label distribution per split, the jobs and models that used it, and a few sample rows.',
    input,
    output,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['datasets:read'],
    async handler(args, { project }) {
      const runtime = datasets();
      const version = await runtime.store.get(project, args.name, args.version);
      const latest = args.version === undefined ? version : await runtime.store.get(project, args.name);
      const totals = labelTotals(version);
      const [lineage, sample] = await Promise.all([
        runtime.store.lineage(project, { datasetVersionId: version.id, limit: LIMITS.lineageMax }),
        runtime.service.sample(version, args.sampleRows ?? LIMITS.sampleDefault, args.split),
      ]);
      return {
        dataset: { ...versionSummary(version), columns: version.columns, source: version.source, latestVersion: latest.version },
        labels: { count: totals.length, truncated: totals.length > LIMITS.getLabelsMax, distribution: totals.slice(0, LIMITS.getLabelsMax) },
        lineage: lineage.map(lineageView),
        sample: { split: args.split ?? null, ...sample },
      };
    },
  };
}
