import type { GetPromptResult, ReadResourceResult } from '@modelcontextprotocol/server';
import type { Processor } from 'bullmq';
import type { Pool as PgPool } from 'pg';
import type { Registry } from 'prom-client';
import type { Context } from 'hono';
import type { Logger } from 'pino';
import type * as z from 'zod';
import type { AnvilQueue, AnvilWorker, WorkerSettings } from '../../contracts/queue.ts';

export type { AnvilQueue, AnvilWorker, WorkerSettings } from '../../contracts/queue.ts';
import type { AppEnv } from '../../server/http/env.ts';

/** The plugin API this host implements. A plugin built for another one is refused before it runs. */
export const PLUGIN_API_VERSION = 1;

export type { Logger };

import type {
  AfterToolHook,
  BeforeToolHook,
  CallerPrincipal,
  ClientCapabilities,
  ClientRequestOptions,
  ElicitOutcome,
  ElicitRequest,
  ProgressUpdate,
  SampleRequest,
  SampleResult,
  ToolAnnotations,
  ToolResult,
} from '../../server/mcp/contracts.ts';

export type { AfterToolHook, BeforeToolHook, CallerPrincipal, PolicyDecision, ProgressUpdate, ToolAnnotations, ToolCallInfo, ToolResult } from '../../server/mcp/contracts.ts';
export type {
  ClientCapabilities,
  ClientRequestOptions,
  ElicitField,
  ElicitOutcome,
  ElicitRequest,
  SampleContent,
  SampleMedia,
  SampleMessage,
  SampleRequest,
  SampleResult,
  SampleText,
  SampleTool,
  SampleToolResult,
  SampleToolUse,
} from '../../server/mcp/contracts.ts';

/**
 * What a plugin may ask the host for. A third-party plugin gets only what its entry in
 * anvil.config.json grants (`permissions: [...]`); asking for more refuses it before it runs.
 * - `sql`, `queue`: gate `ctx.sql` and `ctx.queue`.
 * - `network`, `subprocess`: declarations an operator reviews (in-process code is not sandboxed).
 * - `redis`: `ctx.redis`, the server's Redis URL (it may carry a password).
 * - `admin`: `ctx.admin`, server health and plugin administration.
 * - `tools`: `ctx.tools`, calling any served tool on a caller's behalf (agents, workflows, dashboards).
 */
export const PLUGIN_PERMISSIONS = ['sql', 'queue', 'network', 'subprocess', 'redis', 'admin', 'tools'] as const;
export type PluginPermission = (typeof PLUGIN_PERMISSIONS)[number];

export interface SqlResult<R> {
  rows: R[];
  rowCount: number;
}

export interface SqlExecutor {
  /** `{{schema}}` in `text` is replaced by the plugin's own quoted schema name. */
  query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, values?: unknown[]): Promise<SqlResult<R>>;
}

/** SQL in the plugin's own schema (`plugin_<id>`), created and migrated by the host. */
export interface PluginSql extends SqlExecutor {
  readonly schema: string;
  /** One transaction on one connection: committed when `work` resolves, rolled back when it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * A `pg` Pool on the plugin's database and role (at most 3 connections, made on first call, ended
   * by the host at close), for libraries that need one (LangGraph's PostgresSaver). Its SQL is not
   * rendered: name the schema yourself (`this.schema`). Do not `end()` it.
   */
  pool(): PgPool;
}

/** BullMQ queues under the plugin's own prefix: `open('deliveries')` is queue `<id>-deliveries`. */
export interface PluginQueue {
  readonly prefix: string;
  open<D = unknown, R = unknown>(name: string): AnvilQueue<D, R>;
  worker<D = unknown, R = unknown>(name: string, processor: Processor<D, R, string>, settings?: WorkerSettings): AnvilWorker<D, R>;
}

/** What every tool handler receives besides its validated input. */
export interface ToolContext {
  readonly principal: CallerPrincipal;
  readonly project: string;
  readonly requestId: string;
  /** The plugin's logger, bound to this call's tool and request id. */
  readonly log: Logger;
  readonly sql: PluginSql;
  readonly queue: PluginQueue;
  /** Aborted when the client cancels or the server's shutdown grace period runs out. */
  readonly signal: AbortSignal;
  /** MCP progress notification, when the client asked for them; a no-op otherwise. */
  progress(update: ProgressUpdate): Promise<void>;
  /** Attaches non-secret details to this call's audit entry. */
  audit(details: Record<string, unknown>): void;
  /** Emits `<pluginId>.<name>` in the caller's project on the host's event bus; returns the event sent. */
  emit(name: string, payload: Record<string, unknown>): AnvilEvent;
  /**
   * What the calling client declared (`elicitation`, `sampling`, …) as far as this call can use it,
   * so a tool can choose a path before asking: empty when the call cannot reach its client (over
   * stateless HTTP, MCP 2026-07-28, in-process calls).
   */
  readonly clientCapabilities: ClientCapabilities;
  /**
   * Asks the person at the client to fill a form (MCP elicitation). Throws ANVIL_E_CLIENT_CAPABILITY
   * when the client did not declare `elicitation` or the call cannot reach it (HTTP, in-process,
   * MCP 2026-07-28); ANVIL_E_UPSTREAM_FAILED when the client fails or does not answer in time.
   */
  elicit(request: ElicitRequest, options?: ClientRequestOptions): Promise<ElicitOutcome>;
  /**
   * Asks the client's model for a completion (MCP sampling; `tools` needs `sampling.tools`). Throws
   * like `elicit` when the client did not declare `sampling` or cannot be reached.
   */
  sample(request: SampleRequest, options?: ClientRequestOptions): Promise<SampleResult>;
}

/** Tool input given as JSON Schema instead of zod (validated with the SDK's JSON Schema validator). */
export interface JsonSchemaInput {
  readonly kind: 'json-schema';
  readonly schema: Record<string, unknown>;
}

export type ObjectSchema = z.ZodObject<z.ZodRawShape>;
export type ToolInput = ObjectSchema | JsonSchemaInput;
export type InputOf<I extends ToolInput> = I extends ObjectSchema ? z.output<I> : Record<string, unknown>;
export type OutputOf<O extends ObjectSchema | undefined> = O extends ObjectSchema ? z.output<O> : ToolResult;

/** The MIME type of an MCP App (SEP-1865): an HTML document a host runs in a sandboxed iframe. */
export const MCP_APP_MIME_TYPE = 'text/html;profile=mcp-app';

/**
 * The MCP App that draws a tool's results (build one with `mcpApp` from `anvil/plugin`): listed as
 * the tool's `_meta.ui.resourceUri`; each result links `resultUri(output)` (the app with that
 * result's data embedded) or, without it, `resourceUri`.
 */
export interface ToolApp {
  /** A `ui://` resource: the app, which draws the tool result the host sends it. */
  readonly resourceUri: string;
  readonly title?: string;
  resultUri?(output: Record<string, unknown>): string | undefined;
}

export interface ToolSpec<I extends ToolInput = ToolInput, O extends ObjectSchema | undefined = ObjectSchema | undefined> {
  /** Local name; a third-party plugin's tool is listed as `<pluginId>_<name>`. */
  readonly name: string;
  readonly title?: string;
  readonly description: string;
  readonly input: I;
  /** With an output schema the handler returns that object; without one it returns a `ToolResult`. */
  readonly output?: O;
  readonly annotations?: ToolAnnotations;
  /** All are required to see and call the tool; none means any authenticated caller. */
  readonly scopes?: readonly string[];
  /** An MCP App drawing this tool's results in hosts that run them; others still get the text and structured content. */
  readonly app?: ToolApp;
  handler(input: InputOf<I>, context: ToolContext): Promise<OutputOf<O>>;
}

export interface ResourceContext {
  readonly principal: CallerPrincipal;
  readonly project: string;
  readonly requestId: string;
  readonly log: Logger;
  readonly sql: PluginSql;
}

export interface ResourceSpec {
  readonly name: string;
  readonly title?: string;
  readonly description: string;
  /** A fixed URI, or an RFC 6570 template such as `anvil://jobs/{id}/logs`. */
  readonly uri: string;
  readonly mimeType?: string;
  readonly scopes?: readonly string[];
  read(uri: URL, variables: Record<string, string | string[]>, context: ResourceContext): Promise<ReadResourceResult>;
}

export interface PromptSpec<A extends ObjectSchema = ObjectSchema> {
  readonly name: string;
  readonly title?: string;
  readonly description: string;
  readonly args: A;
  readonly scopes?: readonly string[];
  render(args: z.output<A>, context: ResourceContext): Promise<GetPromptResult>;
}

export type { RecipeSpec } from '../../contracts/recipe.ts';
import type { RecipeSpec } from '../../contracts/recipe.ts';

/**
 * Named extension registries that later capabilities fill. Each entry is keyed by a name unique
 * within its point. Later capabilities narrow these types by declaration merging.
 */
export interface ExtensionPoints {
  recipes: RecipeSpec;
  vectorStores: { readonly description?: string };
  embedders: { readonly description?: string };
  paymentProviders: PaymentProviderExtension;
  llmProviders: LlmProviderExtension;
  /** Planners for the ops agent (`{name, plan(command, context)}`, graphs/plan.ts), tried after the configured LLM and MCP sampling, before the offline one. */
  planners: PlannerExtension;
  graphs: { readonly description?: string };
}

/**
 * What a `paymentProviders` entry is. A named interface so the payments plugin can narrow it by
 * declaration merging (`declare module … { interface PaymentProviderExtension extends PaymentProvider {} }`);
 * a property of ExtensionPoints cannot be redeclared with another type.
 */
export interface PaymentProviderExtension {
  readonly description?: string;
}

/** What an `llmProviders` entry is; graphs/planners/llm narrows it (a provider makes chat models). */
export interface LlmProviderExtension {
  readonly description?: string;
}

/** What a `planners` entry is: a `Planner` of graphs/plan.ts (the agent checks the shape when it reads them). */
export interface PlannerExtension {
  readonly name: string;
}

export interface AnvilEvent {
  /** `<pluginId>.<name>`, e.g. `jobs.succeeded`. */
  readonly type: string;
  readonly id: string;
  readonly at: string;
  readonly project?: string;
  readonly payload: Record<string, unknown>;
}

/** Matches `type` exactly, or every type under a prefix with a trailing `*` (`jobs.*`, `*`). */
export type EventPattern = string;

/** The Hono environment of a plugin's HTTP route: `c.get('principal')`, `c.get('requestId')`. */
export type PluginHttpEnv = AppEnv;
export type PluginHttpContext = Context<PluginHttpEnv>;

/**
 * An HTTP route a plugin serves beside `/mcp`. A third-party plugin's path must start with
 * `/api/<pluginId>/`; built-ins may use any path except `/mcp`, `/healthz`, `/readyz`, `/metrics`
 * and `/.well-known/`. Every route needs a credential with all of `scopes` unless it is `public`
 * (built-ins only). A thrown AnvilError becomes `{error: {code, message}}` with the status of its code.
 */
export interface PluginRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** A Hono path, e.g. `/api/webhooks/:id` or `/v2/models/:name/infer`. */
  readonly path: string;
  readonly scopes?: readonly string[];
  /** No credential needed (built-ins only; health probes). */
  readonly public?: boolean;
  /** Long-lived answers (SSE) are not counted as in-flight calls for the shutdown drain. */
  readonly streaming?: boolean;
  handler(c: PluginHttpContext): Response | Promise<Response>;
  /** For streaming routes: end every open stream now (the server is shutting down). */
  closeStreams?(): void;
}

/** Facts about the server a plugin runs in (no secrets). */
export interface HostInfo {
  readonly anvilVersion: string;
  /** True on the embedded default (PGlite in-process), false on Postgres. */
  readonly embedded: boolean;
  /** Where SQL runs: PGlite in-process, or a Postgres server. */
  readonly storage: 'pglite' | 'postgres';
  /** What carries BullMQ queues: Redis, or BullMQ's Postgres backend on the same database. */
  readonly queue: 'bullmq-redis' | 'bullmq-postgres';
  /** A directory that belongs to this plugin alone (`<ANVIL_HOME>/plugins/<id>`), created on first use. */
  readonly dataDir: string;
  /** The public names of the tools registered so far (by plugins registered before this one, and this one). */
  toolNames(): readonly string[];
}

/** A tool as a caller sees it in `tools/list`, with what it needs. */
export interface ToolDescription {
  readonly name: string;
  readonly pluginId: string;
  readonly title?: string;
  readonly description: string;
  readonly inputSchema: Record<string, unknown>;
  readonly outputSchema?: Record<string, unknown>;
  readonly annotations: ToolAnnotations;
  readonly scopes: readonly string[];
}

export interface ToolCallOptions {
  /** Whose call it is: their project, scopes and key allowlist decide, exactly as over MCP. */
  readonly principal: CallerPrincipal;
  /** Ties the call's audit entry to the work that made it (an agent run, a dashboard request). */
  readonly requestId?: string;
  readonly signal?: AbortSignal;
  progress?(update: ProgressUpdate): Promise<void> | void;
}

/**
 * In-process tool calls, for a plugin granted the `tools` permission. Every call goes through what
 * an MCP call goes through (plugin switched on for the project, server profile and key allowlist,
 * scopes, input validation, policy hooks, audit with transport `in-process`), so a plugin acting
 * for a caller can never do more than that caller could do directly.
 */
export interface ToolInvoker {
  /** The tools `principal` may call now, as its `tools/list` would show them. */
  list(principal: CallerPrincipal): Promise<ToolDescription[]>;
  /** A refusal or failure is an `isError` result carrying its stable code, never a throw; an unknown name is ANVIL_E_NOT_FOUND. */
  call(name: string, args: Record<string, unknown>, options: ToolCallOptions): Promise<ToolResult>;
  /**
   * The principal as it stands now: an API key's scopes and allowlist re-read, a revoked key refused
   * with ANVIL_E_UNAUTHENTICATED. Use it before resuming work stored on a caller's behalf.
   */
  refresh(principal: CallerPrincipal): Promise<CallerPrincipal>;
}

/** The server's Redis, for a plugin granted the `redis` permission. */
export interface RedisAccess {
  /** `redis://…` (may carry a password); undefined when the server runs without Redis. */
  readonly url: string | undefined;
  /** The server's key prefix (`queuePrefix`): keep keys under `<keyPrefix>:<pluginId>:` so deployments sharing a Redis stay apart. */
  readonly keyPrefix: string;
}

export interface ProbeResult {
  readonly ok: boolean;
  readonly latencyMs: number | null;
  readonly error?: string;
}

/** Storage, queue and migration checks, at most a second old. */
export interface HostHealth {
  readonly checkedAt: Date;
  readonly storage: ProbeResult & { readonly serverVersion: string | null };
  readonly queue: ProbeResult;
  readonly migrations: ReadonlyArray<{ readonly scope: string; readonly current: number; readonly latest: number }>;
}

/** Server administration, for a plugin granted the `admin` permission (the core plugin). */
export interface HostAdmin {
  readonly startedAt: Date;
  health(): Promise<HostHealth>;
  /** Workers connected to each queue the host counts (queue name → count). */
  queueWorkers(): Promise<Record<string, number>>;
  readonly plugins: PluginAdmin;
}

/** What `register` receives: everything a plugin contributes goes through here. */
export interface PluginContext<C = unknown> {
  readonly id: string;
  readonly version: string;
  /** The plugin's validated configuration. */
  readonly config: C;
  readonly log: Logger;
  /** Present when the plugin declared the `sql` permission; throws ANVIL_E_PLUGIN_PERMISSION otherwise. */
  readonly sql: PluginSql;
  /** Present when the plugin declared the `queue` permission; throws ANVIL_E_PLUGIN_PERMISSION otherwise. */
  readonly queue: PluginQueue;
  /**
   * Registers a tool. Called after `register` has returned (the plugin is active), the tool is
   * served at once and connected clients get `notifications/tools/list_changed`; a name another
   * plugin holds throws ANVIL_E_PLUGIN_TOOL_CONFLICT.
   */
  tool<I extends ToolInput, O extends ObjectSchema | undefined = undefined>(spec: ToolSpec<I, O>): void;
  resource(spec: ResourceSpec): void;
  prompt<A extends ObjectSchema>(spec: PromptSpec<A>): void;
  /** A directory of `NNNN_name.sql` files run in order in the plugin's schema (`{{schema}}` is replaced). */
  migrations(directory: URL | string): void;
  recipe(spec: RecipeSpec): void;
  provide<P extends keyof ExtensionPoints>(point: P, name: string, value: ExtensionPoints[P]): void;
  /** Everything provided to `point` so far, by any plugin registered before this one or by this one. */
  extensions<P extends keyof ExtensionPoints>(point: P): ReadonlyMap<string, ExtensionPoints[P]>;
  on(pattern: EventPattern, listener: (event: AnvilEvent) => void | Promise<void>): void;
  emit(name: string, payload: Record<string, unknown>, project?: string): AnvilEvent;
  beforeTool(hook: BeforeToolHook): void;
  afterTool(hook: AfterToolHook): void;
  /** What a declared dependency's `register` returned, typed by its descriptor. */
  use<E>(dependency: PluginDescriptor<string, z.ZodType, E>): E;
  /**
   * Runs once the plugin's `register` and migrations have succeeded, before the server takes calls:
   * the place to start workers or timers that touch the plugin's tables. A throwing hook fails the
   * plugin like a throwing `register`.
   */
  onReady(hook: () => Promise<void> | void): void;
  /** Runs when the server stops (close clients, stop timers). */
  onClose(hook: () => Promise<void> | void): void;
  readonly host: HostInfo;
  /** Serves an HTTP route (mounted when HTTP starts; never on stdio-only servers). */
  route(spec: PluginRoute): void;
  /** Tells subscribed MCP clients (stdio subscriptions, `subscriptions/listen`) that `uri` changed. */
  resourceUpdated(uri: string): void;
  /**
   * Scheduled work: `work` runs every `intervalMs` from `onReady` until the server stops, never two
   * runs at once; a run that throws is logged and the schedule goes on. The signal aborts at close.
   */
  every(name: string, intervalMs: number, work: (signal: AbortSignal) => Promise<void> | void): void;
  /**
   * The server's Prometheus registry, served at /metrics: register prom-client metrics here
   * (`registers: [ctx.metrics]`), named `anvil_<pluginId>_…`. One per server, so two servers in
   * one process never share series.
   */
  readonly metrics: Registry;
  /** Present when the plugin was granted the `redis` permission; throws ANVIL_E_PLUGIN_PERMISSION otherwise. */
  readonly redis: RedisAccess;
  /** Present when the plugin was granted the `admin` permission; throws ANVIL_E_PLUGIN_PERMISSION otherwise. */
  readonly admin: HostAdmin;
  /** Present when the plugin was granted the `tools` permission; throws ANVIL_E_PLUGIN_PERMISSION otherwise. */
  readonly tools: ToolInvoker;
}

/** What the host reports about each configured plugin. */
export interface PluginReport {
  id: string;
  version: string | null;
  source: string;
  builtin: boolean;
  description: string | null;
  status: 'active' | 'failed';
  error: { code: string; message: string } | null;
  tools: string[];
}

/** Plugin administration, for the core plugin's tools. */
export interface PluginAdmin {
  reports(): PluginReport[];
  disabled(project: string): Promise<ReadonlySet<string>>;
  setEnabled(project: string, pluginId: string, enabled: boolean, by: string): Promise<PluginReport>;
}

/** The inert, versioned description of a plugin; nothing runs until the host calls `register`. */
export interface PluginDescriptor<Id extends string = string, C extends z.ZodType = z.ZodType, E = void> {
  readonly kind: 'anvil.plugin';
  readonly id: Id;
  readonly version: string;
  readonly apiVersion: number;
  readonly description?: string;
  readonly requires?: {
    /** A semver range the host's Anvil version must satisfy. */
    readonly anvil?: string;
    /** Plugin id → semver range of the plugins this one needs registered first. */
    readonly plugins?: Readonly<Record<string, string>>;
  };
  readonly permissions?: readonly PluginPermission[];
  readonly config?: C;
  register(context: PluginContext<z.output<C>>): E | Promise<E>;
}
