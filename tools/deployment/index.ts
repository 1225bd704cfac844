/**
 * The built-in `deployments` plugin: serve registry model versions in-process with onnxruntime-node
 * — predict over MCP and the Open Inference Protocol v2 over HTTP, dynamic batching, sticky A/B
 * routing, a canary controller with guardrails, shadow traffic, a prediction log, feedback joined
 * to predictions, monitoring. See README.md in this folder and docs/deployments.md.
 *
 * Other plugins call `predict(project, deployment, rows)` from what `register` returns
 * (`ctx.use(deploymentsPlugin).predict(…)`).
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { AnvilError, anvilVersion, definePlugin, ErrorCodes } from 'anvil/plugin';
import { deploymentsConfig } from './config.ts';
import { datasetsPlugin } from '../datasets/index.ts';
import { jobsPlugin } from '../jobs/index.ts';
import { modelsPlugin } from '../models/index.ts';
import { ServingMetrics } from './metrics.ts';
import { oipRoutes } from './oip.ts';
import { PredictionLog } from './prediction-log.ts';
import type { DeploymentsRuntime } from './runtime.ts';
import { DeploymentService, type PredictOptions, type PredictResult } from './service.ts';
import { ModelCache } from './serving/cache.ts';
import { loadSql } from './sql.ts';
import { DeploymentStore, deploymentsMigrations } from './store.ts';
import { createTool } from './tools/create.ts';
import { deleteTool } from './tools/delete.ts';
import { getTool } from './tools/get.ts';
import { listTool } from './tools/list.ts';
import { predictTool } from './tools/predict.ts';
import { setTrafficTool } from './tools/set-traffic.ts';
import { updateTool } from './tools/update.ts';
import { canaryTool } from './tools/canary.ts';
import { feedbackStatsTool } from './tools/feedback-stats.ts';
import { feedbackDatasetTool } from './tools/feedback-dataset.ts';
import { feedbackRoute, feedbackTool } from './tools/feedback.ts';
import { monitorTool } from './tools/monitor.ts';
import { canaryApp } from './tools/app.ts';
import { promoteTool } from './tools/promote.ts';
import { rollbackTool } from './tools/rollback.ts';
import { shadowTool } from './tools/shadow.ts';
import { controllerTick } from './canary.ts';

export type { Prediction, PredictOptions, PredictResult } from './service.ts';

const RETENTION = loadSql('predictions-retention');
const RETENTION_DELETED = loadSql('predictions-retention-deleted');

export { deploymentsConfig, type DeploymentsConfig } from './config.ts';

export const deploymentsPlugin = definePlugin({
  id: 'deployments',
  version: anvilVersion,
  apiVersion: 1,
  description: 'Serve registry models: predict (MCP and Open Inference Protocol v2), dynamic batching, A/B, canary with guardrails, shadow, feedback, monitoring',
  requires: { plugins: { jobs: '*', datasets: '*', models: '*' } },
  permissions: ['sql'],
  config: deploymentsConfig,
  register(ctx) {
    ctx.migrations(deploymentsMigrations);
    const jobs = ctx.use(jobsPlugin);
    const datasets = ctx.use(datasetsPlugin);
    const models = ctx.use(modelsPlugin);
    const settings = ctx.config;
    const store = new DeploymentStore(ctx.sql);
    const cache = new ModelCache(settings.sessionCacheMb * 1024 * 1024);
    const dropped = { count: (n: number) => metrics.logDropped.inc(n) };
    const predictionLog = new PredictionLog(ctx.sql, settings.logBufferRows, settings.logBatchRows, ctx.log, (n) => dropped.count(n));
    const metrics = new ServingMetrics(ctx.metrics, () => cache.stats(), () => predictionLog.stats().buffered);
    const service = new DeploymentService({
      store,
      registry: models.registry,
      blobs: () => jobs.jobs().blobs,
      cache,
      log: predictionLog,
      metrics,
      logger: ctx.log,
      settings: { stateTtlMs: settings.stateTtlMs, intraOpThreads: settings.intraOpThreads, concurrentRuns: settings.concurrentRuns },
    });
    const runtime: DeploymentsRuntime = {
      store,
      service,
      registry: models.registry,
      datasets: datasets.datasets,
      log: predictionLog,
      metrics,
      cache,
      sql: ctx.sql,
      settings,
      serverId: `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    };
    let ready = false;
    const get = (): DeploymentsRuntime => {
      if (!ready) throw new AnvilError(ErrorCodes.TOOL_UNAVAILABLE, 'the deployments plugin is still starting; retry in a moment');
      return runtime;
    };

    ctx.tool(createTool(get));
    ctx.tool(listTool(get));
    ctx.tool(getTool(get));
    ctx.tool(updateTool(get));
    ctx.tool(setTrafficTool(get));
    ctx.tool(predictTool(get));
    ctx.tool(feedbackTool(get));
    const canary = canaryApp(get);
    ctx.tool({ ...monitorTool(get), app: canary.tool });
    for (const resource of canary.resources) ctx.resource(resource);
    ctx.tool(canaryTool(get));
    ctx.tool(promoteTool(get));
    ctx.tool(rollbackTool(get));
    ctx.tool(shadowTool(get));
    ctx.tool(feedbackDatasetTool(get));
    ctx.tool(feedbackStatsTool(get));
    ctx.tool(deleteTool(get));
    for (const route of oipRoutes(get, ctx.host.anvilVersion)) ctx.route(route);
    ctx.route(feedbackRoute(get));

    const log = predictionLog;
    ctx.every('prediction-log', settings.logFlushMs, () => log.flush());
    ctx.every('prediction-retention', settings.retentionIntervalMs, async () => {
      await ctx.sql.query(RETENTION);
      await ctx.sql.query(RETENTION_DELETED, [settings.deletedRetentionDays]);
    });
    ctx.every('deployment-state', settings.stateTtlMs, () => service.refreshStates());
    ctx.every('canary-controller', settings.controllerIntervalMs, () => controllerTick(runtime, ctx.log));
    ctx.onReady(() => {
      ready = true;
    });
    ctx.onClose(async () => {
      service.close();
      await log.flush().catch(() => {});
      await cache.close();
    });

    return {
      /** Predicts with a deployment of `project`, as the predict tool does (for other plugins, e.g. payment risk scoring). */
      predict: (project: string, deployment: string, rows: readonly unknown[], options?: PredictOptions): Promise<PredictResult> => get().service.predict(project, deployment, rows, options),
      runtime: get,
    };
  },
});
