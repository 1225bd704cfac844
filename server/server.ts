import path from 'node:path';
import { PluginHost, type PluginHostOptions } from '../plugins/host/host.ts';
import { builtinPlugins } from '../tools/builtins.ts';
import { corePlugin } from '../tools/core/index.ts';
import { jobsPlugin } from '../tools/jobs/index.ts';
import { datasetsPlugin } from '../tools/datasets/index.ts';
import { modelsPlugin } from '../tools/models/index.ts';
import { trainingPlugin } from '../tools/training/index.ts';
import { evaluationPlugin } from '../tools/evaluation/index.ts';
import { deploymentsPlugin } from '../tools/deployment/index.ts';
import { knowledgePlugin } from '../tools/knowledge/index.ts';
import { paymentsPlugin } from '../tools/payment/index.ts';
import { dashboardPlugin } from '../tools/dashboard/index.ts';
import { approvalsPlugin } from '../tools/approvals/index.ts';
import type { AnvilConfig } from './config/schema.ts';
import { startHttpServer, type HttpServerHandle } from './http/serve.ts';
import type { Logger } from './log.ts';
import { startStdioServer, type StdioHandle } from './mcp/stdio.ts';
import { startRuntime, type Runtime } from './runtime.ts';

export interface AnvilServer {
  readonly runtime: Runtime;
  readonly plugins: PluginHost;
  /** Present when HTTP was asked for. */
  readonly http?: HttpServerHandle;
  /**
   * Graceful stop: refuse new connections and calls, wait up to `shutdown.graceMs` for in-flight
   * calls, abort what is left, close plugins, flush the audit trail, close queue and storage.
   * Idempotent.
   */
  shutdown(reason: string): Promise<void>;
  /** Resolves when a shutdown has completed, whoever started it. */
  readonly stopped: Promise<void>;
}

export interface StartOptions {
  config: AnvilConfig;
  log: Logger;
  http: boolean;
  stdio: boolean;
  /** Where relative plugin paths are resolved from: the config file's folder. */
  pluginBaseDir: string;
  /** The config file, which no plugin serves to callers (datasets_import refuses it). */
  configFile?: string;
  /** Plugin descriptors given directly (the test harness), loaded after the configured ones. */
  extraPlugins?: PluginHostOptions['extra'];
  defaultMetrics?: boolean;
}

/** What the server keeps to itself: its home (keys, database, config), config file, log file and artifact store. */
function protectedPaths(config: AnvilConfig, configFile: string | undefined, artifactDir: string): string[] {
  const places = [config.home, configFile, config.log.file, artifactDir];
  return places.filter((place): place is string => place !== undefined).map((place) => path.resolve(place));
}

/**
 * The built-in skills with the plugin config the server hands each: the jobs plugin gets the `jobs`
 * section (artifact and work directories resolved under the home, where they have always been), the
 * datasets plugin its import roots and the places it must never read (datasets_import), the
 * deployments plugin its `deployments` section.
 */
function builtinSkills(config: AnvilConfig, configFile: string | undefined): PluginHostOptions['always'] {
  const jobs = { ...config.jobs, artifactDir: config.jobs.artifactDir ?? path.join(config.home, 'artifacts'), workDir: config.jobs.workDir ?? path.join(config.home, 'work') };
  return [
    { descriptor: corePlugin },
    { descriptor: jobsPlugin, config: jobs },
    { descriptor: datasetsPlugin, config: { roots: config.datasets.roots, protectedPaths: protectedPaths(config, configFile, jobs.artifactDir) } },
    { descriptor: modelsPlugin },
    { descriptor: trainingPlugin },
    { descriptor: evaluationPlugin },
    { descriptor: deploymentsPlugin, config: config.deployments },
    { descriptor: knowledgePlugin, config: config.knowledge },
    { descriptor: approvalsPlugin },
    { descriptor: paymentsPlugin },
    // The web dashboard at /ui (routes only; mounted when HTTP is served).
    { descriptor: dashboardPlugin, config: config.dashboard },
  ];
}

/** Starts the runtime, the plugins and the requested transports; the seam `anvil serve` and tests share. */
export async function startAnvilServer(options: StartOptions): Promise<AnvilServer> {
  const { config, log } = options;
  const runtime = await startRuntime({ config, log, ...(options.defaultMetrics === undefined ? {} : { defaultMetrics: options.defaultMetrics }) });
  let plugins: PluginHost | undefined;
  let http: HttpServerHandle | undefined;
  let stdio: StdioHandle | undefined;
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
      await plugins?.close();
      await runtime.close();
      log.info('stopped');
    })().finally(markStopped);
    return shuttingDown;
  };

  try {
    plugins = await PluginHost.start({
      runtime,
      entries: [...config.plugins],
      baseDir: options.pluginBaseDir,
      builtins: builtinPlugins,
      // The built-in skills: always loaded (tool profiles and per-project switches trim what callers see).
      always: builtinSkills(config, options.configFile),
      extra: options.extraPlugins ?? [],
    });
    const host = plugins;
    const catalog = () => host.catalog;
    if (options.http) http = await startHttpServer(runtime, catalog);
    if (options.stdio) stdio = startStdioServer(runtime, catalog, () => void shutdown('stdin closed').catch(() => {}));
    host.onToolsChanged(() => {
      http?.notifyToolsChanged();
      stdio?.notifyToolsChanged();
    });
  } catch (error) {
    await http?.close().catch(() => {});
    await plugins?.close();
    await runtime.close();
    throw error;
  }
  return { runtime, plugins, ...(http ? { http } : {}), shutdown, stopped };
}
