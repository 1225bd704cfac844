/** The shapes the datasets tools answer with, and the mappers from store records to them. */
import { z } from 'anvil/plugin';
import { COLUMN_TYPES } from '../columns.ts';
import { LIMITS } from '../limits.ts';
import { FORMATS } from '../readers.ts';
import { SPLITS } from '../split.ts';
import type { DatasetVersion, LineageEntry } from '../store.ts';

export const columnSchema = z.object({
  name: z.string(),
  type: z.enum(COLUMN_TYPES),
  inferred: z.enum(['text', 'number', 'category']),
  empty: z.number().int(),
  distinct: z.number().int(),
  distinctCapped: z.boolean().describe('true: at least this many distinct values (counting stopped)'),
});

export const splitsSchema = z.object({ train: z.number().int(), validation: z.number().int(), test: z.number().int() });

export const labelCountSchema = z.object({ label: z.string(), count: z.number().int() });

export const versionSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  version: z.number().int(),
  sha256: z.string().describe('SHA-256 of the normalised JSONL; workers download it as a blob'),
  sizeBytes: z.number().int(),
  format: z.enum(FORMATS).describe('The source format; the stored file is JSONL'),
  rows: z.number().int(),
  textColumn: z.string().nullable(),
  labelColumn: z.string().nullable(),
  featureColumns: z.array(z.string()),
  splits: splitsSchema,
  splitMode: z.enum(['column', 'stratified', 'random']),
  seed: z.number().int().nullable(),
  labelCount: z.number().int(),
  createdAt: z.string(),
  createdBy: z.string(),
});

export const lineageSchema = z.object({
  kind: z.enum(['trained', 'evaluated']),
  jobId: z.string().nullable(),
  model: z.object({ name: z.string(), version: z.string() }).nullable(),
  at: z.string(),
});

export const splitEnum = z.enum(SPLITS);

export function versionSummary(version: DatasetVersion): z.output<typeof versionSummarySchema> {
  return {
    id: version.id,
    name: version.name,
    version: version.version,
    sha256: version.sha256,
    sizeBytes: version.sizeBytes,
    format: version.format,
    rows: version.rows,
    textColumn: version.textColumn,
    labelColumn: version.labelColumn,
    featureColumns: version.featureColumns,
    splits: version.splits,
    splitMode: version.splitMode,
    seed: version.seed,
    labelCount: version.labelCount,
    createdAt: version.createdAt,
    createdBy: version.createdBy,
  };
}

export interface LabelTotals {
  label: string;
  train: number;
  validation: number;
  test: number;
  total: number;
}

/** Every label with its rows per split, most frequent first (ties by label). */
export function labelTotals(version: DatasetVersion): LabelTotals[] {
  const byLabel = new Map<string, LabelTotals>();
  for (const split of SPLITS) {
    for (const [label, count] of Object.entries(version.labelDistribution[split] ?? {})) {
      const entry = byLabel.get(label) ?? { label, train: 0, validation: 0, test: 0, total: 0 };
      entry[split] += count;
      entry.total += count;
      byLabel.set(label, entry);
    }
  }
  return [...byLabel.values()].sort((a, b) => b.total - a.total || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

export function topLabels(version: DatasetVersion, top: number = LIMITS.importLabelsTop): { count: number; top: Array<{ label: string; count: number }> } {
  const totals = labelTotals(version);
  return { count: totals.length, top: totals.slice(0, top).map(({ label, total }) => ({ label, count: total })) };
}

export function lineageView(entry: LineageEntry): z.output<typeof lineageSchema> {
  return { kind: entry.kind, jobId: entry.jobId, model: entry.model, at: entry.at };
}
