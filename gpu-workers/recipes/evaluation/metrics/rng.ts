/** A small seeded random number generator and percentiles, so bootstrap intervals are reproducible. */
import { mulberry32 } from '../../../../contracts/mulberry32.ts';

function initialState(seed: number): number {
  return (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
}

/** mulberry32 from a mixed seed; the same seed gives the same sequence. Returns [0, 1). */
export function seededRandom(seed: number): () => number {
  return mulberry32(initialState(seed));
}

/**
 * Row indices for bootstrap resamples: `next(into)` fills `into` with indices drawn uniformly from
 * 0..into.length−1 with replacement (mulberry32 inlined: the bootstrap's hot loop).
 */
export function indexSampler(seed: number): { next(into: Int32Array): void } {
  let state = initialState(seed);
  return {
    next(into: Int32Array) {
      const n = into.length;
      let s = state;
      for (let j = 0; j < n; j += 1) {
        s = (s + 0x6d2b79f5) >>> 0;
        let t = Math.imul(s ^ (s >>> 15), s | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        into[j] = Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
      }
      state = s;
    },
  };
}

/** The q-quantile (0..1) of sorted values, interpolating linearly (numpy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const position = q * (n - 1);
  const below = Math.floor(position);
  const above = Math.min(n - 1, below + 1);
  const low = sorted[below] as number;
  const high = sorted[above] as number;
  return low + (high - low) * (position - below);
}

/** The central `confidence` interval of samples (percentile method). */
export function percentileInterval(samples: Float64Array, confidence: number): { low: number; high: number } {
  const sorted = Float64Array.from(samples).sort();
  const tail = (1 - confidence) / 2;
  return { low: quantileSorted(sorted, tail), high: quantileSorted(sorted, 1 - tail) };
}
