/**
 * The adapter to the training recipes' featurisers: serving featurises with the very code that
 * featurised the training data (gpu-workers/recipes/*\/featurizer.ts), never a copy of it. Both
 * give sparse rows (CSR); the model runner packs them densely or as an embedding bag.
 */
import { Featurizer, TabularFeaturizer, tabularFeaturizerSpecSchema, textFeaturizerSpecSchema, type Csr } from '../../../gpu-workers/index.ts';

export type { Csr };

export interface ServingFeaturizer {
  readonly kind: 'text' | 'tabular';
  readonly featureCount: number;
  readonly labels: readonly string[];
  /** The threshold saved with the model (0: never, except the OOS class). */
  readonly threshold: number;
  /** What the threshold is compared with: the top probability, or the model's `confidence` output (a text model's prototype, nearest-row or centroid cosine). */
  readonly confidence: 'max-probability' | 'centroid-cosine' | 'nearest-cosine' | 'prototype-cosine';
  readonly oosLabel: string | null;
  /** Tabular: the columns in feature order (numeric first). Text: empty. */
  readonly columns: readonly string[];
  /** Tabular: the numeric columns. */
  readonly numericColumns: readonly string[];
  transform(inputs: readonly unknown[]): Csr;
}

/** A featurizer.json object → the featuriser its recipe wrote it for. */
export function featurizerFromSpec(json: unknown): ServingFeaturizer {
  const kind = typeof json === 'object' && json !== null ? (json as { kind?: unknown }).kind : undefined;
  if (kind === 'anvil.text-featurizer') {
    const spec = textFeaturizerSpecSchema.parse(json);
    const featurizer = Featurizer.fromSpec(spec);
    return {
      kind: 'text',
      featureCount: featurizer.featureCount,
      labels: spec.labels,
      threshold: spec.threshold,
      confidence: spec.confidence ?? 'max-probability',
      oosLabel: spec.oosLabel,
      columns: [],
      numericColumns: [],
      transform: (inputs) => featurizer.transformSparse(inputs as string[]),
    };
  }
  if (kind === 'anvil.tabular-featurizer') {
    const spec = tabularFeaturizerSpecSchema.parse(json);
    const featurizer = TabularFeaturizer.fromSpec(spec);
    return {
      kind: 'tabular',
      featureCount: featurizer.featureCount,
      labels: spec.labels,
      threshold: spec.threshold,
      confidence: 'max-probability',
      oosLabel: null,
      columns: [...spec.numeric.map((c) => c.column), ...spec.categorical.map((c) => c.column)],
      numericColumns: spec.numeric.map((c) => c.column),
      transform: (inputs) => featurizer.transformSparse(inputs as Array<Record<string, unknown>>),
    };
  }
  throw new Error(`featurizer.json has kind ${JSON.stringify(kind)}; expected anvil.text-featurizer or anvil.tabular-featurizer`);
}
