import { z, type ToolSpec } from 'anvil/plugin';
import { downsample, summarize, wireValue, type SeriesPoint } from '../metrics-summary.ts';
import type { JobsRuntime } from '../runtime.ts';

export const METRIC_POINTS_DEFAULT = 200;
export const METRIC_POINTS_MAX = 2_000;

const value = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]);
const nullableValue = value.nullable();

export const metricSummarySchema = z.object({
  count: z.number().int(),
  first: nullableValue,
  last: nullableValue,
  min: z.number().nullable().describe('Finite values only'),
  max: z.number().nullable().describe('Finite values only'),
  lastStep: z.number().nullable(),
  flags: z.object({
    nan: z.boolean().describe('Some value is NaN or ±Infinity'),
    spike: z.boolean().describe('Some point lies beyond median ± 6 robust deviations (MAD) of the 20 points around it'),
    plateau: z.boolean().describe('The last 20% of points vary by less than 1e-3 relative'),
  }),
});

const input = z
  .object({
    id: z.string().describe('Job id'),
    names: z.array(z.string().min(1).max(200)).min(1).max(100).optional().describe('Only these metrics (default: all)'),
    maxPoints: z.number().int().min(2).max(METRIC_POINTS_MAX).optional().describe(`Points per series (default ${METRIC_POINTS_DEFAULT})`),
  })
  .strict();

const output = z.object({
  id: z.string(),
  metrics: z.array(
    z.object({
      name: z.string(),
      points: z.array(z.object({ step: z.number(), value })),
      downsampled: z.boolean(),
      summary: metricSummarySchema,
    }),
  ),
  method: z.string(),
});

export const DOWNSAMPLE_METHOD =
  'first and last points kept; the steps between cut into (maxPoints-2)/2 equal-width buckets, each keeping its lowest and highest finite point (a NaN/Inf point replaces the lowest)';

export type MetricSeries = z.output<typeof output>['metrics'][number];

export function wireSummary(points: readonly SeriesPoint[]): z.output<typeof metricSummarySchema> {
  const summary = summarize(points);
  return { ...summary, first: summary.first === null ? null : wireValue(summary.first), last: summary.last === null ? null : wireValue(summary.last) };
}

/** Every metric of a project's job (or the ones named), downsampled, with summaries. */
export async function metricSeries(jobs: JobsRuntime, project: string, id: string, names: readonly string[] | undefined, maxPoints: number): Promise<MetricSeries[]> {
  const points = names?.length === 1 ? await jobs.service.store.metrics(project, id, names[0]) : await jobs.service.store.metrics(project, id);
  const byName = new Map<string, SeriesPoint[]>();
  for (const point of points) {
    if (names && !names.includes(point.name)) continue;
    let series = byName.get(point.name);
    if (!series) byName.set(point.name, (series = []));
    series.push({ step: point.step, value: point.value });
  }
  return [...byName].map(([name, series]) => {
    const kept = downsample(series, maxPoints);
    return { name, points: kept.map((point) => ({ step: point.step, value: wireValue(point.value) })), downsampled: kept.length < series.length, summary: wireSummary(series) };
  });
}

export function metricsTool(jobs: () => JobsRuntime): ToolSpec<typeof input, typeof output> {
  return {
    name: 'jobs_metrics',
    title: 'Read a job’s metrics',
    description:
      'A job’s metric series (loss, accuracy, count…), each downsampled to maxPoints with min/max buckets, and a summary flagging NaN/Inf values, spikes and a plateau.',
    input,
    output,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['jobs:read'],
    async handler({ id, names, maxPoints }, { project }) {
      const metrics = await metricSeries(jobs(), project, id, names, maxPoints ?? METRIC_POINTS_DEFAULT);
      return { id, metrics, method: DOWNSAMPLE_METHOD };
    },
  };
}
