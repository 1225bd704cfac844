/**
 * contracts/ranking.ts, the one ROC-AUC and average precision (evaluation and training recipes,
 * payment risk): scikit-learn's documented example, ties, one-class rows, typed arrays, and random
 * rows against the definitions computed the slow way (every threshold, every pair).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32 } from '../../contracts/mulberry32.ts';
import { averagePrecision, rocAuc } from '../../contracts/ranking.ts';
import { evaluate } from '../../tools/payment/risk/evaluate.ts';

/** Σ over the distinct thresholds t, highest first, of (recall(t) − recall(previous t)) · precision(t). */
function averagePrecisionByDefinition(positive: readonly boolean[], scores: readonly number[]): number | null {
  const positives = positive.filter(Boolean).length;
  if (positives === 0) return null;
  let area = 0;
  let previousRecall = 0;
  for (const threshold of [...new Set(scores)].sort((a, b) => b - a)) {
    const above = scores.map((score, i) => ({ score, positive: positive[i] as boolean })).filter((row) => row.score >= threshold);
    const tp = above.filter((row) => row.positive).length;
    const recall = tp / positives;
    area += (recall - previousRecall) * (tp / above.length);
    previousRecall = recall;
  }
  return area;
}

/** The share of (positive, negative) pairs ranked right, ties counting half. */
function rocAucByPairs(positive: readonly boolean[], scores: readonly number[]): number | null {
  let pairs = 0;
  let wins = 0;
  positive.forEach((isPositive, i) => {
    if (!isPositive) return;
    positive.forEach((other, j) => {
      if (other) return;
      pairs += 1;
      const a = scores[i] as number;
      const b = scores[j] as number;
      wins += a > b ? 1 : a === b ? 0.5 : 0;
    });
  });
  return pairs === 0 ? null : wins / pairs;
}

function close(actual: number | null, expected: number | null, tolerance = 1e-12): void {
  if (expected === null) return assert.equal(actual, null);
  assert.ok(actual !== null && Math.abs(actual - expected) <= tolerance, `expected ${expected}, got ${String(actual)}`);
}

describe('contracts/ranking', () => {
  it('scikit-learn documented example: average_precision_score 0.8333, roc_auc_score 0.75', () => {
    close(averagePrecision([false, false, true, true], [0.1, 0.4, 0.35, 0.8]), 5 / 6);
    close(rocAuc([false, false, true, true], [0.1, 0.4, 0.35, 0.8]), 0.75);
  });

  it('tied scores are one step; one-class rows give null', () => {
    close(averagePrecision([true, false, true, false], [0.5, 0.5, 0.5, 0.5]), 0.5);
    // Thresholds 0.9 (1 of 1 right, recall 1/2), then 0.5 (2 of 3, recall 1): 0.5·1 + 0.5·2/3.
    close(averagePrecision([true, true, false, false], [0.9, 0.5, 0.5, 0.1]), 0.5 + 1 / 3);
    close(averagePrecision([false, false], [0.2, 0.9]), null);
    close(rocAuc([true, true], [0.2, 0.9]), null);
    close(averagePrecision([], []), null);
  });

  it('reads typed arrays as it reads arrays', () => {
    const positive = [true, false, false, true, false];
    const scores = [0.25, 0.5, 0.125, 0.75, 0.5];
    close(averagePrecision(positive, Float32Array.from(scores)), averagePrecision(positive, scores));
    close(rocAuc(positive, Float64Array.from(scores)), rocAuc(positive, scores));
  });

  it('random rows with ties agree with the definitions computed the slow way', () => {
    const random = mulberry32(9);
    for (let trial = 0; trial < 200; trial += 1) {
      const n = 1 + Math.floor(random() * 40);
      // Scores on a coarse grid, so ties are common.
      const scores = Array.from({ length: n }, () => Math.floor(random() * 8) / 8);
      const positive = scores.map((score) => random() < 0.2 + score * 0.5);
      close(averagePrecision(positive, scores), averagePrecisionByDefinition(positive, scores), 1e-12);
      close(rocAuc(positive, scores), rocAucByPairs(positive, scores), 1e-12);
    }
  });

  it("payment risk's PR-AUC is this average precision (0 when no row is a fraud)", () => {
    const rows = [0.9, 0.8, 0.8, 0.4, 0.3, 0.3, 0.1].map((score, i) => ({ score, fraud: i === 0 || i === 2 || i === 5 }));
    close(evaluate(rows).prAuc, averagePrecisionByDefinition(rows.map((row) => row.fraud), rows.map((row) => row.score)));
    assert.equal(evaluate(rows.map((row) => ({ ...row, fraud: false }))).prAuc, 0);
  });
});
