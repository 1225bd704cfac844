import { z, type ToolSpec } from 'anvil/plugin';
import { COLUMN_TYPES } from '../columns.ts';
import { LIMITS, NAME_PATTERN } from '../limits.ts';
import { FORMATS } from '../readers.ts';
import type { DatasetsRuntime } from '../runtime.ts';
import type { ImportOutcome } from '../service.ts';
import { columnSchema, labelCountSchema, splitsSchema, topLabels } from './view.ts';

const column = z.string().min(1).max(200);

export const datasetName = z
  .string()
  .min(1)
  .max(LIMITS.nameMaxChars)
  .regex(NAME_PATTERN, "letters, digits, '.', '_' or '-', starting with a letter or digit");

const input = z
  .object({
    name: datasetName.describe('The dataset name in your project; importing again under the same name adds a version'),
    path: z
      .string()
      .min(1)
      .max(4096)
      .describe("An absolute path on the Anvil server's disk, under a directory the operator opened for imports (datasets.roots); a stdio user may also give paths in the server's working directory"),
    format: z.enum(FORMATS).optional().describe('Default: from the extension (.csv, .jsonl/.ndjson, .json)'),
    textColumn: column.optional().describe('Default: a column named text, sentence, utterance, query, content, prompt, input or question'),
    labelColumn: column.optional().describe('Default: a column named label, labels, category, intent, class or target'),
    featureColumns: z.array(column).max(LIMITS.maxColumns).optional().describe('Default: every column but the text, label and split ones'),
    splitColumn: column.optional().describe('A column naming each row\'s split (train, validation, test); a column named "split" is used by default'),
    split: z
      .object({
        validation: z.number().min(0).lt(1).optional().describe(`Fraction held out for validation (default ${LIMITS.defaultValidation})`),
        test: z.number().min(0).lt(1).optional().describe(`Fraction held out for test (default ${LIMITS.defaultTest})`),
        seed: z.number().int().min(0).max(2 ** 32 - 1).optional().describe(`Shuffle seed (default ${LIMITS.defaultSeed})`),
      })
      .strict()
      .optional()
      .describe('Split stratified by label when the data names no splits'),
    columnTypes: z.record(column, z.enum(COLUMN_TYPES)).optional().describe('Overrides the inferred types, e.g. {"zip": "category"}'),
  })
  .strict();

const output = z.object({
  id: z.string(),
  name: z.string(),
  version: z.number().int(),
  sha256: z.string(),
  sizeBytes: z.number().int(),
  format: z.enum(FORMATS),
  rows: z.number().int(),
  columns: z.array(columnSchema),
  textColumn: z.string().nullable(),
  labelColumn: z.string().nullable(),
  featureColumns: z.array(z.string()),
  splits: splitsSchema,
  splitMode: z.enum(['column', 'stratified', 'random']),
  seed: z.number().int().nullable(),
  labels: z.object({ count: z.number().int(), top: z.array(labelCountSchema).describe(`The ${LIMITS.importLabelsTop} most frequent labels`) }),
  created: z.boolean().describe('false: the latest version already held this content with these options, and is returned'),
  createdAt: z.string(),
});

/** What datasets_import (and the upload route) answer. */
export function importResult({ version, created }: ImportOutcome): z.output<typeof output> {
  return {
    id: version.id,
    name: version.name,
    version: version.version,
    sha256: version.sha256,
    sizeBytes: version.sizeBytes,
    format: version.format,
    rows: version.rows,
    columns: version.columns,
    textColumn: version.textColumn,
    labelColumn: version.labelColumn,
    featureColumns: version.featureColumns,
    splits: version.splits,
    splitMode: version.splitMode,
    seed: version.seed,
    labels: topLabels(version),
    created,
    createdAt: version.createdAt,
  };
}

export function importTool(name: string, datasets: () => DatasetsRuntime): ToolSpec<typeof input, typeof output> {
  return {
    name,
    title: 'Import a dataset',
    description:
      "Imports a CSV, JSONL or JSON file from the server's disk as the next version of a dataset: checks every row (errors name the line and column), " +
      'infers column types, splits train/validation/test (stratified by label with a seed, or as a split column says) and stores it as content-addressed JSONL ' +
      'that training jobs download. Importing identical content with identical options again returns the existing version.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['datasets:write'],
    async handler(args, { project, principal, signal, progress, audit }) {
      const { name: dataset, path, ...options } = args;
      const outcome = await datasets().service.importFile(
        {
          project,
          by: principal.id,
          name: dataset,
          options,
          signal,
          progress: (bytes, total, rows) => void progress({ progress: bytes, ...(total > 0 ? { total } : {}), message: `${rows} rows read` }).catch(() => {}),
        },
        path,
        principal,
      );
      audit({ dataset, version: outcome.version.version, sha256: outcome.version.sha256, rows: outcome.version.rows, created: outcome.created });
      return importResult(outcome);
    },
  };
}
