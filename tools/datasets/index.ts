/**
 * The built-in `datasets` plugin: versioned, content-addressed training data per project. Files
 * (CSV, JSONL, JSON) are imported from the server's disk or uploaded over HTTP, checked row by row,
 * normalised to JSONL with a train/validation/test split, and stored in the jobs plugin's blob store
 * so workers download them like checkpoints. Other built-ins reach the store through
 * `ctx.use(datasetsPlugin).datasets()`.
 *
 * Built in (listed by the server or switched on with `{"id": "datasets"}`), its tools are named
 * `datasets_*` and it adds the upload route. Loaded as an ordinary plugin (the test harness'
 * `plugins: [datasetsPlugin]`), the host prefixes its tools with `datasets_` itself and there is no
 * HTTP route.
 */
import { AnvilError, definePlugin, ErrorCodes } from 'anvil/plugin';
import { anvilVersion } from '../../server/version.ts';
import { jobsPlugin } from '../jobs/index.ts';
import { datasetRoutes } from './http.ts';
import { datasetsConfig } from './config.ts';
import type { PathPolicy } from './paths.ts';
import type { DatasetsRuntime } from './runtime.ts';
import { DatasetService } from './service.ts';
import { DatasetStore, datasetsMigrations } from './store.ts';
import { getTool } from './tools/get.ts';
import { importTool } from './tools/import.ts';
import { listTool } from './tools/list.ts';

export type { DatasetsRuntime } from './runtime.ts';
export type { DatasetsConfig } from './config.ts';
export type { PathPolicy } from './paths.ts';
export type { ImportOutcome, ImportCall, SampleResult } from './service.ts';
export type { ImportOptions, LabelDistribution, SplitCounts } from './importer.ts';
export type { DatasetStore, DatasetVersion, LineageEntry, LineageInput, LineageKind, LineageQuery, ModelRef, ResolvedDataset } from './store.ts';
export type { ColumnInfo, ColumnType } from './columns.ts';
export type { DatasetFormat } from './readers.ts';
export type { SplitName } from './split.ts';

export const datasetsPlugin = definePlugin({
  id: 'datasets',
  version: anvilVersion,
  apiVersion: 1,
  description: 'Versioned training datasets per project: import CSV/JSONL/JSON, typed columns, stratified splits, lineage',
  requires: { plugins: { jobs: '*' } },
  permissions: ['sql'],
  config: datasetsConfig,
  register(ctx) {
    ctx.migrations(datasetsMigrations);
    const jobs = ctx.use(jobsPlugin);
    const internal = ctx.internal;
    const paths: PathPolicy = { roots: ctx.config.roots, cwd: process.cwd(), protectedPaths: ctx.config.protectedPaths };

    let runtime: DatasetsRuntime | undefined;
    const ready = (): DatasetsRuntime => {
      if (!runtime) throw new AnvilError(ErrorCodes.TOOL_UNAVAILABLE, 'the datasets plugin is still starting; retry in a moment');
      return runtime;
    };

    // Built in, a plugin names its tools in full; otherwise the host adds the `datasets_` prefix.
    const toolName = (local: string) => (internal ? `datasets_${local}` : local);
    ctx.tool(importTool(toolName('import'), ready));
    ctx.tool(listTool(toolName('list'), ready));
    ctx.tool(getTool(toolName('get'), ready));
    if (internal) for (const route of datasetRoutes(ready)) internal.http.add(route);

    ctx.onReady(() => {
      const store = new DatasetStore(ctx.sql);
      const service = new DatasetService({ store, blobs: () => jobs.jobs().blobs, paths, log: ctx.log });
      runtime = { store, service, paths };
      ctx.log.debug({ roots: paths.roots }, 'datasets ready');
    });
    return { datasets: ready };
  },
});
