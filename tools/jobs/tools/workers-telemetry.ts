import { AnvilError, ErrorCodes, hasScope, OPERATOR_SCOPES, z, type ToolSpec } from 'anvil/plugin';
import type { JobsRuntime } from '../runtime.ts';

export const TELEMETRY_POINTS_DEFAULT = 120;
export const TELEMETRY_POINTS_MAX = 1_000;

const input = z
  .object({
    worker: z.string().min(1).max(200).optional().describe('Only this worker (its name, as workers_list shows it); default: every worker'),
    minutes: z.number().int().min(1).max(90 * 24 * 60).default(60).describe('How far back (capped by the retention, jobs.telemetryRetentionHours)'),
    maxPoints: z.number().int().min(2).max(TELEMETRY_POINTS_MAX).default(TELEMETRY_POINTS_DEFAULT).describe('Points per GPU at most: samples are averaged into that many equal time buckets'),
  })
  .strict();

const reading = z.number().nullable();
const output = z.object({
  from: z.string(),
  to: z.string(),
  bucketSeconds: z.number().describe('Each point averages the samples of one bucket this long'),
  sampleSeconds: z.number().describe('Samples are kept at most this often per worker'),
  retentionHours: z.number(),
  series: z.array(
    z.object({
      worker: z.string(),
      gpu: z.number().int().describe('The GPU index on that worker'),
      points: z.array(z.object({ at: z.string(), utilizationPct: reading, memoryUsedMb: reading, temperatureC: reading, samples: z.number().int() })),
    }),
  ),
});

export function workersTelemetryTool(jobs: () => JobsRuntime): ToolSpec<typeof input, typeof output> {
  return {
    name: 'workers_telemetry',
    title: 'Worker GPU telemetry over time',
    description: `Each worker GPU's utilisation, memory used and temperature over the last minutes, from the heartbeats, averaged into at most maxPoints buckets. Cluster hardware: needs the operator scope ${OPERATOR_SCOPES.observe}.`,
    input,
    output,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['workers:read'],
    async handler({ worker, minutes, maxPoints }, { principal }) {
      // Shared GPUs' load tells one tenant about another's work: the history is the operator's, as the latest telemetry is in workers_list.
      if (!hasScope(principal.scopes, OPERATOR_SCOPES.observe)) {
        throw new AnvilError(ErrorCodes.FORBIDDEN, `workers_telemetry: the cluster's GPU telemetry requires the operator scope ${OPERATOR_SCOPES.observe}, which a project's key does not hold`, {
          details: { missing: [OPERATOR_SCOPES.observe] },
        });
      }
      const runtime = jobs();
      const retentionMinutes = runtime.config.telemetryRetentionHours * 60;
      const windowMs = Math.min(minutes, retentionMinutes) * 60_000;
      const to = new Date();
      const from = new Date(to.getTime() - windowMs);
      // Whole seconds, never below the sampling period: a bucket shorter than a sample holds nothing.
      const bucketSeconds = Math.max(1, Math.ceil(windowMs / 1000 / maxPoints), Math.ceil(runtime.config.telemetrySampleMs / 1000));
      const series = await runtime.telemetry.history(from, bucketSeconds, worker);
      return {
        from: from.toISOString(),
        to: to.toISOString(),
        bucketSeconds,
        sampleSeconds: runtime.config.telemetrySampleMs / 1000,
        retentionHours: runtime.config.telemetryRetentionHours,
        // Epoch-aligned buckets can straddle the window's start: one extra point at most, trimmed here.
        series: series.map((entry) => ({ worker: entry.worker, gpu: entry.gpu, points: entry.points.slice(-maxPoints) })),
      };
    },
  };
}
