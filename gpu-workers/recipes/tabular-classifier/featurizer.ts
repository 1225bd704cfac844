/**
 * Table rows → a dense float feature vector: numeric columns standardised with the training rows'
 * mean and standard deviation (a missing or non-numeric value becomes the mean, i.e. 0), then each
 * categorical column one-hot over its training values (the `maxCategories` most frequent) plus one
 * "unknown" slot for anything else, missing included. Layout: numeric columns in order, then each
 * categorical column's values in spec order followed by its unknown slot.
 */
import * as z from 'zod';
import { type Csr, CsrBuilder, type Dense, toDense } from '../ml/matrix.ts';

export const tabularFeaturizerSpecSchema = z.object({
  kind: z.literal('anvil.tabular-featurizer'),
  version: z.literal(1),
  numeric: z.array(z.object({ column: z.string(), mean: z.number(), std: z.number().positive() })),
  categorical: z.array(z.object({ column: z.string(), values: z.array(z.string()) })),
  labels: z.array(z.string()).min(2),
  /** The positive class for PR-AUC (binary tasks), else null. */
  positiveLabel: z.string().nullable(),
  threshold: z.number().min(0).max(1),
  model: z.object({ kind: z.enum(['softmax', 'mlp']), hidden: z.number().int().min(0), input: z.literal('features'), output: z.literal('probabilities') }),
});
export type TabularFeaturizerSpec = z.infer<typeof tabularFeaturizerSpecSchema>;
export type TabularColumnsSpec = Pick<TabularFeaturizerSpec, 'numeric' | 'categorical'>;
type Row = Readonly<Record<string, unknown>>;

/** A finite number from a number or a numeric string; undefined otherwise. */
export function numericValue(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  if (typeof value === 'boolean') return value ? 1 : 0;
  return undefined;
}

const isMissing = (value: unknown): boolean => value === undefined || value === null || value === '';
const categoryOf = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/**
 * Learns the columns from training rows. `categorical` columns are one-hot; other `columns` are
 * numeric when every present value is numeric, else categorical.
 */
export function fitColumns(rows: readonly Row[], columns: readonly string[], categorical: readonly string[], maxCategories: number): TabularColumnsSpec {
  const spec: TabularColumnsSpec = { numeric: [], categorical: [] };
  for (const column of columns) {
    const present = rows.map((row) => row[column]).filter((value) => !isMissing(value));
    const numbers = present.map(numericValue);
    if (!categorical.includes(column) && numbers.every((n) => n !== undefined)) {
      const values = numbers as number[];
      const mean = values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : 0;
      const variance = values.length > 0 ? values.reduce((a, b) => a + (b - mean) * (b - mean), 0) / values.length : 0;
      const std = Math.sqrt(variance);
      spec.numeric.push({ column, mean, std: std > 1e-12 ? std : 1 });
    } else {
      const counts = new Map<string, number>();
      for (const value of present) counts.set(categoryOf(value), (counts.get(categoryOf(value)) ?? 0) + 1);
      const values = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, maxCategories).map(([value]) => value);
      spec.categorical.push({ column, values });
    }
  }
  return spec;
}

export class TabularFeaturizer {
  private readonly offsets: number[];
  private readonly lookups: Map<string, number>[];
  readonly featureCount: number;

  private constructor(readonly spec: TabularColumnsSpec) {
    let at = spec.numeric.length;
    this.offsets = [];
    this.lookups = [];
    for (const c of spec.categorical) {
      this.offsets.push(at);
      this.lookups.push(new Map(c.values.map((value, i) => [value, i])));
      at += c.values.length + 1;
    }
    this.featureCount = at;
  }

  static fromSpec(spec: TabularColumnsSpec | unknown): TabularFeaturizer {
    const parsed = tabularFeaturizerSpecSchema.pick({ numeric: true, categorical: true }).safeParse(spec);
    if (!parsed.success) throw new Error(`not a tabular featurizer spec: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return new TabularFeaturizer(parsed.data);
  }

  /** Feature names in layout order (`column`, `column=value`, `column=<unknown>`). */
  featureNames(): string[] {
    return [
      ...this.spec.numeric.map((c) => c.column),
      ...this.spec.categorical.flatMap((c) => [...c.values.map((value) => `${c.column}=${value}`), `${c.column}=<unknown>`]),
    ];
  }

  transformSparse(rows: readonly Row[]): Csr {
    const builder = new CsrBuilder(this.featureCount);
    for (const row of rows) {
      const entries: [number, number][] = [];
      this.spec.numeric.forEach((c, i) => {
        const value = numericValue(row[c.column]);
        if (value !== undefined) entries.push([i, Math.fround((value - c.mean) / c.std)]);
      });
      this.spec.categorical.forEach((c, k) => {
        const value = row[c.column];
        const index = isMissing(value) ? undefined : (this.lookups[k] as Map<string, number>).get(categoryOf(value));
        entries.push([(this.offsets[k] as number) + (index ?? c.values.length), 1]);
      });
      builder.addRow(entries);
    }
    return builder.build();
  }

  /** Dense [rows.length, featureCount] float32 features: the ONNX model's `features` input. */
  transform(rows: readonly Row[]): Dense {
    return toDense(this.transformSparse(rows));
  }
}
