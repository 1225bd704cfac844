import { z, type ToolSpec } from 'anvil/plugin';
import { evaluate, type EvalQuery } from '../evaluate.ts';
import { datasetSourceSchema, MAX_QUERIES, queriesFromDataset, queriesFromFile, querySchema, type QueryFiles } from '../eval-queries.ts';
import type { KnowledgeService } from '../service.ts';
import { fusionView, kbName } from './view.ts';

/** Sets up to this size are scored during the call; larger ones (or background: true) run as a task. */
export const INLINE_EVAL_MAX = 200;

const input = z
  .object({
    kb: kbName,
    queries: z.union([
      z.string().min(1).max(4096).describe('Path of a JSONL file of {id, text, relevant: [docId]} under the allowed roots'),
      z.array(querySchema).min(1).max(MAX_QUERIES),
      datasetSourceSchema,
    ]),
    tune: z.boolean().default(true).describe('Store the fusion setting that scored best for hybrid on these queries (never below lexical alone)'),
    background: z.boolean().optional().describe(`Run as a task (kb_task) even when small; sets of more than ${INLINE_EVAL_MAX} queries always do`),
    idempotencyKey: z.string().min(1).max(200).optional().describe('A retry with the same key returns the first call’s task'),
  })
  .strict();
const metrics = z.object({ ndcg10: z.number(), recall10: z.number(), mrr: z.number() });
export const evalResultSchema = z.object({
  kb: z.string(),
  queries: z.number(),
  dataset: z.object({ name: z.string(), version: z.number(), split: z.string().nullable() }).nullable(),
  modes: z.object({ hybrid: metrics, lexical: metrics, dense: metrics }),
  denseReady: z.boolean(),
  fusion: z.object({ used: fusionView, best: fusionView.extend({ ndcg10: z.number() }), stored: z.boolean() }),
  misses: z.array(z.object({ id: z.string(), text: z.string(), relevant: z.array(z.string()), top: z.array(z.string()) })),
});
const output = evalResultSchema.partial().extend({
  state: z.enum(['done', 'started']).describe('done: the scores are here; started: a task runs them, its result (this shape) is read with kb_task'),
  task: z.string().optional(),
  replayed: z.boolean().optional(),
  statusTool: z.literal('kb_task').optional(),
});

export function evalTool(service: () => KnowledgeService, files: QueryFiles): ToolSpec<typeof input, typeof output> {
  return {
    name: 'kb_eval',
    title: 'Evaluate retrieval',
    description:
      'Scores hybrid, lexical and dense retrieval on labelled queries ({id, text, relevant: [docId]}, where docId is the document id): inline, a JSONL file, or a registered dataset ({dataset, version?, split?, relevantColumn?}). ' +
      `Reports nDCG@10, recall@10 and MRR per mode and the queries hybrid missed. With tune (default) it stores the fusion setting that scored best for hybrid, chosen from a grid that includes lexical alone. ` +
      `Up to ${INLINE_EVAL_MAX} queries answer at once (state done); larger sets, or background: true, return a task (state started) whose result kb_task shows in the same shape. At most ${MAX_QUERIES} queries.`,
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['knowledge:read'],
    async handler({ kb: name, queries, tune, background, idempotencyKey }, { project, progress }) {
      const svc = service();
      const kb = await svc.kb(project, name);
      let list: EvalQuery[];
      let dataset: z.output<typeof evalResultSchema>['dataset'] = null;
      if (typeof queries === 'string') list = await queriesFromFile(queries, files);
      else if (Array.isArray(queries)) list = queries;
      else ({ queries: list, dataset } = await queriesFromDataset(project, queries, files));
      const run = async (report: (done: number, total: number) => Promise<void>): Promise<z.output<typeof evalResultSchema>> => {
        // Read again when the work starts: a queued evaluation scores the knowledge base as it is then.
        const current = await svc.kb(project, name);
        await svc.lexical.warm(current);
        const outcome = await evaluate(svc.sql, svc.lexical, svc.indexer, current, list, report);
        const stored = tune && outcome.denseReady;
        if (stored) await svc.setFusion(current, outcome.fusion.best);
        return { kb: name, queries: list.length, dataset, ...outcome, fusion: { ...outcome.fusion, stored } };
      };
      if (!background && list.length <= INLINE_EVAL_MAX) {
        const result = await run((done, total) => progress({ progress: done, total, message: `${done}/${total} queries` }));
        return { state: 'done' as const, ...result };
      }
      const started = await svc.startEval(project, kb, { queries: list.length }, idempotencyKey, async (update) => run((done, total) => update({ phase: 'evaluating', done, total })));
      return { state: 'started' as const, kb: name, queries: list.length, dataset, task: started.task, replayed: started.replayed, statusTool: 'kb_task' as const };
    },
  };
}
