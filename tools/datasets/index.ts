/**
 * The built-in `datasets` plugin: versioned, content-addressed training data per project. Files
 * (CSV, JSONL, JSON) are imported from the server's disk or uploaded over HTTP, checked row by row,
 * normalised to JSONL with a train/validation/test split, and stored in the jobs plugin's blob store
 * so workers download them like checkpoints. Other built-ins reach the store through
 * `ctx.use(datasetsPlugin).datasets()`.
 *
 * Built in (listed by the server), its tools are named `datasets_*`, it serves the upload route,
 * and the server hands it its home directory as plugin config (`{home}`, one of the import roots).
 */
import { AnvilError, anvilVersion, definePlugin, ErrorCodes, z } from 'anvil/plugin';
import { jobsPlugin } from '../jobs/index.ts';
import { datasetRoutes } from './http.ts';
import { datasetRoots, ROOTS_ENV } from './paths.ts';
import type { DatasetsRuntime } from './runtime.ts';
import { DatasetService } from './service.ts';
import { DatasetStore, datasetsMigrations } from './store.ts';
import { getTool } from './tools/get.ts';
import { importTool } from './tools/import.ts';
import { listTool } from './tools/list.ts';

export type { DatasetsRuntime } from './runtime.ts';
export type { ImportOutcome, ImportCall, SampleResult } from './service.ts';
export type { ImportOptions, LabelDistribution, SplitCounts } from './importer.ts';
export type { DatasetStore, DatasetVersion, LineageEntry, LineageInput, LineageKind, LineageQuery, ModelRef, ResolvedDataset } from './store.ts';
export type { ColumnInfo, ColumnType } from './columns.ts';
export type { DatasetFormat } from './readers.ts';
export type { SplitName } from './split.ts';
// The operator-named roots server paths must lie within (the knowledge plugin obeys them too).
export { datasetRoots, openWithinRoots, ROOTS_ENV, type OpenedSource } from './paths.ts';

export const datasetsPlugin = definePlugin({
  id: 'datasets',
  version: anvilVersion,
  apiVersion: 1,
  description: 'Versioned training datasets per project: import CSV/JSONL/JSON, typed columns, stratified splits, lineage',
  requires: { plugins: { jobs: '*' } },
  permissions: ['sql'],
  config: z.object({ home: z.string().min(1).optional() }).strict().prefault({}),
  register(ctx) {
    ctx.migrations(datasetsMigrations);
    const jobs = ctx.use(jobsPlugin);
    const roots = datasetRoots({ cwd: process.cwd(), home: ctx.config.home, env: process.env[ROOTS_ENV] });

    let runtime: DatasetsRuntime | undefined;
    const ready = (): DatasetsRuntime => {
      if (!runtime) throw new AnvilError(ErrorCodes.TOOL_UNAVAILABLE, 'the datasets plugin is still starting; retry in a moment');
      return runtime;
    };

    ctx.tool(importTool('datasets_import', ready));
    ctx.tool(listTool('datasets_list', ready));
    ctx.tool(getTool('datasets_get', ready));
    for (const route of datasetRoutes(ready)) ctx.route(route);

    ctx.onReady(() => {
      const store = new DatasetStore(ctx.sql);
      const service = new DatasetService({ store, blobs: () => jobs.jobs().blobs, roots, cwd: process.cwd(), log: ctx.log });
      runtime = { store, service, roots };
      // Dataset files are blobs of the jobs plugin: its garbage collector must keep the ones a version points at.
      jobs.jobs().blobs.addReferences('datasets', (sha256s) => store.referencedOf(sha256s));
      ctx.log.debug({ roots }, 'datasets ready');
    });
    return { datasets: ready };
  },
});
