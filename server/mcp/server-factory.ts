import { randomUUID } from 'node:crypto';
import {
  McpServer,
  ProtocolError,
  ProtocolErrorCode,
  ResourceTemplate,
  type AuthInfo,
  type McpRequestContext,
  type McpServerFactory,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { Principal } from '../auth/principal.ts';
import { missingScopes } from '../auth/scopes.ts';
import { ErrorCodes } from '../errors.ts';
import { anvilVersion } from '../version.ts';
import { advertisedSchema } from './advertised-schema.ts';
import type { Catalog, ResourceContext } from './catalog.ts';
import { describeZodIssues, recordToolCall, runToolCall, type ToolCallDeps } from './tool-call.ts';
import type { ProgressUpdate } from './tool.ts';

/** What the HTTP auth middleware hands the factory through the SDK's pass-through `authInfo`. */
export interface AnvilAuthExtra {
  principal: Principal;
  requestId: string;
}

export function authInfoFor(principal: Principal, requestId: string): AuthInfo {
  const extra: AnvilAuthExtra = { principal, requestId };
  // The SDK's `token` field is never the secret: only the public key id travels past the middleware.
  return { token: principal.keyId ?? principal.id, clientId: principal.id, scopes: [...principal.scopes], extra: { anvil: extra } };
}

function anvilExtra(authInfo: AuthInfo | undefined): AnvilAuthExtra | undefined {
  const value = authInfo?.extra?.anvil;
  return value && typeof value === 'object' ? (value as AnvilAuthExtra) : undefined;
}

const serverInstructions =
  'Anvil runs MLOps and payment skills: training, evaluation, deployment, knowledge search and payments. ' +
  'Start with anvil_whoami to see your project and scopes, and anvil_status for what this server runs on.';

export type Transport = 'stdio' | 'http' | 'in-memory';

function progressReporter(ctx: ServerContext): (update: ProgressUpdate) => Promise<void> {
  const token = ctx.mcpReq._meta?.progressToken;
  if (token === undefined) return async () => {};
  return async (update) => {
    await ctx.mcpReq
      .notify({ method: 'notifications/progress', params: { progressToken: token, ...update } })
      .catch(() => {});
  };
}

/**
 * Builds the factory the SDK calls for every HTTP request (and once per stdio connection): a fresh
 * `McpServer` exposing the catalog to one principal. Nothing is shared between instances but the
 * catalog and the services, which is what keeps concurrent clients apart and lets several servers
 * sit behind one load balancer.
 */
export function createServerFactory(options: {
  catalog: Catalog;
  deps: ToolCallDeps;
  transport: Transport;
  /** The principal for transports that carry no credentials (stdio, in-memory). */
  localPrincipal?: Principal;
}): McpServerFactory {
  const { catalog, deps, transport } = options;

  const resolve = (authInfo: AuthInfo | undefined): AnvilAuthExtra => {
    const extra = anvilExtra(authInfo);
    if (extra) return extra;
    // Credential-less transports: one principal for the connection, a fresh request id per call.
    if (options.localPrincipal) return { principal: options.localPrincipal, requestId: randomUUID() };
    // The HTTP middleware always authenticates first; reaching here is a wiring fault, not a user error.
    throw new ProtocolError(ProtocolErrorCode.InternalError, 'No principal for this request');
  };

  return (requestContext: McpRequestContext) => {
    const server = new McpServer(
      { name: 'anvil', title: 'Anvil', version: anvilVersion },
      {
        capabilities: { tools: { listChanged: true }, resources: { listChanged: true }, prompts: { listChanged: true } },
        instructions: serverInstructions,
        maxToolInputElements: 10_000,
      },
    );
    const connectionAuth = requestContext.authInfo;

    for (const tool of catalog.tools) {
      server.registerTool(
        tool.name,
        {
          title: tool.title,
          description: tool.description,
          inputSchema: advertisedSchema(tool.input),
          outputSchema: advertisedSchema(tool.output),
          annotations: { title: tool.title, ...tool.annotations },
          ...(transport === 'http' && tool.scopes.length > 0
            ? {
                // Over HTTP a missing scope is answered 403 with an RFC 6750 challenge naming it,
                // before the call reaches runToolCall, so the refusal is audited here.
                scopeChallenge: ({ request, authInfo }) => {
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
                },
              }
            : {}),
        },
        async (args, ctx) => {
          const { principal, requestId } = resolve(ctx.http?.authInfo ?? connectionAuth);
          return runToolCall(deps, { tool, args, principal, requestId, transport, signal: ctx.mcpReq.signal, progress: progressReporter(ctx) });
        },
      );
    }

    for (const resource of catalog.resources) {
      const readWith = async (uri: URL, variables: Record<string, string | string[]>, ctx: ServerContext) => {
        const { principal, requestId } = resolve(ctx.http?.authInfo ?? connectionAuth);
        const missing = missingScopes(principal.scopes, resource.scopes);
        if (missing.length > 0) {
          throw new ProtocolError(ProtocolErrorCode.InvalidParams, `ANVIL_E_FORBIDDEN: ${resource.uri} requires scope ${missing.join(', ')}`);
        }
        const context: ResourceContext = { principal, requestId, services: deps.services };
        return resource.read(uri, variables, context);
      };
      const metadata = { title: resource.title, description: resource.description, mimeType: resource.mimeType };
      if (resource.template) {
        server.registerResource(resource.name, new ResourceTemplate(resource.uri, { list: undefined }), metadata, (uri, variables, ctx) =>
          readWith(uri, variables, ctx),
        );
      } else {
        server.registerResource(resource.name, resource.uri, metadata, (uri, ctx) => readWith(uri, {}, ctx));
      }
    }

    for (const prompt of catalog.prompts) {
      server.registerPrompt(prompt.name, { title: prompt.title, description: prompt.description, argsSchema: advertisedSchema(prompt.args) }, async (args, ctx) => {
        const { principal, requestId } = resolve(ctx.http?.authInfo ?? connectionAuth);
        const missing = missingScopes(principal.scopes, prompt.scopes);
        if (missing.length > 0) {
          throw new ProtocolError(ProtocolErrorCode.InvalidParams, `ANVIL_E_FORBIDDEN: prompt ${prompt.name} requires scope ${missing.join(', ')}`);
        }
        const parsed = prompt.args.safeParse(args ?? {});
        if (!parsed.success) {
          throw new ProtocolError(ProtocolErrorCode.InvalidParams, `ANVIL_E_INVALID_INPUT: Invalid arguments for prompt ${prompt.name}: ${describeZodIssues(parsed.error)}`);
        }
        return prompt.render(parsed.data, { principal, requestId, services: deps.services });
      });
    }

    return server;
  };
}
