/**
 * Pure functions that turn a metric's points into what fits in a tool answer: a downsampled series
 * and a summary with flags a caller should look at (NaN/Inf, spikes, a plateau).
 *
 * Downsampling (min/max buckets): the first and last points are always kept; the steps between them
 * are cut into `floor((maxPoints - 2) / 2)` buckets of equal step width, and each bucket keeps its
 * lowest and highest finite point (in step order), so spikes and dips survive. A bucket holding a
 * NaN or ±Inf keeps its first non-finite point in place of its lowest one, so a NaN loss never
 * disappears from the picture. Empty buckets (gaps in steps) keep nothing.
 */

export interface SeriesPoint {
  step: number;
  /** NaN and ±Infinity as reported. */
  value: number;
}

export interface MetricFlags {
  /** Some value is NaN or ±Infinity. */
  nan: boolean;
  /** Some point lies beyond median ± 6·(1.4826·MAD) of the points around it (a robust z-score over 6). */
  spike: boolean;
  /** The last 20% of the points (at least 5) vary by less than 1e-3 relative to their mean magnitude. */
  plateau: boolean;
}

export interface MetricSummary {
  count: number;
  /** First and last values as reported (NaN/±Infinity included); null without points. */
  first: number | null;
  last: number | null;
  /** Over finite values only; null when there is none. */
  min: number | null;
  max: number | null;
  lastStep: number | null;
  flags: MetricFlags;
}

/** Points beside each point on either side that its spike test looks at. */
export const SPIKE_HALF_WINDOW = 10;
export const SPIKE_THRESHOLD = 6;
/** Fewer neighbours than this: not enough to call anything a spike. */
const SPIKE_MIN_NEIGHBOURS = 4;
export const PLATEAU_FRACTION = 0.2;
export const PLATEAU_TOLERANCE = 1e-3;
const PLATEAU_MIN_POINTS = 5;
/** MAD of 1.4826 × scale estimates a normal distribution's standard deviation. */
const MAD_SCALE = 1.4826;

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * Whether any finite point is a spike: farther from the median of its finite neighbours (up to
 * `SPIKE_HALF_WINDOW` each side) than `SPIKE_THRESHOLD` robust standard deviations. The deviation
 * scale never drops below 1e-3 of the median's magnitude (or 1e-12), so a flat series with one jump
 * counts as a spike while rounding noise on a flat series does not.
 */
export function hasSpike(values: readonly number[]): boolean {
  const finite = values.filter((value) => Number.isFinite(value));
  for (let index = 0; index < finite.length; index++) {
    const neighbours = [
      ...finite.slice(Math.max(0, index - SPIKE_HALF_WINDOW), index),
      ...finite.slice(index + 1, index + 1 + SPIKE_HALF_WINDOW),
    ];
    if (neighbours.length < SPIKE_MIN_NEIGHBOURS) continue;
    const centre = median(neighbours);
    const mad = median(neighbours.map((value) => Math.abs(value - centre)));
    const scale = Math.max(MAD_SCALE * mad, 1e-3 * Math.abs(centre), 1e-12);
    if (Math.abs((finite[index] as number) - centre) > SPIKE_THRESHOLD * scale) return true;
  }
  return false;
}

/** Whether the tail (last 20% of the finite values, at least 5) stays within 1e-3 of its mean magnitude. */
export function isPlateau(values: readonly number[]): boolean {
  const finite = values.filter((value) => Number.isFinite(value));
  const size = Math.max(PLATEAU_MIN_POINTS, Math.ceil(finite.length * PLATEAU_FRACTION));
  if (finite.length < size * 2) return false; // too short to say it stopped moving
  const tail = finite.slice(-size);
  const low = Math.min(...tail);
  const high = Math.max(...tail);
  const magnitude = tail.reduce((sum, value) => sum + Math.abs(value), 0) / tail.length;
  return high - low <= PLATEAU_TOLERANCE * Math.max(magnitude, 1e-12);
}

/** Count, first/last, finite min/max, last step and flags of one metric's points (in step order). */
export function summarize(points: readonly SeriesPoint[]): MetricSummary {
  const values = points.map((point) => point.value);
  const finite = values.filter((value) => Number.isFinite(value));
  const first = points[0];
  const last = points[points.length - 1];
  return {
    count: points.length,
    first: first ? first.value : null,
    last: last ? last.value : null,
    min: finite.length > 0 ? Math.min(...finite) : null,
    max: finite.length > 0 ? Math.max(...finite) : null,
    lastStep: last ? last.step : null,
    flags: { nan: finite.length < values.length, spike: hasSpike(values), plateau: isPlateau(values) },
  };
}

/** At most `maxPoints` (≥ 2) points of a series in step order: first, last, and min/max per step bucket. */
export function downsample(points: readonly SeriesPoint[], maxPoints: number): SeriesPoint[] {
  const limit = Math.max(2, Math.floor(maxPoints));
  if (points.length <= limit) return [...points];
  const first = points[0] as SeriesPoint;
  const last = points[points.length - 1] as SeriesPoint;
  const interior = points.slice(1, -1);
  const buckets = Math.floor((limit - 2) / 2);
  if (buckets === 0 || interior.length === 0) return [first, last];
  const low = (interior[0] as SeriesPoint).step;
  const span = (interior[interior.length - 1] as SeriesPoint).step - low;
  const groups: SeriesPoint[][] = Array.from({ length: buckets }, () => []);
  for (const point of interior) {
    const index = span === 0 ? 0 : Math.min(buckets - 1, Math.floor(((point.step - low) / span) * buckets));
    (groups[index] as SeriesPoint[]).push(point);
  }
  const kept: SeriesPoint[] = [first];
  for (const group of groups) kept.push(...extremes(group));
  kept.push(last);
  return kept;
}

/** A bucket's lowest and highest finite points (or its first non-finite one and its highest), in step order. */
function extremes(group: readonly SeriesPoint[]): SeriesPoint[] {
  if (group.length <= 2) return [...group];
  let lowest: SeriesPoint | undefined;
  let highest: SeriesPoint | undefined;
  let nonFinite: SeriesPoint | undefined;
  for (const point of group) {
    if (!Number.isFinite(point.value)) {
      nonFinite ??= point;
      continue;
    }
    if (!lowest || point.value < lowest.value) lowest = point;
    if (!highest || point.value > highest.value) highest = point;
  }
  const chosen = [nonFinite ?? lowest, highest].filter((point): point is SeriesPoint => point !== undefined);
  const unique = [...new Set(chosen)];
  return unique.sort((a, b) => a.step - b.step);
}

/** JSON has no NaN or Infinity: non-finite values travel as the strings the worker wire uses. */
export type WireValue = number | 'NaN' | 'Infinity' | '-Infinity';

export function wireValue(value: number): WireValue {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}
