/**
 * The built-in `training` plugin: `training_start` trains a classifier on a dataset version as a
 * job (the dataset blob is the job's input), and when the job succeeds its model is registered in
 * the model registry with metrics, signature, lineage and artifacts, and the job's result names the
 * version (`{model: {name, version}}`). See README.md in this folder.

 */
import { AnvilError, anvilVersion, definePlugin, ErrorCodes } from 'anvil/plugin';
import { datasetsPlugin } from '../datasets/index.ts';
import { jobsPlugin } from '../jobs/index.ts';
import { modelsPlugin } from '../models/index.ts';
import { TRAINING_RECIPES } from './plan.ts';
import { trainingSuccessHook } from './register.ts';
import type { TrainingRuntime } from './runtime.ts';
import { TrainingRunStore, trainingMigrations } from './store.ts';
import { startTool } from './tools/start.ts';

export type { TrainingRuntime } from './runtime.ts';
export type { TrainingRun, TrainingRunInput } from './store.ts';
export { TRAINING_RECIPES, type TrainingRecipe } from './plan.ts';

export const trainingPlugin = definePlugin({
  id: 'training',
  version: anvilVersion,
  apiVersion: 1,
  description: 'Train classifiers on datasets as jobs; each successful job registers a model version with metrics, signature and lineage',
  requires: { plugins: { jobs: '*', datasets: '*', models: '*' } },
  permissions: ['sql'],
  register(ctx) {
    ctx.migrations(trainingMigrations);
    const jobs = ctx.use(jobsPlugin);
    const datasets = ctx.use(datasetsPlugin);
    const models = ctx.use(modelsPlugin);
    const runs = new TrainingRunStore(ctx.sql);

    let runtime: TrainingRuntime | undefined;
    const ready = (): TrainingRuntime => {
      if (!runtime) throw new AnvilError(ErrorCodes.TOOL_UNAVAILABLE, 'the training plugin is still starting; retry in a moment');
      return runtime;
    };

    ctx.tool(startTool('training_start', ready));

    const removals: Array<() => void> = [];
    ctx.onReady(() => {
      const service = jobs.jobs().service;
      const hook = trainingSuccessHook({ runs, datasets: () => datasets.datasets().store, registry: models.registry, log: ctx.log });
      for (const recipe of TRAINING_RECIPES) removals.push(service.onSucceeded(recipe, hook));
      runtime = { jobs: service, datasets: datasets.datasets().store, registry: models.registry(), runs };
    });
    ctx.onClose(() => {
      for (const remove of removals.splice(0)) remove();
    });
    return { training: ready };
  },
});
