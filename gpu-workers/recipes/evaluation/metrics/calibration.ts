/** Probability quality: log loss and expected calibration error with its reliability diagram data. */
import type { Calibration, ReliabilityBin } from './types.ts';

export const LOG_LOSS_CLIP = 1e-15;
export const ECE_BINS = 15;

/** Mean −log p(true class), each probability clipped to [1e-15, 1 − 1e-15]. null for no rows. */
export function logLoss(trueProbabilities: readonly number[]): number | null {
  if (trueProbabilities.length === 0) return null;
  let sum = 0;
  for (const p of trueProbabilities) sum -= Math.log(Math.min(1 - LOG_LOSS_CLIP, Math.max(LOG_LOSS_CLIP, p)));
  return sum / trueProbabilities.length;
}

/** The bin of a confidence: bins are (i/B, (i+1)/B], the first one also holding 0. */
export function binOf(confidence: number, bins: number): number {
  return Math.min(bins - 1, Math.max(0, Math.ceil(confidence * bins) - 1));
}

/**
 * Expected calibration error: Σ_b (n_b / N) · |accuracy_b − mean confidence_b| over `bins`
 * equal-width bins of the top-class confidence, with each bin's count, mean confidence and accuracy.
 */
export function calibration(confidences: readonly number[], correct: readonly boolean[], bins = ECE_BINS): Calibration | null {
  const n = confidences.length;
  if (n === 0) return null;
  const count = new Array<number>(bins).fill(0);
  const confidenceSum = new Array<number>(bins).fill(0);
  const correctSum = new Array<number>(bins).fill(0);
  for (let i = 0; i < n; i += 1) {
    const confidence = confidences[i] as number;
    const b = binOf(confidence, bins);
    count[b] = (count[b] as number) + 1;
    confidenceSum[b] = (confidenceSum[b] as number) + confidence;
    if (correct[i]) correctSum[b] = (correctSum[b] as number) + 1;
  }
  let ece = 0;
  const reliability: ReliabilityBin[] = [];
  for (let b = 0; b < bins; b += 1) {
    const inBin = count[b] as number;
    const avgConfidence = inBin === 0 ? null : (confidenceSum[b] as number) / inBin;
    const accuracy = inBin === 0 ? null : (correctSum[b] as number) / inBin;
    if (avgConfidence !== null && accuracy !== null) ece += (inBin / n) * Math.abs(accuracy - avgConfidence);
    reliability.push({ lower: b / bins, upper: (b + 1) / bins, count: inBin, avgConfidence, accuracy });
  }
  return { ece, bins: reliability, rows: n };
}
