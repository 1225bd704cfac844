import type { Registry } from 'prom-client';
import type { AnvilConfig } from './config/schema.ts';
import type { HealthMonitor } from './health.ts';
import type { MigrationSet } from './db/migrate.ts';
import type { Storage } from './db/storage.ts';
import type { QueueBackend } from './queue/backend.ts';
import type { HttpRoutes } from './http/routes.ts';
import type { ResourceNotifier } from './mcp/resource-notifier.ts';

/** The long-lived services a tool handler may use, owned by the runtime. */
export interface CoreServices {
  readonly config: AnvilConfig;
  readonly storage: Storage;
  readonly queue: QueueBackend;
  readonly migrationSets: readonly MigrationSet[];
  readonly startedAt: Date;
  /** Storage, queue and migration checks, probed at most once a second. */
  readonly health: HealthMonitor;
  /** BullMQ queues whose workers `anvil_status` counts; filled by the job system as it opens queues. */
  readonly workerQueues: ReadonlySet<string>;
  /** HTTP routes built-in plugins add beside /mcp (mounted when HTTP starts). */
  readonly http: HttpRoutes;
  /** Tells subscribed MCP clients (stdio, subscriptions/listen) that a resource changed. */
  readonly resources: ResourceNotifier;
  /** The server's Prometheus registry (served at /metrics). */
  readonly metrics: Registry;
}
