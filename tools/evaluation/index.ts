/**
 * The built-in `evaluation` plugin: evaluate a registered model version on a dataset split, or
 * compare a candidate with the champion on the same rows, in an `evaluation` job (recipe in
 * gpu-workers/recipes/evaluation/); store each finished evaluation's summary; serve its Markdown
 * report as an MCP resource. The metrics themselves are the pure library in ./metrics/.
 * Its tools are `eval_run`, `eval_compare` and `eval_get` (a built-in names its tools in full).
 */
import { anvilVersion, definePlugin } from 'anvil/plugin';
import { datasetsPlugin } from '../datasets/index.ts';
import { jobsPlugin } from '../jobs/index.ts';
import { modelsPlugin } from '../models/index.ts';
import { EVALUATION_RECIPE, recordEvaluation, reportUri, type EvaluationDeps } from './service.ts';
import { EvaluationStore, evaluationMigrations } from './store.ts';
import { compareTool } from './tools/compare.ts';
import { confusionApp } from './tools/app.ts';
import { listTool } from './tools/list.ts';
import { getTool } from './tools/get.ts';
import { evaluationResources } from './tools/resources.ts';
import { runTool } from './tools/run.ts';

export { EvaluationStore, evaluationMigrations, type EvaluationRecord, type EvaluationKind, type NewEvaluation } from './store.ts';
export { detailUri, EVALUATION_RECIPE, findEvaluation, modelFiles, recordEvaluation, reportUri, resolveModel, submitEvaluation, type EvaluationDeps } from './service.ts';
export { CHAMPION_ALIAS } from './tools/compare.ts';

export const evaluationPlugin = definePlugin({
  id: 'evaluation',
  version: anvilVersion,
  apiVersion: 1,
  description: 'Model evaluation: metrics with bootstrap intervals on a dataset split, candidate vs champion comparisons with a verdict, Markdown reports',
  requires: { plugins: { jobs: '*', datasets: '*', models: '*' } },
  permissions: ['sql'],
  register(ctx) {
    ctx.migrations(evaluationMigrations);
    const jobs = ctx.use(jobsPlugin);
    const datasets = ctx.use(datasetsPlugin);
    const models = ctx.use(modelsPlugin);
    const store = new EvaluationStore(ctx.sql);
    const deps: EvaluationDeps = { jobs: () => jobs.jobs(), datasets: () => datasets.datasets(), registry: () => models.registry(), store };

    ctx.tool(runTool('eval_run', deps));
    ctx.tool(compareTool('eval_compare', deps));
    const confusion = confusionApp(deps);
    ctx.tool({ ...getTool('eval_get', deps), app: confusion.tool });
    ctx.tool(listTool('eval_list', deps));
    for (const resource of confusion.resources) ctx.resource(resource);
    for (const resource of evaluationResources(deps)) ctx.resource(resource);

    let removeHook: (() => void) | undefined;
    ctx.onReady(() => {
      // The jobs plugin is ready by now (it registers, and runs its ready hooks, before this plugin).
      removeHook = jobs.jobs().service.onSucceeded(EVALUATION_RECIPE, async (job, result, artifacts) => {
        const record = await recordEvaluation(store, job, result, artifacts);
        ctx.log.debug({ jobId: job.id, kind: record.kind, verdict: record.verdict }, 'evaluation stored');
        return { evaluation: { id: record.id, reportUri: reportUri(record.id) } };
      });
    });
    ctx.onClose(() => removeHook?.());
    return { store: () => store, deps: () => deps };
  },
});
