import type { AnvilConfig } from './config/schema.ts';
import { startHttpServer, type HttpServerHandle } from './http/serve.ts';
import type { Logger } from './log.ts';
import type { Catalog } from './mcp/catalog.ts';
import { startStdioServer } from './mcp/stdio.ts';
import { startRuntime, type Runtime } from './runtime.ts';

export interface AnvilServer {
  readonly runtime: Runtime;
  /** Present when HTTP was asked for. */
  readonly http?: HttpServerHandle;
  /**
   * Graceful stop: refuse new connections and calls, wait up to `shutdown.graceMs` for in-flight
   * calls, abort what is left, flush the audit trail, close queue and storage. Idempotent.
   */
  shutdown(reason: string): Promise<void>;
  /** Resolves when a shutdown has completed, whoever started it. */
  readonly stopped: Promise<void>;
}

/** Starts the runtime and the requested transports; the seam both `anvil serve` and tests use. */
export async function startAnvilServer(options: {
  config: AnvilConfig;
  log: Logger;
  catalog: Catalog;
  http: boolean;
  stdio: boolean;
  defaultMetrics?: boolean;
}): Promise<AnvilServer> {
  const { config, log } = options;
  const runtime = await startRuntime({ config, log, catalog: options.catalog, ...(options.defaultMetrics === undefined ? {} : { defaultMetrics: options.defaultMetrics }) });
  let http: HttpServerHandle | undefined;
  let stdio: { close(): Promise<void> } | undefined;
  let shuttingDown: Promise<void> | undefined;
  let markStopped!: () => void;
  const stopped = new Promise<void>((resolve) => {
    markStopped = resolve;
  });

  const shutdown = (reason: string): Promise<void> => {
    shuttingDown ??= (async () => {
      log.info({ reason, inflight: runtime.lifecycle.inflightCount }, 'shutting down');
      const listenerClosed = http?.stopAccepting();
      const drained = await runtime.lifecycle.drain(config.shutdown.graceMs);
      if (!drained) log.warn({ graceMs: config.shutdown.graceMs }, 'grace period over; aborting calls still running');
      await http?.close(Math.min(2_000, Math.max(config.shutdown.graceMs, 100)));
      await listenerClosed;
      await stdio?.close().catch(() => {});
      await runtime.close();
      log.info('stopped');
    })().finally(markStopped);
    return shuttingDown;
  };

  try {
    if (options.http) http = await startHttpServer(runtime);
    if (options.stdio) stdio = startStdioServer(runtime, () => void shutdown('stdin closed').catch(() => {}));
  } catch (error) {
    await http?.close().catch(() => {});
    await runtime.close();
    throw error;
  }
  return { runtime, ...(http ? { http } : {}), shutdown, stopped };
}
