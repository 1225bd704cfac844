import { createMcpHandler, type McpHttpHandler } from '@modelcontextprotocol/server';
import { Hono, type Handler, type MiddlewareHandler } from 'hono';
import { anonymousPrincipal } from '../auth/principal.ts';
import { OPERATOR_SCOPES } from '../auth/scopes.ts';
import { AnvilError, ErrorCodes, isAnvilError } from '../errors.ts';
import { errorResponse } from './routes.ts';
import type { Catalog } from '../mcp/catalog.ts';
import { authInfoFor, createServerFactory, type McpRequestScope } from '../mcp/server-factory.ts';
import type { Runtime } from '../runtime.ts';
import { type AppEnv, isLoopbackHost, jsonRpcError } from './env.ts';
import { bearerAuth } from './middleware/bearer-auth.ts';
import { peekMcpBody } from './mcp-body.ts';
import { asJsonRpcScopeRefusal } from './scope-refusal.ts';
import { originGuard } from './middleware/origin-guard.ts';
import { requestId } from './middleware/request-id.ts';
import { readiness } from './readiness.ts';

export interface HttpApp {
  app: Hono<AppEnv>;
  mcp: McpHttpHandler;
}

/**
 * The HTTP surface: `/mcp` (Streamable HTTP, both protocol revisions, stateless), `/healthz`,
 * `/readyz` and `/metrics`. Every MCP request gets its own server instance and transport from the
 * SDK's handler; nothing request-scoped outlives the request.
 */
/** Health probes of plugins: no credential, and no principal either. */
const publicRoute: MiddlewareHandler<AppEnv> = async (_c, next) => {
  await next();
};

export function createHttpApp(runtime: Runtime, catalog: () => Catalog): HttpApp {
  const { config, keys, oauth, metrics, lifecycle, log } = runtime;
  const loopback = isLoopbackHost(config.http.host);
  const anonymous = config.http.auth ? undefined : anonymousPrincipal(config.stdio.project);

  const mcp = createMcpHandler(createServerFactory({ catalog, deps: runtime.toolCallDeps, transport: 'http' }), {
    legacy: 'stateless',
    maxRequestBodySize: config.http.maxBodyBytes,
    onerror: (error) => log.debug({ err: error.message }, 'mcp request rejected'),
  });

  const app = new Hono<AppEnv>();
  app.use('*', requestId());
  app.use('*', async (c, next) => {
    await next();
    metrics.httpRequests.inc({ route: c.req.routePath, status: String(c.res.status) });
    // While draining, every answer closes its connection so that clients reconnect elsewhere.
    if (lifecycle.isDraining) c.header('connection', 'close');
  });
  app.use('*', originGuard({ loopback, allowedHosts: config.http.allowedHosts, allowedOrigins: config.http.allowedOrigins }));

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  if (oauth) {
    // RFC 9728: at the root, and path-suffixed for the resource's path (`/.well-known/oauth-protected-resource/mcp`),
    // which is where MCP clients look first. Public, and readable cross-origin by browser-based clients.
    const metadata: Handler<AppEnv> = (c) => {
      c.header('access-control-allow-origin', '*');
      c.header('cache-control', 'public, max-age=300');
      const toolScopes = [...catalog().tools.values()].flatMap((tool) => tool.scopes);
      return c.json(oauth.metadata(oauth.scopesSupported(toolScopes)));
    };
    const suffixed = new URL(oauth.metadataUrl).pathname;
    app.get('/.well-known/oauth-protected-resource', metadata);
    if (suffixed !== '/.well-known/oauth-protected-resource') app.get(suffixed, metadata);
  }
  app.get('/readyz', async (c) => {
    const result = await readiness(runtime);
    return c.json(result, result.status === 'ready' ? 200 : 503);
  });
  app.get('/metrics', bearerAuth({ keys, oauth, anonymous, requiredScopes: [OPERATOR_SCOPES.observe] }), async (c) => {
    c.header('content-type', metrics.contentType);
    return c.body(await metrics.render());
  });

  app.on(['GET', 'POST', 'DELETE'], '/mcp', bearerAuth({ keys, oauth, anonymous }), async (c) => {
    let leave: () => void;
    try {
      leave = lifecycle.enter();
    } catch {
      c.header('retry-after', '1');
      return c.json(jsonRpcError(-32000, `${ErrorCodes.SHUTTING_DOWN}: this server is shutting down; retry`), 503);
    }
    try {
      const principal = c.get('principal');
      const authInfo = (scope?: McpRequestScope) => authInfoFor(principal, c.get('requestId'), oauth?.metadataUrl, scope);
      // Read once here rather than cloned and read twice by the SDK; what it asks for narrows the server built for it.
      const body = await peekMcpBody(c.req.raw, config.http.maxBodyBytes);
      if (body.kind === 'answered') return body.response;
      if (body.kind === 'untouched') return await mcp.fetch(c.req.raw, { authInfo: authInfo() });
      const response =
        body.kind === 'parsed'
          ? await mcp.fetch(c.req.raw, { authInfo: authInfo(body.scope), parsedBody: body.parsed })
          : await mcp.fetch(body.request, { authInfo: authInfo() });
      // Only a key without `*` can be refused a scope.
      return principal.scopes.includes('*') ? response : await asJsonRpcScopeRefusal(response, async () => body.text, principal.kind);
    } finally {
      leave();
    }
  });

  // Routes built-in plugins added (the worker API, artifacts, /events), each behind its scopes.
  for (const route of runtime.services.http.list()) {
    const guard = route.public ? publicRoute : bearerAuth({ keys, oauth, anonymous, requiredScopes: route.scopes });
    app.on(route.method, route.path, guard, async (c) => {
      let leave: (() => void) | undefined;
      if (!route.streaming) {
        try {
          leave = lifecycle.enter();
        } catch {
          c.header('retry-after', '1');
          return errorResponse(c, new AnvilError(ErrorCodes.SHUTTING_DOWN, 'this server is shutting down; retry'));
        }
      }
      try {
        return await route.handler(c);
      } catch (error) {
        if (!isAnvilError(error)) log.error({ err: error, requestId: c.get('requestId'), path: c.req.path }, 'unhandled error in an API route');
        return errorResponse(c, error);
      } finally {
        leave?.();
      }
    });
  }

  app.notFound((c) => c.json({ error: `${ErrorCodes.NOT_FOUND}: no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((error, c) => {
    const id = c.get('requestId');
    log.error({ err: error, requestId: id, path: c.req.path }, 'unhandled error in HTTP handler');
    return c.json(jsonRpcError(-32603, `${ErrorCodes.INTERNAL}: internal error (request id ${id})`), 500);
  });
  return { app, mcp };
}
