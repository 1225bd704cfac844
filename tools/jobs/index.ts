/**
 * The built-in `jobs` plugin: the control plane of Anvil's job system, written with the public
 * plugin API only. Always loaded; the server hands it the `jobs` section of its config as plugin
 * config (`artifactDir` resolved), and grants it `redis` for the control bus between servers and workers.
 */
import os from 'node:os';
import path from 'node:path';
import { AnvilError, anvilVersion, definePlugin, ErrorCodes, type RecipeSpec } from 'anvil/plugin';
import { BlobStore } from './blobs.ts';
import { jobsConfig } from './config.ts';
import { Dispatcher } from './dispatch.ts';
import { workerApiRoutes } from './http.ts';
import { TelemetryRecorder } from './telemetry.ts';
import { startLocalWorker, type LocalWorker } from './local-worker.ts';
import type { JobsRuntime } from './runtime.ts';
import { JobService } from './service.ts';
import { JobStore, jobsMigrations } from './store.ts';
import { Sweeper } from './sweeper.ts';
import { registerJobTools, startHostEvents, startNotifications } from './tools/index.ts';
import { eventsRoute } from './events.ts';
import { type ControlBus, builtinRecipes, commandRecipe, localBus, redisBus } from '../../gpu-workers/index.ts';

/** GPU samples held between flushes (about 2 MB): beyond it a database that cannot keep up loses the oldest. */
const TELEMETRY_BUFFER_MAX = 20_000;

export type { JobsConfig } from './config.ts';
export type { JobsRuntime } from './runtime.ts';
export type { JobService, SuccessHook } from './service.ts';
export type { Job } from './store.ts';
export type { BlobStore } from './blobs.ts';
export { JOB_STATES } from './states.ts';
export { LIMITS as JOB_LIMITS } from './store.ts';

export const jobsPlugin = definePlugin({
  id: 'jobs',
  version: anvilVersion,
  apiVersion: 1,
  description: 'Jobs on GPU and CPU workers: submit, watch, cancel; BullMQ dispatch with Postgres as the source of truth',
  permissions: ['sql', 'queue', 'subprocess', 'redis'],
  config: jobsConfig,
  register(ctx) {
    const config = ctx.config;
    ctx.migrations(jobsMigrations);
    for (const recipe of builtinRecipes) ctx.recipe(recipe);
    if (config.allowCommandRecipe) ctx.recipe(commandRecipe);

    let jobs: JobsRuntime | undefined;
    let sweeper: Sweeper | undefined;
    let bus: ControlBus | undefined;
    let local: LocalWorker | undefined;
    let stopNotifications: (() => void) | undefined;
    let stopHostEvents: (() => void) | undefined;
    const ready = (): JobsRuntime => {
      if (!jobs) throw new AnvilError(ErrorCodes.TOOL_UNAVAILABLE, 'the job system is still starting; retry in a moment');
      return jobs;
    };
    const recipes = (): ReadonlyMap<string, RecipeSpec> => ctx.extensions('recipes');

    registerJobTools(ctx, ready);
    for (const route of workerApiRoutes(ready)) ctx.route(route);
    ctx.route(eventsRoute(ready));

    ctx.onReady(async () => {
      const redis = ctx.redis;
      bus = redis.url ? await redisBus(redis.url, redis.keyPrefix, (error) => ctx.log.warn({ err: error.message }, 'control bus error')) : localBus();
      const store = new JobStore(ctx.sql);
      const dispatcher = new Dispatcher(ctx.sql, ctx.queue, config, ctx.log);
      const blobs = new BlobStore(ctx.sql, config.artifactDir ?? path.join(ctx.host.dataDir, 'artifacts'));
      const telemetry = new TelemetryRecorder(
        ctx.sql,
        { sampleMs: config.telemetrySampleMs, retentionMs: config.telemetryRetentionHours * 3_600_000, pruneMs: config.telemetryPruneMs, bufferMax: TELEMETRY_BUFFER_MAX },
        ctx.log.child({ component: 'telemetry' }),
      );
      const service = new JobService({ sql: ctx.sql, store, dispatcher, bus, blobs, recipes, settings: config, log: ctx.log, telemetry });
      jobs = { sql: ctx.sql, service, dispatcher, bus, blobs, recipes, config, resources: { resourceUpdated: (uri) => ctx.resourceUpdated(uri) }, log: ctx.log, telemetry };
      stopNotifications = startNotifications(jobs);
      stopHostEvents = startHostEvents(jobs, (name, payload, project) => ctx.emit(name, payload, project));
      sweeper = new Sweeper(ctx.sql, service, dispatcher, config, ctx.log);
      sweeper.start();
      if (config.localWorker === 'on' || (config.localWorker === 'auto' && ctx.host.embedded)) {
        local = await startLocalWorker({
          service,
          queue: ctx.queue,
          bus,
          recipes: recipes(),
          allowCommand: config.allowCommandRecipe,
          slots: config.localWorkerSlots,
          name: `local-${os.hostname()}`.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 100),
          workRoot: config.workDir ?? path.join(ctx.host.dataDir, 'work'),
          log: ctx.log.child({ component: 'local-worker' }),
        });
      }
    });

    // Unreferenced blobs (a failed job's uploads, replaced datasets' files) are collected in the background.
    ctx.every('blob-gc', config.blobGcIntervalMs, async () => {
      const collected = await jobs?.blobs.collectGarbage(config.blobGcGraceMs);
      if (collected && collected.removed.length > 0) ctx.log.info({ removed: collected.removed.length, kept: collected.kept }, 'unreferenced blobs collected');
    });

    // GPU telemetry samples are buffered by heartbeats and written here, with their retention.
    ctx.every('telemetry-flush', config.telemetryFlushMs, async () => {
      await jobs?.telemetry.flush();
    });

    ctx.onClose(async () => {
      await local?.close();
      await jobs?.telemetry.flush();
      await sweeper?.stop();
      stopNotifications?.();
      stopHostEvents?.();
      await bus?.close();
      await jobs?.dispatcher.close();
    });
    return { jobs: ready, localWorker: () => local };
  },
});
