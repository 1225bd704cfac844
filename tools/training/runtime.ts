/**
 * What the training plugin reaches once the server is ready: the job service and blob store (jobs
 * plugin), the dataset store (datasets plugin), the model registry (models plugin) and its own runs.
 */
import type { DatasetStore } from '../datasets/index.ts';
import type { JobService } from '../jobs/index.ts';
import type { ModelRegistry } from '../models/index.ts';
import type { TrainingRunStore } from './store.ts';

export interface TrainingRuntime {
  readonly jobs: JobService;
  readonly datasets: DatasetStore;
  readonly registry: ModelRegistry;
  readonly runs: TrainingRunStore;
}
