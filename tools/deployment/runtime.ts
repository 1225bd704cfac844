/** What the tools and routes of the deployments plugin share once it is ready. */
import type { ModelRegistry } from '../models/index.ts';
import type { DatasetsRuntime } from '../datasets/index.ts';
import type { PredictionLog } from './prediction-log.ts';
import type { DeploymentService } from './service.ts';
import type { DeploymentStore } from './store.ts';
import type { ServingMetrics } from './metrics.ts';
import type { PluginSql } from 'anvil/plugin';
import type { ModelCache } from './serving/cache.ts';
import type { DeploymentsConfig } from './config.ts';

export interface DeploymentsRuntime {
  store: DeploymentStore;
  service: DeploymentService;
  registry: () => ModelRegistry;
  datasets: () => DatasetsRuntime;
  log: PredictionLog;
  metrics: ServingMetrics;
  cache: ModelCache;
  sql: PluginSql;
  /** The plugin's configuration (the `deployments` section of anvil.config.json). */
  settings: DeploymentsConfig;
  /** This server's id in rollout history (which controller stepped). */
  serverId: string;
}

export type Ready = () => DeploymentsRuntime;
