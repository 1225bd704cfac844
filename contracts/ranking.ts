/**
 * Ranking metrics of a binary scorer: ROC-AUC and average precision (PR-AUC), as scikit-learn
 * defines them. The one implementation: the evaluation and training recipes (gpu-workers/) and the
 * payment risk model (tools/payment) all score with it, so a PR-AUC means the same everywhere.
 * Plain TypeScript without zod, so a recipe that imports it still starts as fast as Node does.
 * Inputs are array-likes (typed arrays too), read and never changed.
 */

/**
 * ROC-AUC: the probability that a random positive scores above a random negative, ties counting
 * half (the Mann–Whitney U statistic over the rank sums, average ranks for ties). null when the rows
 * hold no positive or no negative.
 */
export function rocAuc(positive: ArrayLike<boolean>, scores: ArrayLike<number>): number | null {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let positives = 0;
  let rankSum = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1] as number] === scores[order[i] as number]) j += 1;
    const averageRank = (i + j) / 2 + 1;
    for (let m = i; m <= j; m += 1) {
      if (positive[order[m] as number]) {
        positives += 1;
        rankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * Average precision: Σ (Rₙ − Rₙ₋₁) · Pₙ over the distinct score thresholds, highest first
 * (scikit-learn's average_precision_score, no interpolation). null when the rows hold no positive.
 */
export function averagePrecision(positive: ArrayLike<boolean>, scores: ArrayLike<number>): number | null {
  const n = scores.length;
  let totalPositives = 0;
  for (let i = 0; i < n; i += 1) if (positive[i]) totalPositives += 1;
  if (totalPositives === 0) return null;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
  let tp = 0;
  let fp = 0;
  let previousRecall = 0;
  let ap = 0;
  let i = 0;
  while (i < n) {
    const threshold = scores[order[i] as number];
    while (i < n && scores[order[i] as number] === threshold) {
      if (positive[order[i] as number]) tp += 1;
      else fp += 1;
      i += 1;
    }
    const recall = tp / totalPositives;
    ap += (recall - previousRecall) * (tp / (tp + fp));
    previousRecall = recall;
  }
  return ap;
}
