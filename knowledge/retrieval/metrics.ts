/** Retrieval metrics over ranked document ids, binary relevance (as the shared man-page set defines them). */
export interface RankingMetrics {
  ndcg10: number;
  recall10: number;
  mrr: number;
}

/** One query's metrics; `ranked` holds distinct document ids, best first. */
export function queryMetrics(ranked: readonly string[], relevant: ReadonlySet<string>): RankingMetrics {
  let dcg = 0;
  let found = 0;
  let reciprocal = 0;
  ranked.forEach((id, index) => {
    if (!relevant.has(id)) return;
    if (index < 10) {
      dcg += 1 / Math.log2(index + 2);
      found += 1;
    }
    if (reciprocal === 0) reciprocal = 1 / (index + 1);
  });
  let ideal = 0;
  for (let i = 0; i < Math.min(10, relevant.size); i += 1) ideal += 1 / Math.log2(i + 2);
  return { ndcg10: ideal > 0 ? dcg / ideal : 0, recall10: relevant.size > 0 ? found / relevant.size : 0, mrr: reciprocal };
}

export function meanMetrics(all: readonly RankingMetrics[]): RankingMetrics {
  const n = Math.max(1, all.length);
  const sum = (pick: (m: RankingMetrics) => number) => all.reduce((total, m) => total + pick(m), 0) / n;
  return { ndcg10: round(sum((m) => m.ndcg10)), recall10: round(sum((m) => m.recall10)), mrr: round(sum((m) => m.mrr)) };
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
