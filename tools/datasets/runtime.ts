/**
 * What the datasets plugin builds once it is ready, for its tools, its upload route and other
 * built-in plugins (`ctx.use(datasetsPlugin).datasets()`): training and evaluation code resolve a
 * dataset version with `store.resolve` and record what used it with `store.recordLineage`.
 */
import type { PathPolicy } from './paths.ts';
import type { DatasetService } from './service.ts';
import type { DatasetStore } from './store.ts';

export interface DatasetsRuntime {
  readonly store: DatasetStore;
  readonly service: DatasetService;
  /** Which server files `datasets_import` may read (paths.ts). */
  readonly paths: PathPolicy;
}
