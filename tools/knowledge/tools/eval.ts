import path from 'node:path';
import { AnvilError, ErrorCodes, z, type ToolSpec } from 'anvil/plugin';
import { openWithinRoots } from '../../datasets/index.ts';
import { evaluate, type EvalQuery } from '../evaluate.ts';
import type { KnowledgeService } from '../service.ts';
import { fusionView, kbName } from './view.ts';

const query = z.object({ id: z.string().min(1).max(500), text: z.string().min(1).max(2000), relevant: z.array(z.string().min(1).max(1000)).min(1).max(100) }).strict();
const input = z
  .object({
    kb: kbName,
    queries: z.union([z.string().min(1).max(4096).describe('Path of a JSONL file of {id, text, relevant: [docId]} under the allowed roots'), z.array(query).min(1).max(5000)]),
    tune: z.boolean().default(true).describe('Store the fusion setting that scored best for hybrid on these queries (never below lexical alone)'),
  })
  .strict();
const metrics = z.object({ ndcg10: z.number(), recall10: z.number(), mrr: z.number() });
const output = z.object({
  kb: z.string(),
  queries: z.number(),
  modes: z.object({ hybrid: metrics, lexical: metrics, dense: metrics }),
  denseReady: z.boolean(),
  fusion: z.object({ used: fusionView, best: fusionView.extend({ ndcg10: z.number() }), stored: z.boolean() }),
  misses: z.array(z.object({ id: z.string(), text: z.string(), relevant: z.array(z.string()), top: z.array(z.string()) })),
});

const MAX_QUERIES = 5000;

export function evalTool(service: () => KnowledgeService, roots: readonly string[], cwd: string): ToolSpec<typeof input, typeof output> {
  return {
    name: 'kb_eval',
    title: 'Evaluate retrieval',
    description:
      'Scores hybrid, lexical and dense retrieval on labelled queries ({id, text, relevant: [docId]}, inline or a JSONL file; docId is the document id): nDCG@10, recall@10 and MRR per mode, and the queries hybrid missed. ' +
      `With tune (default) it stores the fusion setting that scored best for hybrid, chosen from a grid that includes lexical alone, so hybrid never falls below lexical. At most ${MAX_QUERIES} queries; progress is reported while it runs.`,
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['knowledge:read'],
    async handler({ kb: name, queries, tune }, { project, progress }) {
      const svc = service();
      const kb = await svc.kb(project, name);
      const list = typeof queries === 'string' ? await readQueries(queries, roots, cwd) : queries;
      const outcome = await evaluate(svc.sql, svc.indexer, kb, list, (done, total) => progress({ progress: done, total, message: `${done}/${total} queries` }));
      const stored = tune && outcome.denseReady;
      if (stored) await svc.setFusion(kb, outcome.fusion.best);
      return { kb: name, queries: list.length, ...outcome, fusion: { ...outcome.fusion, stored } };
    },
  };
}

async function readQueries(file: string, roots: readonly string[], cwd: string): Promise<EvalQuery[]> {
  const opened = await openWithinRoots(path.resolve(cwd, file), roots, cwd);
  let text: string;
  try {
    if (opened.size > 64 * 1024 ** 2) throw new AnvilError(ErrorCodes.INVALID_INPUT, `queries: ${file} is over 64 MB`);
    text = await opened.handle.readFile('utf8');
  } finally {
    await opened.handle.close();
  }
  const out: EvalQuery[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new AnvilError(ErrorCodes.INVALID_INPUT, `queries: line ${i + 1} of ${file} is not JSON`);
    }
    const checked = query.safeParse(parsed);
    if (!checked.success) throw new AnvilError(ErrorCodes.INVALID_INPUT, `queries: line ${i + 1} of ${file} must be {id, text, relevant: [docId]} (${checked.error.issues[0]?.path.join('.') ?? ''}: ${checked.error.issues[0]?.message ?? ''})`);
    out.push(checked.data);
    if (out.length > MAX_QUERIES) throw new AnvilError(ErrorCodes.INVALID_INPUT, `queries: at most ${MAX_QUERIES} queries per evaluation`);
  }
  if (out.length === 0) throw new AnvilError(ErrorCodes.INVALID_INPUT, `queries: ${file} holds no query`);
  return out;
}
