import { randomUUID } from 'node:crypto';
import {
  McpServer,
  ProtocolError,
  ProtocolErrorCode,
  ResourceTemplate,
  type AuthInfo,
  type McpRequestContext,
  type McpServerFactory,
  type ScopeChallengeHandler,
  type ServerContext,
  type Tool,
} from '@modelcontextprotocol/server';
import type { Principal } from '../auth/principal.ts';
import { missingScopes } from '../auth/scopes.ts';
import { ErrorCodes } from '../errors.ts';
import { anvilVersion } from '../version.ts';
import { advertisedSchema } from './advertised-schema.ts';
import type { Catalog, CatalogResource, CatalogTool } from './catalog.ts';
import type { ProgressUpdate } from './contracts.ts';
import { clientChannel } from './client-channel.ts';
import { recordToolCall, runToolCall, type ToolCallDeps } from './tool-call.ts';

/** The registerTool config of a catalog tool: its metadata and, over HTTP, its scope challenge. */
function buildToolConfig(tool: CatalogTool, transport: Transport, deps: ToolCallDeps) {
  // Over HTTP a missing scope is answered 403 with an RFC 6750 challenge naming it, before the
  // call reaches runToolCall, so the refusal is audited here.
  const scopeChallenge: ScopeChallengeHandler = ({ request, authInfo }) => {
    const missing = missingScopes(authInfo?.scopes ?? [], tool.scopes);
    if (missing.length === 0) return undefined;
    const extra = anvilExtra(authInfo);
    if (extra) {
      recordToolCall(deps, {
        tool: tool.name,
        principal: extra.principal,
        requestId: extra.requestId,
        args: request.params?.arguments,
        outcome: 'denied',
        errorCode: ErrorCodes.FORBIDDEN,
        durationMs: 0,
        transport,
      });
    }
    return { scopes: missing as [string, ...string[]], errorDescription: `${tool.name} requires scope ${missing.join(' ')}` };
  };
  return {
    ...(tool.title ? { title: tool.title } : {}),
    description: tool.description,
    inputSchema: advertisedSchema(tool.inputJsonSchema),
    ...(tool.outputJsonSchema ? { outputSchema: advertisedSchema(tool.outputJsonSchema) } : {}),
    annotations: tool.annotations,
    ...(tool.meta ? { _meta: tool.meta } : {}),
    ...(transport === 'http' && tool.scopes.length > 0 ? { scopeChallenge } : {}),
  };
}

type ToolConfig = ReturnType<typeof buildToolConfig>;

interface ResourceShape {
  metadata: { title?: string; description: string; mimeType?: string };
  template: ResourceTemplate | undefined;
}

/** What the HTTP auth middleware hands the factory through the SDK's pass-through `authInfo`. */
export interface AnvilAuthExtra {
  principal: Principal;
  requestId: string;
  /** What the one HTTP request this instance serves asks for; absent: anything (the whole catalog is registered). */
  scope?: McpRequestScope;
}

/**
 * A single-request instance that serves `tools/call` needs only the called tool registered (its
 * scope challenge, schema and handler), and one that serves `tools/list` no tool at all: the
 * listing reads the catalog. Registering ~100 tools per request was most of Anvil's per-call CPU.
 */
export type McpRequestScope = { method: 'tools/call'; tool: string } | { method: 'tools/list' };

/** `resourceMetadataUrl` (OAuth configured): named in the SDK's `insufficient_scope` challenges, as RFC 9728 asks. */
export function authInfoFor(principal: Principal, requestId: string, resourceMetadataUrl?: string, scope?: McpRequestScope): AuthInfo {
  const extra: AnvilAuthExtra = { principal, requestId, ...(scope ? { scope } : {}) };
  // The SDK's `token` field is never the secret: only the public key id (or the token's subject) travels past the middleware.
  return {
    token: principal.keyId ?? principal.id,
    clientId: principal.id,
    scopes: [...principal.scopes],
    ...(resourceMetadataUrl ? { resourceMetadataUrl } : {}),
    extra: { anvil: extra },
  };
}

function anvilExtra(authInfo: AuthInfo | undefined): AnvilAuthExtra | undefined {
  const value = authInfo?.extra?.anvil;
  return value && typeof value === 'object' ? (value as AnvilAuthExtra) : undefined;
}

const serverInstructions =
  'Anvil runs MLOps and payment skills: training, evaluation, deployment, knowledge search and payments. ' +
  'Start with anvil_whoami to see your project and scopes, and anvil_status for what this server runs on.';

export type Transport = 'stdio' | 'http' | 'in-memory' | 'in-process';

/** Where a transport keeps the resource URIs each connected server instance subscribed to. */
export interface ResourceSubscriptions {
  subscribe(server: McpServer, uri: string): void;
  unsubscribe(server: McpServer, uri: string): void;
}

function progressReporter(ctx: ServerContext): (update: ProgressUpdate) => Promise<void> {
  const token = ctx.mcpReq._meta?.progressToken;
  if (token === undefined) return async () => {};
  return async (update) => {
    await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, ...update } }).catch(() => {});
  };
}

const listEntries = new WeakMap<CatalogTool, Tool>();

/** The `tools/list` entry of a tool, built once per catalog tool. */
function listEntry(tool: CatalogTool): Tool {
  let entry = listEntries.get(tool);
  if (!entry) {
    entry = {
      name: tool.name,
      ...(tool.title ? { title: tool.title } : {}),
      description: tool.description,
      inputSchema: tool.inputJsonSchema as Tool['inputSchema'],
      ...(tool.outputJsonSchema ? { outputSchema: tool.outputJsonSchema as NonNullable<Tool['outputSchema']> } : {}),
      annotations: { ...(tool.title ? { title: tool.title } : {}), ...tool.annotations },
      ...(tool.meta ? { _meta: tool.meta } : {}),
    };
    listEntries.set(tool, entry);
  }
  return entry;
}

/** Tools the principal may call right now: scopes held, plugin on for the project, inside the profile. */
export async function visibleTools(catalog: Catalog, principal: Principal): Promise<CatalogTool[]> {
  const tools = [...catalog.tools.values()].filter((tool) => missingScopes(principal.scopes, tool.scopes).length === 0);
  const verdicts = await Promise.all(tools.map((tool) => catalog.unavailable(principal, tool.pluginId, tool.name)));
  return tools.filter((_, index) => verdicts[index] === undefined);
}

/**
 * Builds the factory the SDK calls for every HTTP request (and once per stdio connection): a fresh
 * `McpServer` exposing the catalog to one principal. Nothing is shared between instances but the
 * catalog and the services, which is what keeps concurrent clients apart and lets several servers
 * sit behind one load balancer. `catalog` is read on every call, so a rebuilt catalog (a plugin
 * switched on or off) applies to the next request.
 */
export function createServerFactory(options: {
  catalog: () => Catalog;
  deps: ToolCallDeps;
  transport: Transport;
  /** The principal for transports that carry no credentials (stdio, in-memory). */
  localPrincipal?: Principal;
  /** Called with each server built (and the era it serves), so that notifications can reach long-lived ones. */
  /** Each instance made, with its era and a function that registers tools added to the catalog since. */
  onServer?: (server: McpServer, era: McpRequestContext['era'], syncTools: () => void) => void;
  /**
   * `resources/subscribe` / `resources/unsubscribe` of a connection (stdio keeps them per server
   * instance). Without it the requests are accepted and forgotten: per-request HTTP servers cannot
   * push, and HTTP clients hear of updates through `subscriptions/listen` instead.
   */
  subscriptions?: ResourceSubscriptions;
}): McpServerFactory {
  const { deps, transport } = options;

  const resolve = (authInfo: AuthInfo | undefined): AnvilAuthExtra => {
    const extra = anvilExtra(authInfo);
    if (extra) return extra;
    // Credential-less transports: one principal for the connection, a fresh request id per call.
    if (options.localPrincipal) return { principal: options.localPrincipal, requestId: randomUUID() };
    // The HTTP middleware always authenticates first; reaching here is a wiring fault, not a user error.
    throw new ProtocolError(ProtocolErrorCode.InternalError, 'No principal for this request');
  };

  const forbidden = (what: string, missing: string[]) =>
    new ProtocolError(ProtocolErrorCode.InvalidParams, `${ErrorCodes.FORBIDDEN}: ${what} requires scope ${missing.join(', ')}`);

  // What registerTool gets for a tool is the same on every request: built once per catalog tool
  // (the HTTP factory runs per request, and rebuilding these objects dominated its cost).
  const toolConfigs = new WeakMap<CatalogTool, ToolConfig>();
  const toolConfig = (tool: CatalogTool): ToolConfig => {
    let config = toolConfigs.get(tool);
    if (!config) {
      config = buildToolConfig(tool, transport, deps);
      toolConfigs.set(tool, config);
    }
    return config;
  };

  // Parsing a URI template is not free either; metadata and templates are immutable, so built once.
  const resourceShapes = new WeakMap<CatalogResource, ResourceShape>();
  const resourceShape = (resource: CatalogResource): ResourceShape => {
    let shape = resourceShapes.get(resource);
    if (!shape) {
      shape = {
        metadata: { ...(resource.title ? { title: resource.title } : {}), description: resource.description, ...(resource.mimeType ? { mimeType: resource.mimeType } : {}) },
        template: resource.template ? new ResourceTemplate(resource.uri, { list: undefined }) : undefined,
      };
      resourceShapes.set(resource, shape);
    }
    return shape;
  };

  return (requestContext: McpRequestContext) => {
    const catalog = options.catalog();
    const server = new McpServer(
      { name: 'anvil', title: 'Anvil', version: anvilVersion },
      {
        capabilities: { tools: { listChanged: true }, resources: { listChanged: true, subscribe: true }, prompts: { listChanged: true } },
        instructions: serverInstructions,
        maxToolInputElements: 10_000,
      },
    );
    const connectionAuth = requestContext.authInfo;

    const scope = anvilExtra(connectionAuth)?.scope;

    const registered = new Set<string>();
    const registerTool = (current: Catalog, tool: CatalogTool) => {
      if (registered.has(tool.name)) return;
      registered.add(tool.name);
      server.registerTool(tool.name, toolConfig(tool), async (args, ctx) => {
        const { principal, requestId } = resolve(ctx.http?.authInfo ?? connectionAuth);
        const client = clientChannel({ server, context: ctx, transport, era: requestContext.era });
        return runToolCall(deps, current, { tool, args, principal, requestId, transport, signal: ctx.mcpReq.signal, progress: progressReporter(ctx), client });
      });
    };
    /** Registers the tools of `current` this instance does not serve yet (a long-lived connection gains tools added later). */
    const registerTools = (current: Catalog) => {
      for (const tool of current.tools.values()) registerTool(current, tool);
    };
    // Every tool a request may call is registered, so that calling one without its scope is refused
    // with the scope named (and audited); the listing shows a principal only the tools it may call.
    if (scope === undefined) registerTools(catalog);
    else if (scope.method === 'tools/call') {
      // An unknown name stays unregistered: the SDK answers it exactly as with the whole catalog.
      const called = catalog.tools.get(scope.tool);
      if (called) registerTool(catalog, called);
    }
    server.server.setRequestHandler('tools/list', async (_request, ctx) => {
      const { principal } = resolve(ctx.http?.authInfo ?? connectionAuth);
      const current = options.catalog();
      const visible = await visibleTools(current, principal);
      // A long-lived instance lists what it can call; a single-request one the current catalog.
      return { tools: (scope === undefined ? visible.filter((tool) => registered.has(tool.name)) : visible).map(listEntry) };
    });
    if (scope !== undefined) {
      // Serving only tools/call or tools/list: resources and prompts are never reached.
      options.onServer?.(server, requestContext.era, () => registerTools(options.catalog()));
      return server;
    }

    for (const resource of catalog.resources) {
      const readWith = async (uri: URL, variables: Record<string, string | string[]>, ctx: ServerContext) => {
        const { principal, requestId } = resolve(ctx.http?.authInfo ?? connectionAuth);
        const missing = missingScopes(principal.scopes, resource.scopes);
        if (missing.length > 0) throw forbidden(resource.uri, missing);
        const unavailable = await catalog.unavailable(principal, resource.pluginId);
        if (unavailable) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `${ErrorCodes.TOOL_UNAVAILABLE}: ${unavailable}`);
        return resource.read(uri, variables, { principal, requestId });
      };
      const { metadata, template } = resourceShape(resource);
      if (template) {
        server.registerResource(resource.name, template, metadata, (uri, variables, ctx) => readWith(uri, variables, ctx));
      } else {
        server.registerResource(resource.name, resource.uri, metadata, (uri, ctx) => readWith(uri, {}, ctx));
      }
    }

    for (const prompt of catalog.prompts) {
      const config = { ...(prompt.title ? { title: prompt.title } : {}), description: prompt.description, argsSchema: advertisedSchema(prompt.argsJsonSchema) };
      server.registerPrompt(prompt.name, config, async (args, ctx) => {
        const { principal, requestId } = resolve(ctx.http?.authInfo ?? connectionAuth);
        const missing = missingScopes(principal.scopes, prompt.scopes);
        if (missing.length > 0) throw forbidden(`prompt ${prompt.name}`, missing);
        const parsed = prompt.parseArgs(args ?? {});
        if (!parsed.ok) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `${ErrorCodes.INVALID_INPUT}: Invalid arguments for prompt ${prompt.name}: ${parsed.message}`);
        return prompt.render(parsed.value, { principal, requestId });
      });
    }

    server.server.setRequestHandler('resources/subscribe', async (request) => {
      options.subscriptions?.subscribe(server, request.params.uri);
      return {};
    });
    server.server.setRequestHandler('resources/unsubscribe', async (request) => {
      options.subscriptions?.unsubscribe(server, request.params.uri);
      return {};
    });

    options.onServer?.(server, requestContext.era, () => registerTools(options.catalog()));
    return server;
  };
}
