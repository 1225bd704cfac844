import { AuditLog } from './audit/audit-log.ts';
import { KeyStore } from './auth/keys.ts';
import { OAuthVerifier } from './auth/oauth.ts';
import type { AnvilConfig } from './config/schema.ts';
import { coreMigrations, type MigrationSet, runMigrations } from './db/migrate.ts';
import { openStorage } from './db/open.ts';
import type { EmbeddedRole } from './db/embedded.ts';
import type { Storage } from './db/storage.ts';
import { HealthMonitor } from './health.ts';
import { HttpRoutes } from './http/routes.ts';
import { ResourceNotifier } from './mcp/resource-notifier.ts';
import { Lifecycle } from './lifecycle.ts';
import type { Logger } from './log.ts';
import type { ToolCallDeps } from './mcp/tool-call.ts';
import { Metrics } from './metrics.ts';
import { openQueueBackend } from './queue/open.ts';
import type { QueueBackend } from './queue/backend.ts';
import type { CoreServices } from './services.ts';

export interface Runtime {
  readonly config: AnvilConfig;
  readonly log: Logger;
  readonly services: CoreServices;
  readonly keys: KeyStore;
  /** Verifies OAuth access tokens when `auth.oauth` is configured. */
  readonly oauth?: OAuthVerifier;
  readonly audit: AuditLog;
  readonly metrics: Metrics;
  readonly lifecycle: Lifecycle;
  readonly toolCallDeps: ToolCallDeps;
  /** Flushes the audit trail and closes the queue and storage, in that order. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens storage, applies migrations, opens the queue and wires the shared services. A failure
 * part-way closes whatever was already open before it propagates.
 */
export async function startRuntime(options: {
  config: AnvilConfig;
  log: Logger;
  role?: EmbeddedRole;
  defaultMetrics?: boolean;
}): Promise<Runtime> {
  const { config, log } = options;
  const migrationSets: MigrationSet[] = [coreMigrations()];
  let storage: Storage | undefined;
  let queue: QueueBackend | undefined;
  try {
    storage = await openStorage(config, options.role ?? 'server');
    const reports = await runMigrations(storage, migrationSets);
    for (const report of reports) {
      if (report.applied.length > 0) log.info({ scope: report.scope, applied: report.applied }, 'migrations applied');
    }
    queue = await openQueueBackend(config, storage);
  } catch (error) {
    await queue?.close().catch(() => {});
    await storage?.close().catch(() => {});
    throw error;
  }
  const health = new HealthMonitor({ storage, queue, migrationSets });
  const metrics = new Metrics({ defaultMetrics: options.defaultMetrics ?? true });
  const services: CoreServices = {
    config,
    storage,
    queue,
    migrationSets,
    startedAt: new Date(),
    health,
    workerQueues: new Set(),
    http: new HttpRoutes(),
    resources: new ResourceNotifier(),
    metrics: metrics.registry,
  };
  const audit = new AuditLog(storage, log.child({ component: 'audit' }), config.audit);
  const lifecycle = new Lifecycle();
  const openStorageRef = storage;
  const openQueueRef = queue;
  let closing: Promise<void> | undefined;
  return {
    config,
    log,
    services,
    keys: new KeyStore(storage, config.auth.keyCacheTtlMs),
    ...(config.auth.oauth ? { oauth: new OAuthVerifier(config.auth.oauth, storage) } : {}),
    audit,
    metrics,
    lifecycle,
    toolCallDeps: { audit, metrics, log, lifecycle },
    close() {
      closing ??= (async () => {
        await audit.close().catch((error: unknown) => log.error({ err: error }, 'could not flush the audit log'));
        await openQueueRef.close().catch((error: unknown) => log.error({ err: error }, 'could not close the queue'));
        await openStorageRef.close().catch((error: unknown) => log.error({ err: error }, 'could not close storage'));
      })();
      return closing;
    },
  };
}
