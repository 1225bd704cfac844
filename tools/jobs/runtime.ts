/**
 * What the jobs plugin builds once its migrations have run, shared by its tools, its HTTP routes and
 * the local worker.
 */
import type { Logger, PluginSql, RecipeSpec } from 'anvil/plugin';
import type { BlobStore } from './blobs.ts';
import type { JobsConfig } from './config.ts';
import type { Dispatcher } from './dispatch.ts';
import type { JobService } from './service.ts';
import type { TelemetryRecorder } from './telemetry.ts';
import { type ControlBus } from '../../gpu-workers/index.ts';

export interface JobsRuntime {
  readonly sql: PluginSql;
  readonly service: JobService;
  readonly dispatcher: Dispatcher;
  readonly bus: ControlBus;
  readonly blobs: BlobStore;
  readonly recipes: () => ReadonlyMap<string, RecipeSpec>;
  readonly config: JobsConfig;
  /** Tells subscribed MCP clients that a job resource changed (`ctx.resourceUpdated`). */
  readonly resources: { resourceUpdated(uri: string): void };
  readonly log: Logger;
  /** GPU telemetry history (worker_samples). */
  readonly telemetry: TelemetryRecorder;
}
