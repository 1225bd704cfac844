/**
 * kb_eval's engine: each query's legs are computed once, then every mode and every fusion setting
 * of a small grid is scored from them (nDCG@10, recall@10, MRR over distinct documents). The best
 * setting for hybrid is chosen from that grid, which holds lexical-only (dense weight 0), so a
 * tuned hybrid never scores below lexical alone on the queries it was tuned on.
 */
import type { PluginSql } from 'anvil/plugin';
import type { FusionSettings, LegHit } from '../../knowledge/retrieval/fusion.ts';
import { meanMetrics, queryMetrics, type RankingMetrics } from '../../knowledge/retrieval/metrics.ts';
import type { Indexer } from './indexer.ts';
import type { LexicalIndex } from './lexical.ts';
import type { KbRow } from './model.ts';
import { chunkDocuments, legs, rank, type SearchMode } from './search.ts';

export interface EvalQuery {
  id: string;
  text: string;
  relevant: string[];
}

export interface EvalOutcome {
  modes: Record<SearchMode, RankingMetrics>;
  denseReady: boolean;
  fusion: { used: FusionSettings; best: FusionSettings & { ndcg10: number } };
  misses: Array<{ id: string; text: string; relevant: string[]; top: string[] }>;
}

const CANDIDATES = 100;
const GRID: FusionSettings[] = [
  ...[10, 30, 60].flatMap((k) => [0, 0.1, 0.2, 0.3, 0.5, 0.7, 1].map((dense) => ({ method: 'rrf' as const, k, weights: { lexical: 1, dense } }))),
  ...[0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5].map((dense) => ({ method: 'weighted' as const, k: 60, weights: { lexical: 1, dense } })),
];

function documentRanking(hits: ReadonlyArray<{ id: string }>, documents: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const hit of hits) {
    const document = documents.get(hit.id);
    if (document === undefined || seen.has(document)) continue;
    seen.add(document);
    out.push(document);
  }
  return out;
}

export async function evaluate(sql: PluginSql, lexicalIndex: LexicalIndex, indexer: Indexer, kb: KbRow, queries: readonly EvalQuery[], progress: (done: number, total: number) => Promise<void>): Promise<EvalOutcome> {
  const computed: Array<{ lexical: LegHit[]; dense: LegHit[] }> = [];
  let denseReady = false;
  for (const [i, query] of queries.entries()) {
    const found = await legs(lexicalIndex, indexer, kb, query.text, 'hybrid', CANDIDATES);
    denseReady = found.denseReady;
    computed.push({ lexical: found.lexical, dense: found.dense });
    if (i % 25 === 24) await progress(i + 1, queries.length);
  }
  const ids = new Set<string>();
  for (const c of computed) for (const hit of [...c.lexical, ...c.dense]) ids.add(hit.id);
  const documents = await chunkDocuments(sql, kb.id, [...ids]);
  const score = (mode: SearchMode, fusion: FusionSettings) =>
    queries.map((query, i) => {
      const c = computed[i] as { lexical: LegHit[]; dense: LegHit[] };
      return queryMetrics(documentRanking(rank({ ...c, denseReady }, mode, fusion), documents), new Set(query.relevant));
    });
  const used = kb.fusion;
  const hybridPerQuery = score('hybrid', used);
  let best = { ...used, ndcg10: meanMetrics(hybridPerQuery).ndcg10 };
  if (denseReady) {
    for (const candidate of GRID) {
      const ndcg10 = meanMetrics(score('hybrid', candidate)).ndcg10;
      if (ndcg10 > best.ndcg10 + 1e-9) best = { ...candidate, ndcg10 };
    }
  }
  const misses = queries
    .map((query, i) => ({ query, metrics: hybridPerQuery[i] as RankingMetrics, i }))
    .filter(({ metrics }) => metrics.recall10 === 0)
    .slice(0, 50)
    .map(({ query, i }) => {
      const c = computed[i] as { lexical: LegHit[]; dense: LegHit[] };
      return { id: query.id, text: query.text, relevant: query.relevant, top: documentRanking(rank({ ...c, denseReady }, 'hybrid', used), documents).slice(0, 3) };
    });
  return {
    modes: { hybrid: meanMetrics(hybridPerQuery), lexical: meanMetrics(score('lexical', used)), dense: denseReady ? meanMetrics(score('dense', used)) : { ndcg10: 0, recall10: 0, mrr: 0 } },
    denseReady,
    fusion: { used, best: { method: best.method, k: best.k, weights: best.weights, ndcg10: best.ndcg10 } },
    misses,
  };
}
