/**
 * A deployment's monitor over time: the window cut into at most `points` buckets of equal length,
 * each with the per-variant numbers `observe` gives for the whole window (requests, errors,
 * latency p50/p99, abstain rate), counted by the database from the prediction log. Buckets are
 * aligned to multiples of their length since the epoch, so a chart polled again keeps its buckets;
 * a bucket without requests is a zero (rates null), so the series has no holes.
 */
import type { SqlExecutor } from 'anvil/plugin';
import { loadSql } from './sql.ts';

const SQL = { variantSeries: loadSql('variant-series') } as const;

export const SERIES_POINTS_MAX = 500;

export interface SeriesPoint {
  /** The bucket's start. */
  at: string;
  requests: number;
  errors: number;
  errorRate: number | null;
  abstainRate: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface MonitorSeries {
  bucketSeconds: number;
  /** The first bucket's start (at most one bucket before the window's start) and now. */
  from: string;
  to: string;
  variants: Array<{ variant: string; shadow: boolean; points: SeriesPoint[] }>;
}

type Row = { variant: string; shadow: boolean; bucket: string | number; requests: number; errors: number; p50_ms: number | null; p99_ms: number | null; abstained: number };

/**
 * Seconds per bucket so that a window of `windowSeconds` spans at most `points` aligned buckets:
 * a window of k whole buckets can touch k + 1 of them.
 */
export function bucketSecondsFor(windowSeconds: number, points: number): number {
  return Math.max(1, Math.ceil(windowSeconds / Math.max(1, points - 1)));
}

const round = (value: number | null, digits: number) => (value === null ? null : Number(value.toFixed(digits)));

export async function monitorSeries(sql: SqlExecutor, project: string, deployment: string, windowSeconds: number, points: number, now = Date.now()): Promise<MonitorSeries> {
  const bucketSeconds = bucketSecondsFor(windowSeconds, points);
  const first = Math.floor((now / 1000 - windowSeconds) / bucketSeconds);
  const last = Math.floor(now / 1000 / bucketSeconds);
  const from = new Date(first * bucketSeconds * 1000);
  const rows = (await sql.query<Row>(SQL.variantSeries, [project, deployment, from, bucketSeconds])).rows;
  const byVariant = new Map<string, { variant: string; shadow: boolean; buckets: Map<number, Row> }>();
  for (const row of rows) {
    const key = `${row.variant}\u0000${row.shadow}`;
    const entry = byVariant.get(key) ?? { variant: row.variant, shadow: row.shadow, buckets: new Map<number, Row>() };
    entry.buckets.set(Number(row.bucket), row);
    byVariant.set(key, entry);
  }
  const variants = [...byVariant.values()].map(({ variant, shadow, buckets }) => {
    const series: SeriesPoint[] = [];
    for (let bucket = first; bucket <= last; bucket += 1) {
      const row = buckets.get(bucket);
      const requests = Number(row?.requests ?? 0);
      const errors = Number(row?.errors ?? 0);
      const served = requests - errors;
      series.push({
        at: new Date(bucket * bucketSeconds * 1000).toISOString(),
        requests,
        errors,
        errorRate: requests > 0 ? round(errors / requests, 4) : null,
        abstainRate: served > 0 ? round(Number(row?.abstained ?? 0) / served, 4) : null,
        p50Ms: row?.p50_ms == null ? null : round(Number(row.p50_ms), 3),
        p99Ms: row?.p99_ms == null ? null : round(Number(row.p99_ms), 3),
      });
    }
    return { variant, shadow, points: series };
  });
  return { bucketSeconds, from: from.toISOString(), to: new Date(now).toISOString(), variants };
}
