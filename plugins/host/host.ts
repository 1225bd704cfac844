import { randomUUID } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as z from 'zod';
import { AnvilError, ErrorCodes, errorMessage, isAnvilError } from '../../server/errors.ts';
import type { Principal } from '../../server/auth/principal.ts';
import type { Catalog, CatalogPrompt, CatalogResource, CatalogTool } from '../../server/mcp/catalog.ts';
import type { AfterToolHook, BeforeToolHook, ToolResult } from '../../server/mcp/contracts.ts';
import { visibleTools } from '../../server/mcp/server-factory.ts';
import { runToolCall, toolErrorResult } from '../../server/mcp/tool-call.ts';
import type { Runtime } from '../../server/runtime.ts';
import { anvilVersion } from '../../server/version.ts';
import { within } from '../../server/within.ts';
import type { ExtensionPoints, HostAdmin, HostInfo, PluginContext, PluginPermission, PluginDescriptor, PluginReport, PluginRoute, ToolDescription, ToolInvoker, ToolSpec } from '../sdk/types.ts';
import { schedule, type Schedule } from './schedule.ts';
import { catalogPrompt, catalogResource, catalogTool, type ContributionScope } from './contributions.ts';
import { EventBus } from './events.ts';
import { type BuiltinLoader, type LoadedEntry, loadEntries } from './load.ts';
import { ProjectPluginState } from './project-state.ts';
import { openPluginRoleStorage, PLUGIN_LEDGER } from './pg-role.ts';
import { migratePlugin, scopedQueue, scopedSql } from './scoped.ts';
import { checkCompatibility, checkDescriptorShape, checkPluginConfig, orderPlugins } from './validate.ts';
import type { PluginEntry } from '../../server/config/schema.ts';

/** The id of the core plugin, whose tools every project and profile keeps. */
export const CORE_PLUGIN_ID = 'anvil';

interface Staged {
  tools: CatalogTool[];
  resources: CatalogResource[];
  prompts: CatalogPrompt[];
  migrationDirs: string[];
  provided: Array<{ point: keyof ExtensionPoints; name: string; value: unknown }>;
  subscriptions: Array<{ pattern: string; listener: Parameters<PluginContext['on']>[1] }>;
  before: BeforeToolHook[];
  after: AfterToolHook[];
  closers: Array<() => Promise<void> | void>;
  ready: Array<() => Promise<void> | void>;
  routes: PluginRoute[];
  schedules: Map<string, Schedule>;
}

const REGISTER_TIMEOUT_MS = 30_000;

/** The migration folders a plugin registered, in the order the host applied them. */
export interface PluginMigrations {
  pluginId: string;
  directories: readonly string[];
}

function toolMatches(patterns: readonly string[], pluginId: string, tool: string): boolean {
  return patterns.some((pattern) => pattern === pluginId || pattern === tool || (pattern.endsWith('*') && tool.startsWith(pattern.slice(0, -1))));
}

function asToolResult(result: CallToolResult): ToolResult {
  const structured = result.structuredContent;
  return {
    content: result.content,
    ...(structured && typeof structured === 'object' ? { structuredContent: structured as Record<string, unknown> } : {}),
    ...(result.isError ? { isError: true } : {}),
    ...(result._meta ? { _meta: result._meta } : {}),
  };
}

function describeTool(tool: CatalogTool): ToolDescription {
  return {
    name: tool.name,
    pluginId: tool.pluginId,
    ...(tool.title ? { title: tool.title } : {}),
    description: tool.description,
    inputSchema: tool.inputJsonSchema,
    ...(tool.outputJsonSchema ? { outputSchema: tool.outputJsonSchema } : {}),
    annotations: tool.annotations,
    scopes: tool.scopes,
  };
}

export interface PluginHostOptions {
  runtime: Runtime;
  entries: readonly PluginEntry[];
  /** Where relative plugin paths in the config are resolved from (the config file's folder). */
  baseDir: string;
  builtins: Readonly<Record<string, BuiltinLoader>>;
  /**
   * Plugins loaded before any configured one, always (the built-in skills), each with the plugin
   * configuration the server hands it (e.g. the jobs plugin gets the `jobs` section of the server's config).
   */
  always: ReadonlyArray<{ descriptor: PluginDescriptor<string, z.ZodType, unknown>; config?: unknown }>;
  /**
   * Descriptors handed over directly (the test harness), loaded after the configured ones, as
   * third-party plugins with the permissions given (as an entry's `permissions` would grant them).
   */
  extra?: ReadonlyArray<{ descriptor: PluginDescriptor; config?: unknown; permissions?: readonly PluginPermission[] }>;
}

/**
 * Loads plugins, checks them before anything of theirs runs, registers them in dependency order,
 * runs their migrations, and assembles what they contribute into the catalog the MCP layer serves.
 * A plugin that fails is reported and left out (or stops the start when its entry is `strict`).
 */
export class PluginHost {
  readonly events: EventBus;
  readonly state: ProjectPluginState;
  private readonly reportsById = new Map<string, PluginReport>();
  private readonly exportsById = new Map<string, unknown>();
  private readonly tools = new Map<string, CatalogTool>();
  private readonly resources: CatalogResource[] = [];
  private readonly prompts: CatalogPrompt[] = [];
  private readonly before: BeforeToolHook[] = [];
  private readonly after: AfterToolHook[] = [];
  private readonly extensionsByPoint = new Map<keyof ExtensionPoints, Map<string, unknown>>();
  private readonly closers: Array<{ pluginId: string; close: () => Promise<void> | void }> = [];
  private readonly changeListeners: Array<(project: string | undefined) => void> = [];
  private readonly schedules = new Map<string, Schedule>();
  private readonly migrated: PluginMigrations[] = [];
  private current: Catalog;
  private readonly admin: HostAdmin;

  private constructor(private readonly runtime: Runtime) {
    this.events = new EventBus(runtime.log.child({ component: 'events' }));
    this.state = new ProjectPluginState(runtime.services.storage);
    this.current = this.buildCatalog();
    const { services } = runtime;
    this.admin = {
      startedAt: services.startedAt,
      health: () => services.health.snapshot(),
      queueWorkers: async () => {
        const counts: Record<string, number> = {};
        await Promise.all([...services.workerQueues].map(async (name) => (counts[name] = await services.queue.openQueue(name).getWorkersCount().catch(() => 0))));
        return counts;
      },
      plugins: {
        reports: () => this.reports,
        disabled: (project) => this.state.disabled(project),
        setEnabled: (project, pluginId, enabled, by) => this.setEnabled(project, pluginId, enabled, by),
      },
    };
  }

  static async start(options: PluginHostOptions): Promise<PluginHost> {
    const host = new PluginHost(options.runtime);
    await host.load(options);
    return host;
  }

  /** What a registered plugin's `register` returned (typed by its descriptor); undefined when it is not active. */
  exportsOf<E>(descriptor: PluginDescriptor<string, z.ZodType, E>): E | undefined {
    return this.exportsById.get(descriptor.id) as E | undefined;
  }

  /** The catalog to serve now; replaced when the set of contributions changes. */
  get catalog(): Catalog {
    return this.current;
  }

  get reports(): PluginReport[] {
    return [...this.reportsById.values()];
  }

  /**
   * Each active plugin's migration folders, in the order they were applied (after core's and
   * BullMQ's): what the test harness replays to build its pre-migrated database template.
   */
  get migrations(): readonly PluginMigrations[] {
    return this.migrated;
  }

  extensions<P extends keyof ExtensionPoints>(point: P): ReadonlyMap<string, ExtensionPoints[P]> {
    return (this.extensionsByPoint.get(point) ?? new Map()) as ReadonlyMap<string, ExtensionPoints[P]>;
  }

  /** Called when the tools a project (or, with undefined, everyone) may see have changed. */
  onToolsChanged(listener: (project: string | undefined) => void): void {
    this.changeListeners.push(listener);
  }

  /** Runs an active plugin's scheduled work (`ctx.every(name, …)`) once now (the test harness' `runScheduled`). */
  async runScheduled(pluginId: string, name: string): Promise<void> {
    const scheduled = this.schedules.get(`${pluginId}/${name}`);
    if (!scheduled) throw new AnvilError(ErrorCodes.NOT_FOUND, `Plugin ${pluginId} has no scheduled work "${name}" (or is not active)`);
    await scheduled.runNow();
  }

  /** Switches a plugin on or off for one project, and tells connected clients their tool list changed. */
  async setEnabled(project: string, pluginId: string, enabled: boolean, by: string): Promise<PluginReport> {
    const report = this.reportsById.get(pluginId);
    if (!report || report.status !== 'active') {
      throw new AnvilError(ErrorCodes.NOT_FOUND, `No active plugin "${pluginId}"; anvil_plugins_list shows what is installed`);
    }
    if (pluginId === CORE_PLUGIN_ID) throw new AnvilError(ErrorCodes.CONFLICT, 'The core plugin "anvil" cannot be switched off');
    await this.state.set(project, pluginId, enabled, by);
    this.runtime.log.info({ project, plugin: pluginId, enabled, by }, 'plugin switched');
    for (const listener of this.changeListeners) listener(project);
    return report;
  }

  async close(): Promise<void> {
    for (const closer of this.closers.reverse()) {
      await Promise.resolve()
        .then(closer.close)
        .catch((error: unknown) => this.runtime.log.warn({ err: error, plugin: closer.pluginId }, 'plugin close hook failed'));
    }
    this.closers.length = 0;
  }

  private async load(options: PluginHostOptions): Promise<void> {
    const { log } = this.runtime;
    const always = options.always.map(({ descriptor, config }): LoadedEntry => ({ source: 'builtin', builtin: true, rawConfig: config, permissions: undefined, strict: true, exported: descriptor }));
    const extra = (options.extra ?? []).map(
      ({ descriptor, config, permissions }): LoadedEntry => ({ source: `inline:${descriptor.id}`, builtin: false, rawConfig: config, permissions, strict: false, exported: descriptor }),
    );
    const loaded = [...always, ...(await loadEntries(options.entries, options.baseDir, options.builtins)), ...extra];

    const refused = new Map<string, AnvilError>();
    const descriptors: PluginDescriptor[] = [];
    const entryOf = new Map<string, LoadedEntry>();
    const configOf = new Map<string, unknown>();
    for (const entry of loaded) {
      let descriptor: PluginDescriptor | undefined;
      try {
        if (entry.error) throw entry.error;
        // Shape first, so that a plugin refused for its versions is still reported under its own id.
        descriptor = checkDescriptorShape(entry.exported, entry.source);
        checkCompatibility(descriptor, anvilVersion);
        if (entryOf.has(descriptor.id)) {
          throw new AnvilError(ErrorCodes.PLUGIN_DUPLICATE, `Plugin ${descriptor.id} is configured twice (${entryOf.get(descriptor.id)?.source} and ${entry.source})`);
        }
        // Deny by default: a third-party plugin gets only what its entry grants; a built-in what it declares.
        const grants = entry.builtin ? (descriptor.permissions ?? []) : (entry.permissions ?? []);
        const beyond = (descriptor.permissions ?? []).filter((permission) => !grants.includes(permission));
        if (beyond.length > 0) {
          throw new AnvilError(
            ErrorCodes.PLUGIN_PERMISSION,
            `Plugin ${descriptor.id} asks for permission ${beyond.join(', ')}, which its entry in anvil.config.json does not grant ` +
              `(an operator who trusts it adds "permissions": ${JSON.stringify(descriptor.permissions)} to the entry)`,
          );
        }
        configOf.set(descriptor.id, checkPluginConfig(descriptor, entry.rawConfig));
        entryOf.set(descriptor.id, entry);
        descriptors.push(descriptor);
      } catch (error) {
        const failure = isAnvilError(error) ? new AnvilError(error.code, error.message) : new AnvilError(ErrorCodes.PLUGIN_INVALID, errorMessage(error));
        // A duplicate is reported under its own name so that it does not hide the first one's report.
        const id = failure.code === ErrorCodes.PLUGIN_DUPLICATE && descriptor ? `${descriptor.id} (${entry.source})` : (descriptor?.id ?? entry.source);
        if (descriptor && !entryOf.has(descriptor.id)) entryOf.set(descriptor.id, entry);
        this.fail(id, descriptor, entry, failure);
        if (descriptor && failure.code !== ErrorCodes.PLUGIN_DUPLICATE) refused.set(descriptor.id, failure);
      }
    }

    const { order, refused: unordered } = orderPlugins(descriptors, refused);
    for (const [id, error] of unordered) {
      if (refused.has(id)) continue;
      const descriptor = descriptors.find((candidate) => candidate.id === id);
      this.fail(id, descriptor, entryOf.get(id), error);
    }
    for (const descriptor of order) {
      const entry = entryOf.get(descriptor.id) as LoadedEntry;
      try {
        await this.registerOne(descriptor, entry, configOf.get(descriptor.id));
      } catch (error) {
        const failure = isAnvilError(error)
          ? new AnvilError(error.code, error.message)
          : new AnvilError(ErrorCodes.PLUGIN_REGISTER_FAILED, `Plugin ${descriptor.id} failed to register: ${errorMessage(error)}`);
        this.fail(descriptor.id, descriptor, entry, failure);
      }
    }
    this.current = this.buildCatalog();
    const active = this.reports.filter((report) => report.status === 'active');
    log.info({ plugins: active.map((report) => `${report.id}@${report.version}`), tools: this.tools.size }, 'plugins registered');
  }

  private fail(id: string, descriptor: PluginDescriptor | undefined, entry: LoadedEntry | undefined, error: AnvilError): void {
    this.runtime.log.error({ plugin: id, code: error.code, source: entry?.source }, error.message);
    this.reportsById.set(id, {
      id,
      version: descriptor?.version ?? null,
      source: entry?.source ?? 'unknown',
      builtin: entry?.builtin ?? false,
      description: descriptor?.description ?? null,
      status: 'failed',
      error: { code: error.code, message: error.message },
      tools: [],
    });
    if (entry?.strict) throw error;
  }

  private async registerOne(descriptor: PluginDescriptor, entry: LoadedEntry, config: unknown): Promise<void> {
    const { services } = this.runtime;
    const id = descriptor.id;
    const permissions = new Set(descriptor.permissions ?? []);
    const log = this.runtime.log.child({ plugin: id });
    const staged: Staged = { tools: [], resources: [], prompts: [], migrationDirs: [], provided: [], subscriptions: [], before: [], after: [], closers: [], ready: [], routes: [], schedules: new Map() };
    const dataDir = path.join(this.runtime.config.home, 'plugins', id);
    let dataDirMade = false;
    const hostInfo: HostInfo = {
      anvilVersion,
      embedded: services.storage.kind === 'pglite',
      storage: services.storage.kind,
      queue: services.queue.kind,
      get dataDir() {
        if (!dataDirMade) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
        dataDirMade = true;
        return dataDir;
      },
      toolNames: () => [...this.tools.keys(), ...staged.tools.map((tool) => tool.name)],
    };
    const granted = (permission: PluginPermission) => {
      if (!permissions.has(permission)) {
        throw new AnvilError(ErrorCodes.PLUGIN_PERMISSION, `Plugin ${id} used ctx.${permission} without being granted the "${permission}" permission`);
      }
    };
    const { redisUrl, queuePrefix } = this.runtime.config;
    const admin = this.admin;
    const invoker = this.toolInvoker(id);
    // On Postgres a third-party plugin's SQL runs as its own role, confined to its schema (pg-role.ts).
    const { databaseUrl } = this.runtime.config;
    const ownRole = !entry.builtin && permissions.has('sql') && services.storage.kind === 'postgres' && databaseUrl !== undefined;
    const storage = ownRole ? await openPluginRoleStorage(services.storage, databaseUrl, id) : services.storage;
    if (ownRole) staged.closers.push(() => storage.close());
    const scope: ContributionScope = {
      pluginId: id,
      builtin: entry.builtin,
      log,
      sql: scopedSql(storage, id, entry.builtin || permissions.has('sql'), (close) => staged.closers.push(close)),
      queue: scopedQueue(services.queue, id, entry.builtin || permissions.has('queue')),
      emit: (type, payload, project) => this.events.emit(type, payload, project),
    };
    const declared = descriptor.requires?.plugins ?? {};
    let live = false;

    const context: PluginContext = {
      id,
      version: descriptor.version,
      config,
      log,
      sql: scope.sql,
      queue: scope.queue,
      tool: (spec) => {
        const tool = catalogTool(scope, spec as unknown as ToolSpec);
        // During register the tool is staged with the rest; afterwards it goes live at once.
        if (live) this.addLiveTool(id, tool);
        else staged.tools.push(tool);
      },
      resource: (spec) => {
        staged.resources.push(catalogResource(scope, spec));
      },
      prompt: (spec) => {
        staged.prompts.push(catalogPrompt(scope, spec as never));
      },
      migrations: (directory) => {
        staged.migrationDirs.push(typeof directory === 'string' ? directory : fileURLToPath(directory));
      },
      recipe: (spec) => {
        staged.provided.push({ point: 'recipes', name: spec.name, value: spec });
      },
      provide: (point, name, value) => {
        staged.provided.push({ point, name, value });
      },
      extensions: <P extends keyof ExtensionPoints>(point: P) => {
        const merged = new Map(this.extensions(point));
        for (const item of staged.provided) if (item.point === point) merged.set(item.name, item.value as ExtensionPoints[P]);
        return merged;
      },
      on: (pattern, listener) => {
        staged.subscriptions.push({ pattern, listener });
      },
      emit: (name, payload, project) => this.events.emit(`${id}.${name}`, payload, project),
      beforeTool: (hook) => {
        staged.before.push(hook);
      },
      afterTool: (hook) => {
        staged.after.push(hook);
      },
      use: <E>(dependency: PluginDescriptor<string, z.ZodType, E>): E => {
        if (!(dependency.id in declared)) {
          throw new AnvilError(ErrorCodes.PLUGIN_MISSING_DEPENDENCY, `Plugin ${id} uses plugin ${dependency.id} without declaring it in requires.plugins`);
        }
        return this.exportsById.get(dependency.id) as E;
      },
      onClose: (hook) => {
        staged.closers.push(hook);
      },
      onReady: (hook) => {
        staged.ready.push(hook);
      },
      host: hostInfo,
      route: (spec) => {
        staged.routes.push(spec);
      },
      resourceUpdated: (uri) => services.resources.resourceUpdated(uri),
      metrics: services.metrics,
      every: (name, intervalMs, work) => {
        if (staged.schedules.has(name)) throw new AnvilError(ErrorCodes.PLUGIN_INVALID, `Plugin ${id} schedules "${name}" twice`);
        const scheduled = schedule({ name, intervalMs, work, log: log.child({ schedule: name }) });
        staged.schedules.set(name, scheduled);
        staged.ready.push(scheduled.start);
        staged.closers.push(scheduled.stop);
      },
      get redis() {
        granted('redis');
        return { url: redisUrl, keyPrefix: queuePrefix };
      },
      get admin() {
        granted('admin');
        return admin;
      },
      get tools() {
        granted('tools');
        return invoker;
      },
    };

    let exported: unknown;
    try {
      exported = await within(Promise.resolve(descriptor.register(context)), REGISTER_TIMEOUT_MS, `register did not finish within ${REGISTER_TIMEOUT_MS / 1000} s`);
      this.checkConflicts(id, staged);
      for (const route of staged.routes) services.http.add({ ...route, scopes: route.scopes ?? [] }, entry.builtin ? undefined : id);
      if (staged.migrationDirs.length > 0) await migratePlugin(storage, id, staged.migrationDirs, ownRole ? { ledger: PLUGIN_LEDGER } : {});
      for (const ready of staged.ready) await ready();
    } catch (error) {
      for (const close of staged.closers) await Promise.resolve().then(close).catch(() => {});
      throw error;
    }

    for (const tool of staged.tools) this.tools.set(tool.name, tool);
    live = true;
    this.resources.push(...staged.resources);
    this.prompts.push(...staged.prompts);
    this.before.push(...staged.before);
    this.after.push(...staged.after);
    for (const item of staged.provided) {
      const registry = this.extensionsByPoint.get(item.point) ?? new Map<string, unknown>();
      registry.set(item.name, item.value);
      this.extensionsByPoint.set(item.point, registry);
    }
    for (const subscription of staged.subscriptions) this.events.subscribe(id, subscription.pattern, subscription.listener);
    for (const close of staged.closers) this.closers.push({ pluginId: id, close });
    for (const [name, scheduled] of staged.schedules) this.schedules.set(`${id}/${name}`, scheduled);
    this.exportsById.set(id, exported);
    if (staged.migrationDirs.length > 0) this.migrated.push({ pluginId: id, directories: staged.migrationDirs });
    this.reportsById.set(id, {
      id,
      version: descriptor.version,
      source: entry.source,
      builtin: entry.builtin,
      description: descriptor.description ?? null,
      status: 'active',
      error: null,
      tools: staged.tools.map((tool) => tool.name),
    });
  }

  /** `ctx.tools` of plugin `pluginId`: calls through the same path as MCP's, read against the current catalog. */
  private toolInvoker(pluginId: string): ToolInvoker {
    const { runtime } = this;
    return {
      list: async (principal) => (await visibleTools(this.current, principal)).map(describeTool),
      call: async (name, args, options) => {
        const tool = this.current.tools.get(name);
        if (!tool) return asToolResult(toolErrorResult(ErrorCodes.NOT_FOUND, `No tool named ${name}; list the tools this principal may call first`));
        const result = await runToolCall(runtime.toolCallDeps, this.current, {
          tool,
          args,
          principal: options.principal,
          requestId: options.requestId ?? randomUUID(),
          transport: 'in-process',
          signal: options.signal ?? new AbortController().signal,
          progress: async (update) => {
            await options.progress?.(update);
          },
          auditDetails: { via: pluginId },
        });
        return asToolResult(result);
      },
      refresh: async (principal) => (principal.kind === 'api-key' && principal.keyId ? runtime.keys.current(principal.keyId) : principal),
    };
  }

  /** A tool an active plugin adds after its register (e.g. one a proxied server just offered): served and announced at once. */
  private addLiveTool(id: string, tool: CatalogTool): void {
    const owner = this.tools.get(tool.name)?.pluginId;
    if (owner) throw new AnvilError(ErrorCodes.PLUGIN_TOOL_CONFLICT, `Plugin ${id} registers tool ${tool.name}, which plugin ${owner} already registers`);
    this.tools.set(tool.name, tool);
    this.reportsById.get(id)?.tools.push(tool.name);
    this.current = this.buildCatalog();
    for (const listener of this.changeListeners) listener(undefined);
  }

  private checkConflicts(id: string, staged: Staged): void {
    const seen = new Set<string>();
    for (const tool of staged.tools) {
      const owner = this.tools.get(tool.name)?.pluginId ?? (seen.has(tool.name) ? id : undefined);
      if (owner) throw new AnvilError(ErrorCodes.PLUGIN_TOOL_CONFLICT, `Plugin ${id} registers tool ${tool.name}, which plugin ${owner} already registers`);
      seen.add(tool.name);
    }
    for (const resource of staged.resources) {
      const owner = this.resources.find((other) => other.uri === resource.uri)?.pluginId;
      if (owner) throw new AnvilError(ErrorCodes.PLUGIN_TOOL_CONFLICT, `Plugin ${id} registers resource ${resource.uri}, which plugin ${owner} already registers`);
    }
    for (const prompt of staged.prompts) {
      const owner = this.prompts.find((other) => other.name === prompt.name)?.pluginId;
      if (owner) throw new AnvilError(ErrorCodes.PLUGIN_TOOL_CONFLICT, `Plugin ${id} registers prompt ${prompt.name}, which plugin ${owner} already registers`);
    }
    for (const item of staged.provided) {
      if (this.extensionsByPoint.get(item.point)?.has(item.name)) {
        throw new AnvilError(ErrorCodes.PLUGIN_TOOL_CONFLICT, `Plugin ${id} provides ${item.point} "${item.name}", which another plugin already provides`);
      }
    }
  }

  private buildCatalog(): Catalog {
    const profile = this.runtime.config.tools;
    const tools = new Map(this.tools);
    return {
      tools,
      resources: [...this.resources],
      prompts: [...this.prompts],
      beforeHooks: [...this.before],
      afterHooks: [...this.after],
      unavailable: async (principal: Principal, pluginId: string, tool?: string) => {
        if (pluginId !== CORE_PLUGIN_ID) {
          const disabled = await this.state.disabled(principal.project);
          if (disabled.has(pluginId)) return `plugin ${pluginId} is switched off for project ${principal.project} (anvil_plugins_enable switches it on)`;
          if (tool && profile && !toolMatches(profile, pluginId, tool)) return `${tool} is outside this server's tool profile (${profile.join(', ')})`;
        }
        if (tool && principal.tools && !toolMatches(principal.tools, pluginId, tool)) return `${tool} is outside this API key's tool allowlist (${principal.tools.join(', ')})`;
        return undefined;
      },
    };
  }
}
