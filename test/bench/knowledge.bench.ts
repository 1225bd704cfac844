/**
 * Knowledge bases on ../shared/datasets/manpages-retrieval (2,106 documents, 400 queries), through
 * MCP tools on an in-process Anvil (embedded PGlite). The anchor is plain BM25 (k1 1.2, b 0.75,
 * lowercase alphanumeric tokens, no stemming) computed here in the same run. Fusion is tuned by
 * kb_eval on the first 200 queries; the figures are over all 400 and, separately, the held-out 200.
 * The server runs in this process, so server_peak_rss_mb includes the benchmark's client.
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestHost, flatten } from 'anvil/testing';
import { meanMetrics, queryMetrics } from '../../knowledge/retrieval/metrics.ts';
import type { BenchContext, Figure } from './run.ts';

const dir = fileURLToPath(new URL('../../../shared/datasets/manpages-retrieval/', import.meta.url));

interface Query {
  id: string;
  text: string;
  relevant: string[];
}

function plainBm25(docs: Array<{ id: string; text: string }>, queries: Query[]) {
  const tok = (s: string) => s.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  const toks = docs.map((d) => tok(d.text));
  const n = docs.length;
  const avg = toks.reduce((a, t) => a + t.length, 0) / n;
  const postings = new Map<string, Array<[number, number]>>();
  toks.forEach((t, i) => {
    const counts = new Map<string, number>();
    for (const w of t) counts.set(w, (counts.get(w) ?? 0) + 1);
    for (const [w, c] of counts) postings.set(w, [...(postings.get(w) ?? []), [i, c]]);
  });
  return queries.map((q) => {
    const scores = new Map<number, number>();
    for (const w of new Set(tok(q.text))) {
      const list = postings.get(w) ?? [];
      const idf = Math.log(1 + (n - list.length + 0.5) / (list.length + 0.5));
      for (const [i, f] of list) scores.set(i, (scores.get(i) ?? 0) + (idf * f * 2.2) / (f + 1.2 * (0.25 + (0.75 * (toks[i] as string[]).length) / avg)));
    }
    const ranked = [...scores.entries()].sort((a, b) => b[1] - a[1]).slice(0, 100).map(([i]) => (docs[i] as { id: string }).id);
    return queryMetrics(ranked, new Set(q.relevant));
  });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export const name = 'knowledge';
export const description = 'kb ingest, built-in embedder, hybrid retrieval quality and search latency on the man-page set';

export async function run(context: BenchContext): Promise<Figure[]> {
  if (!existsSync(`${dir}corpus.jsonl`)) throw new Error(`the man-page set is not at ${dir}`);
  const docs = readFileSync(`${dir}corpus.jsonl`, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { id: string; text: string });
  const queries = readFileSync(`${dir}queries.jsonl`, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Query);
  // Wall-clock figures depend on what else the machine runs: the 1-minute load average goes with them.
  context.log(`load average at start: ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
  const anchorAll = meanMetrics(plainBm25(docs, queries));
  const anchorHeld = meanMetrics(plainBm25(docs, queries.slice(200)));
  context.log(`plain BM25: ${JSON.stringify(anchorAll)}`);

  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const host = await createTestHost({ plugins: [], env: { ANVIL_DATASET_ROOTS: dir } });
  try {
    const call = async <T>(tool: string, args: Record<string, unknown>): Promise<T> => {
      // Evaluations of hundreds of queries outlast the SDK's 60 s default request timeout on a loaded machine.
      const outcome = flatten(await host.client.callTool({ name: tool, arguments: args }, { timeout: 1_800_000 }));
      if (outcome.isError) throw new Error(`${tool}: ${outcome.text}`);
      return outcome.structured as T;
    };
    await call('kb_create', { name: 'manpages' });
    const started = performance.now();
    const { task } = await call<{ task: string }>('kb_ingest', { kb: 'manpages', path: `${dir}corpus.jsonl` });
    let ingestSeconds = 0;
    let result: Record<string, unknown> = {};
    for (;;) {
      const status = await call<{ state: string; progress: { phase?: string }; result: Record<string, unknown> }>('kb_task', { task });
      if (!ingestSeconds && status.progress.phase !== 'ingesting' && status.progress.phase !== 'starting') ingestSeconds = (performance.now() - started) / 1000;
      if (status.state === 'failed') throw new Error(`ingest failed: ${JSON.stringify(status)}`);
      if (status.state === 'succeeded') {
        result = status.result;
        break;
      }
      await sleep(50);
    }
    const totalSeconds = (performance.now() - started) / 1000;
    const chunks = Number(result.chunks);
    context.log(`ingest: ${chunks} chunks in ${ingestSeconds.toFixed(1)} s, with training ${totalSeconds.toFixed(1)} s; ${JSON.stringify(result.embedder)}`);

    type Eval = { modes: Record<'hybrid' | 'lexical' | 'dense', { ndcg10: number; recall10: number; mrr: number }>; fusion: { best: Record<string, unknown> } };
    // Sets over 200 queries run as a task (kb_task holds the same answer).
    const evaluate = async (args: Record<string, unknown>): Promise<Eval> => {
      const answer = await call<Eval & { state: string; task?: string }>('kb_eval', args);
      if (answer.state === 'done') return answer;
      for (;;) {
        const status = await call<{ state: string; result: Eval }>('kb_task', { task: answer.task });
        if (status.state === 'succeeded') return status.result;
        if (status.state === 'failed') throw new Error(`kb_eval failed: ${JSON.stringify(status)}`);
        await sleep(100);
      }
    };
    const tuned = await evaluate({ kb: 'manpages', queries: queries.slice(0, 200), tune: true });
    context.log(`fusion tuned on queries 1-200: ${JSON.stringify(tuned.fusion.best)}; there: ${JSON.stringify(tuned.modes)}`);
    const all = await evaluate({ kb: 'manpages', queries, tune: false });
    const held = await evaluate({ kb: 'manpages', queries: queries.slice(200), tune: false });
    context.log(`all 400: ${JSON.stringify(all.modes)}; held-out 200: ${JSON.stringify(held.modes)}`);

    const c1: number[] = [];
    for (const q of queries.slice(0, 100)) {
      const t0 = performance.now();
      await call('kb_search', { kb: 'manpages', query: q.text, k: 10 });
      c1.push(performance.now() - t0);
    }
    const clients = await Promise.all(Array.from({ length: 16 }, () => host.connect()));
    const c16: number[] = [];
    await Promise.all(
      clients.map(async (client, c) => {
        for (let i = 0; i < 12; i += 1) {
          const q = queries[(c * 12 + i) % queries.length] as Query;
          const t0 = performance.now();
          const outcome = flatten(await client.callTool({ name: 'kb_search', arguments: { kb: 'manpages', query: q.text, k: 10 } }, { timeout: 600_000 }));
          if (outcome.isError) throw new Error(outcome.text);
          c16.push(performance.now() - t0);
        }
      }),
    );
    return [
      { metric: 'hybrid_ndcg10', value: all.modes.hybrid.ndcg10, unit: 'ndcg', anchor: anchorAll.ndcg10 },
      { metric: 'hybrid_ndcg10_heldout200', value: held.modes.hybrid.ndcg10, unit: 'ndcg', anchor: anchorHeld.ndcg10 },
      { metric: 'lexical_ndcg10', value: all.modes.lexical.ndcg10, unit: 'ndcg', anchor: anchorAll.ndcg10 },
      { metric: 'lexical_ndcg10_heldout200', value: held.modes.lexical.ndcg10, unit: 'ndcg', anchor: anchorHeld.ndcg10 },
      { metric: 'dense_ndcg10', value: all.modes.dense.ndcg10, unit: 'ndcg', anchor: anchorAll.ndcg10 },
      { metric: 'dense_ndcg10_heldout200', value: held.modes.dense.ndcg10, unit: 'ndcg', anchor: anchorHeld.ndcg10 },
      { metric: 'hybrid_recall10', value: all.modes.hybrid.recall10, unit: 'recall', anchor: anchorAll.recall10 },
      { metric: 'hybrid_recall10_heldout200', value: held.modes.hybrid.recall10, unit: 'recall', anchor: anchorHeld.recall10 },
      { metric: 'hybrid_mrr', value: all.modes.hybrid.mrr, unit: 'mrr', anchor: anchorAll.mrr },
      { metric: 'search_c1_p50_ms', value: percentile(c1, 50), unit: 'ms', anchor: 30 },
      { metric: 'search_c16_p99_ms', value: percentile(c16, 99), unit: 'ms', anchor: 150 },
      { metric: 'ingest_chunks_per_s', value: chunks / ingestSeconds, unit: 'chunks/s', anchor: 200 },
      { metric: 'embedder_train_and_embed_s', value: totalSeconds - ingestSeconds, unit: 's', anchor: totalSeconds },
      { metric: 'server_peak_rss_mb', value: peak / 1024 ** 2, unit: 'MB', anchor: 1024 },
      { metric: 'load_average_1m_at_end', value: loadavg()[0] as number, unit: 'load', anchor: null },
    ];
  } finally {
    clearInterval(sampler);
    await host.close();
  }
}
