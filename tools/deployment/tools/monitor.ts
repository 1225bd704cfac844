import { z, type ToolSpec } from 'anvil/plugin';
import { readWindow, summarize } from '../observe.ts';
import { deploymentNameSchema, type Deployment } from '../schema.ts';
import { monitorSeries, SERIES_POINTS_MAX } from '../series.ts';
import { readSnapshot } from '../sql.ts';
import type { HistoryEntry } from '../store.ts';
import type { DeploymentsRuntime, Ready } from '../runtime.ts';

/** `window`'s bounds and default, in seconds (the MCP App clamps the window it asks for to them). */
export const MONITOR_WINDOW = { min: 10, max: 30 * 24 * 3600, default: 3600 } as const;

const input = z
  .object({
    name: deploymentNameSchema,
    window: z.number().int().min(MONITOR_WINDOW.min).max(MONITOR_WINDOW.max).default(MONITOR_WINDOW.default).describe('Seconds back from now'),
    series: z
      .object({ points: z.number().int().min(2).max(SERIES_POINTS_MAX).default(120).describe('At most this many time buckets per variant') })
      .strict()
      .optional()
      .describe('Also the window over time, per variant, from the stored prediction log'),
  })
  .strict();

const interval = z.object({ value: z.number(), low: z.number(), high: z.number() }).nullable();
const round = (value: number | null, digits = 4) => (value === null ? null : Number(value.toFixed(digits)));
const roundInterval = (i: { value: number; low: number; high: number } | null) => (i ? { value: round(i.value) as number, low: round(i.low) as number, high: round(i.high) as number } : null);

const output = z.object({
  name: z.string(),
  since: z.string(),
  variants: z.array(
    z.object({
      variant: z.string(),
      modelVersion: z.number().int(),
      shadow: z.boolean(),
      weight: z.number(),
      requests: z.number().int(),
      errors: z.number().int(),
      errorRate: z.number().nullable(),
      p50Ms: z.number().nullable(),
      p99Ms: z.number().nullable(),
      meanBatch: z.number().nullable(),
      maxBatch: z.number().nullable(),
      abstainRate: z.number().nullable(),
      feedback: z.number().int(),
      accuracy: interval,
      macroF1: interval,
      psi: z.number().nullable().describe('Drift of the predicted classes against the evaluation set (above 0.25: large)'),
    }),
  ),
  shadow: z.object({ pairs: z.number(), agreement: z.number().nullable(), primaryMeanMs: z.number().nullable(), shadowMeanMs: z.number().nullable() }).nullable(),
  rollout: z.object({ state: z.string(), candidate: z.string(), stepIndex: z.number(), reason: z.string().nullable() }).nullable(),
  series: z
    .object({
      bucketSeconds: z.number().int(),
      from: z.string().describe('Start of the first bucket; buckets are aligned to multiples of bucketSeconds'),
      to: z.string(),
      variants: z.array(
        z.object({
          variant: z.string(),
          shadow: z.boolean(),
          points: z.array(z.object({ at: z.string(), requests: z.number().int(), errors: z.number().int(), errorRate: z.number().nullable(), abstainRate: z.number().nullable(), p50Ms: z.number().nullable(), p99Ms: z.number().nullable() })),
        }),
      ),
    })
    .optional()
    .describe('With series: the same numbers per time bucket (every bucket, zero when idle)'),
  server: z.object({ logBuffered: z.number(), logDropped: z.number(), queued: z.number(), rejected: z.number(), timedOut: z.number(), modelsLoaded: z.number() }).describe('This server only'),
});

export function monitorTool(ready: Ready): ToolSpec<typeof input, typeof output> {
  return {
    name: 'deployments_monitor',
    title: 'How a deployment is doing',
    description:
      'Per variant over a window: requests, errors, latency p50/p99, batch sizes, abstain rate, online accuracy and macro-F1 from feedback (95% intervals), ' +
      'drift (PSI of predicted classes against the evaluation set); shadow agreement; the rollout state. Compact enough to read whole. ' +
      'With series: {points}, also requests, errors, latency p50/p99 and abstain rate per variant in at most that many time buckets of the window. ' +
      'Everything is read from one snapshot of the stored prediction log, feedback and deployment, so the parts agree with each other.',
    input,
    output,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['deployments:read'],
    async handler(args, { project }) {
      return (await readMonitor(ready(), project, args.name, { windowSeconds: args.window, seriesPoints: args.series?.points })).report;
    },
  };
}

export type MonitorReport = z.output<typeof output>;

export interface MonitorRead {
  /** What `deployments_monitor` answers. */
  report: MonitorReport;
  /** The deployment row the report was read with (its rollout and guardrail readings). */
  deployment: Deployment;
  /** Its newest history entries, when asked for (`historyLimit`). */
  history?: HistoryEntry[];
}

/**
 * What `deployments_monitor` answers for deployment `name` of `project` over the last
 * `windowSeconds` (also drawn by its MCP App, which asks for the history too). The deployment row,
 * the per-variant counts and latencies, the feedback, the shadow pairs, the series and the history
 * are read in one read-only REPEATABLE READ transaction: a prediction-log flush (from this server or
 * another) that commits meanwhile is in all of them or none. The window and the series share one `now`.
 */
export async function readMonitor(runtime: DeploymentsRuntime, project: string, name: string, options: { windowSeconds: number; seriesPoints?: number; historyLimit?: number }): Promise<MonitorRead> {
  const { windowSeconds, seriesPoints, historyLimit } = options;
  // This server's buffered rows first (a write, so outside the read-only snapshot).
  await runtime.log.flush();
  const now = Date.now();
  const since = new Date(now - windowSeconds * 1000);
  const read = await readSnapshot(runtime.sql, async (tx) => {
    const deployment = await runtime.store.get(project, name, tx);
    const rows = await readWindow(tx, deployment, since);
    const series = seriesPoints === undefined ? undefined : await monitorSeries(tx, project, deployment.name, windowSeconds, seriesPoints, now);
    const history = historyLimit === undefined ? undefined : await runtime.store.history(project, deployment.name, historyLimit, tx);
    return { deployment, rows, series, history };
  });
  const { deployment, series } = read;
  // The drift baselines come from the registry and the datasets (other plugins' connections): after the snapshot closes.
  const report = await summarize({ registry: runtime.registry, datasets: () => runtime.datasets().store }, deployment, since, read.rows);
  const batchers = Object.values(runtime.service.batcherStats(project, name));
  const log = runtime.log.stats();
  return {
    deployment,
    ...(read.history ? { history: read.history } : {}),
    report: {
      name: deployment.name,
      since: report.since,
      variants: report.variants.map((v) => ({
        variant: v.variant,
        modelVersion: v.modelVersion,
        shadow: v.shadow,
        weight: v.shadow ? 0 : (deployment.variants.find((d) => d.name === v.variant)?.weight ?? 0),
        requests: v.requests,
        errors: v.errors,
        errorRate: round(v.errorRate),
        p50Ms: round(v.p50Ms, 3),
        p99Ms: round(v.p99Ms, 3),
        meanBatch: round(v.meanBatch, 2),
        maxBatch: v.maxBatch,
        abstainRate: round(v.abstainRate),
        feedback: v.feedback,
        accuracy: roundInterval(v.accuracy),
        macroF1: roundInterval(v.macroF1),
        psi: round(v.psi),
      })),
      shadow: report.shadow,
      rollout: deployment.rollout ? { state: deployment.rollout.state, candidate: deployment.rollout.candidate, stepIndex: deployment.rollout.stepIndex, reason: deployment.rollout.reason } : null,
      ...(series ? { series } : {}),
      server: {
        logBuffered: log.buffered,
        logDropped: log.dropped,
        queued: batchers.reduce((a, b) => a + b.queued, 0),
        rejected: batchers.reduce((a, b) => a + b.rejected, 0),
        timedOut: batchers.reduce((a, b) => a + b.timedOut, 0),
        modelsLoaded: runtime.cache.stats().models,
      },
    },
  };
}
