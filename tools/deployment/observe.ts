/**
 * What a deployment did in a window, per variant, from the prediction log and feedback: requests,
 * errors, latency, batch sizes, abstentions, online quality, drift; and shadow agreement. The
 * canary's guardrails read the same numbers.
 */
import type { SqlExecutor } from 'anvil/plugin';
import type { DatasetStore } from '../datasets/index.ts';
import type { ModelRegistry } from '../models/index.ts';
import { macroF1Interval, psi, wilson, type Interval, type LabelledPair } from './quality.ts';
import type { Deployment, GuardrailMetric } from './schema.ts';
import { loadSql } from './sql.ts';

const SQL = {
  variantStats: loadSql('variant-stats'),
  classCounts: loadSql('class-counts'),
  feedbackRows: loadSql('feedback-rows'),
  shadowAgreement: loadSql('shadow-agreement'),
} as const;

const FEEDBACK_ROWS_MAX = 20_000;

export interface VariantReport {
  variant: string;
  modelVersion: number;
  shadow: boolean;
  requests: number;
  errors: number;
  errorRate: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  meanBatch: number | null;
  maxBatch: number | null;
  abstainRate: number | null;
  feedback: number;
  accuracy: Interval | null;
  macroF1: Interval | null;
  /** PSI of the predicted classes against the evaluation set's classes (the model's dataset, test split). */
  psi: number | null;
  classes: number;
}

export interface WindowReport {
  since: string;
  variants: VariantReport[];
  shadow: { pairs: number; agreement: number | null; primaryMeanMs: number | null; shadowMeanMs: number | null } | null;
}

type StatsRow = { variant: string; shadow: boolean; model_version: number; requests: number; errors: number; p50_ms: number | null; p99_ms: number | null; mean_batch: number | null; max_batch: number | null; abstained: number };
type ClassRow = { variant: string; top_label: string; n: number };
type FeedbackRow = { variant: string; label: string | null; predicted: string | null; correct: boolean | null };
type AgreementRow = { pairs: number; agree: number; primary_ms: number | null; shadow_ms: number | null };

/** What `observe` reads from the database for one window, before any of it is summarised. */
export interface WindowRows {
  stats: StatsRow[];
  classes: ClassRow[];
  feedback: FeedbackRow[];
  /** null when the deployment has no shadow and logged none in the window. */
  agreement: AgreementRow | null;
}

/** What summarising needs besides the rows: where the evaluation sets' class counts live. */
export interface BaselineDeps {
  registry: () => ModelRegistry;
  datasets: () => DatasetStore;
}

/** The evaluation set's class counts for a model version (its dataset's test split, else validation, else train). */
async function baseline(deps: BaselineDeps, deployment: Deployment, version: number): Promise<Map<string, number> | null> {
  try {
    const record = await deps.registry().resolve(deployment.project, deployment.model, version);
    const dataset = record.lineage.dataset;
    if (!dataset) return null;
    const stored = await deps.datasets().get(deployment.project, dataset.name, Number(dataset.version));
    const split = ['test', 'validation', 'train'].map((s) => stored.labelDistribution[s as keyof typeof stored.labelDistribution]).find((d) => d && Object.keys(d).length > 0);
    return split ? new Map(Object.entries(split)) : null;
  } catch {
    return null;
  }
}

/**
 * The window's rows, in the queries `db` runs them (several: give it a snapshot transaction, see
 * `readSnapshot`, for parts that agree with each other under concurrent log writes). Only `db` is
 * queried, so it may be a transaction on embedded PGlite.
 */
export async function readWindow(db: SqlExecutor, deployment: Deployment, since: Date, only?: string): Promise<WindowRows> {
  const { project, name } = deployment;
  const stats = (await db.query<StatsRow>(SQL.variantStats, [project, name, since])).rows.filter((row) => !only || row.variant === only);
  const classes = (await db.query<ClassRow>(SQL.classCounts, [project, name, since])).rows;
  const feedback = (await db.query<FeedbackRow>(SQL.feedbackRows, [project, name, since, only ?? null, FEEDBACK_ROWS_MAX])).rows;
  const agreement = deployment.shadow || stats.some((row) => row.shadow) ? ((await db.query<AgreementRow>(SQL.shadowAgreement, [project, name, since])).rows[0] ?? null) : null;
  return { stats, classes, feedback, agreement };
}

/** The report of a window's rows read by `readWindow` (the drift baselines are looked up here, outside any read transaction). */
export async function summarize(deps: BaselineDeps, deployment: Deployment, since: Date, rows: WindowRows): Promise<WindowReport> {
  const { stats, classes: classRows, feedback, agreement } = rows;
  const baselines = new Map<number, Map<string, number> | null>();
  const variants: VariantReport[] = [];
  for (const row of stats) {
    const requests = Number(row.requests);
    const errors = Number(row.errors);
    const served = requests - errors;
    const pairs: LabelledPair[] = row.shadow ? [] : feedback.filter((f) => f.variant === row.variant && f.label !== null).map((f) => ({ label: f.label as string, predicted: f.predicted }));
    let drift: number | null = null;
    let classes = 0;
    if (!row.shadow) {
      const counts = new Map(classRows.filter((c) => c.variant === row.variant).map((c) => [c.top_label, Number(c.n)]));
      classes = [...counts.values()].reduce((a, b) => a + b, 0);
      if (!baselines.has(row.model_version)) baselines.set(row.model_version, await baseline(deps, deployment, row.model_version));
      const expected = baselines.get(row.model_version);
      drift = expected ? psi(expected, counts) : null;
    }
    variants.push({
      variant: row.variant,
      modelVersion: row.model_version,
      shadow: row.shadow,
      requests,
      errors,
      errorRate: requests > 0 ? errors / requests : null,
      p50Ms: row.p50_ms === null ? null : Number(row.p50_ms),
      p99Ms: row.p99_ms === null ? null : Number(row.p99_ms),
      meanBatch: row.mean_batch === null ? null : Number(row.mean_batch),
      maxBatch: row.max_batch === null ? null : Number(row.max_batch),
      abstainRate: served > 0 ? Number(row.abstained) / served : null,
      feedback: pairs.length,
      accuracy: wilson(pairs.filter((p) => p.label === p.predicted).length, pairs.length),
      macroF1: macroF1Interval(pairs),
      psi: drift,
      classes,
    });
  }
  let shadow: WindowReport['shadow'] = null;
  if (agreement) {
    const pairs = Number(agreement.pairs);
    shadow = {
      pairs,
      agreement: pairs > 0 ? Number(agreement.agree) / pairs : null,
      primaryMeanMs: agreement.primary_ms == null ? null : Number(agreement.primary_ms),
      shadowMeanMs: agreement.shadow_ms == null ? null : Number(agreement.shadow_ms),
    };
  }
  return { since: since.toISOString(), variants, shadow };
}

/** A guardrail metric of one variant's report, with its sample count. */
export function reading(report: VariantReport | undefined, metric: GuardrailMetric): { value: number | null; samples: number } {
  if (!report) return { value: null, samples: 0 };
  const served = report.requests - report.errors;
  switch (metric) {
    case 'error_rate':
      return { value: report.errorRate, samples: report.requests };
    case 'p99_latency_ms':
      return { value: report.p99Ms, samples: report.requests };
    case 'abstain_rate':
      return { value: report.abstainRate, samples: served };
    case 'accuracy':
      return { value: report.accuracy?.value ?? null, samples: report.feedback };
    case 'psi':
      return { value: report.psi, samples: report.classes };
  }
}
