/**
 * Built-in plugin `dashboard`: the web dashboard at `/ui`, served by the same HTTP server as `/mcp`.
 *
 * Everything it shows comes from calling Anvil's own tools as the signed-in principal (`ctx.tools`),
 * so what a person sees and may do is exactly what their API key could see and do over MCP: same
 * project, scopes, key allowlist, validation, policy hooks and audit (transport `in-process`, via
 * `dashboard`). It serves a static Preact + htm + uPlot page (from node_modules; no build step) and:
 *
 *   POST   /ui/api/session        Authorization: Bearer <key> → session cookie (the host checks the key)
 *   GET    /ui/api/session        who is signed in, the CSRF token and the tools they may call
 *   DELETE /ui/api/session        sign out (CSRF)
 *   POST   /ui/api/call/:tool     a tool call as the session's principal (CSRF): {arguments} → result
 *   GET    /ui/api/events?job=id  that job's log lines and state as Server-Sent Events (live.ts)
 */
import { AnvilError, anvilVersion, definePlugin, ErrorCodes, type ErrorCode, type PluginHttpContext, type ToolResult } from 'anvil/plugin';
import { deleteCookie, setCookie } from 'hono/cookie';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { loadAssets } from './assets.ts';
import { dashboardConfig } from './config.ts';
import { requireSameOrigin, servedOverHttps, SESSION_COOKIE, sessionCookie, signedIn } from './guard.ts';
import { liveJobStreams } from './live.ts';
import { csrfToken, SessionStore } from './sessions.ts';

/** A tool call's JSON body; tool arguments are validated by the tool itself. */
const CALL_BODY_LIMIT = 256 * 1024;
const TOOL_NAME = /^[a-z][a-z0-9_-]{0,80}$/;

const STATUS_OF: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  [ErrorCodes.INVALID_INPUT]: 400,
  [ErrorCodes.UNAUTHENTICATED]: 401,
  [ErrorCodes.FORBIDDEN]: 403,
  [ErrorCodes.TOOL_UNAVAILABLE]: 403,
  [ErrorCodes.POLICY_DENIED]: 403,
  [ErrorCodes.NOT_FOUND]: 404,
  [ErrorCodes.CONFLICT]: 409,
  [ErrorCodes.RATE_LIMITED]: 429,
  [ErrorCodes.QUOTA_EXCEEDED]: 429,
};

function resultText(result: ToolResult): string {
  return result.content.map((part) => (part.type === 'text' ? part.text : '')).join('\n');
}

/** A tool result as JSON for the page: the structured output, or the refusal with its code and an HTTP status to match. */
function toolAnswer(c: PluginHttpContext, result: ToolResult): Response {
  if (result.isError) {
    const code = ((result._meta?.['dev.anvil/error'] as { code?: string } | undefined)?.code ?? ErrorCodes.INTERNAL) as ErrorCode;
    const message = resultText(result).replace(/^ANVIL_E_[A-Z_]+:\s*/, '');
    return c.json({ error: { code, message } }, STATUS_OF[code] ?? 422);
  }
  return c.json({ result: result.structuredContent ?? { text: resultText(result) } });
}

async function readCallBody(c: PluginHttpContext): Promise<Record<string, unknown>> {
  const length = Number(c.req.header('content-length') ?? '0');
  if (length > CALL_BODY_LIMIT) throw new AnvilError(ErrorCodes.INVALID_INPUT, `body: at most ${CALL_BODY_LIMIT} bytes`);
  const text = await c.req.text();
  if (text.length > CALL_BODY_LIMIT) throw new AnvilError(ErrorCodes.INVALID_INPUT, `body: at most ${CALL_BODY_LIMIT} bytes`);
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AnvilError(ErrorCodes.INVALID_INPUT, 'body: expected JSON {"arguments": {...}}');
  }
  const args = (body as { arguments?: unknown } | null)?.arguments ?? {};
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw new AnvilError(ErrorCodes.INVALID_INPUT, 'arguments: expected a JSON object');
  }
  return args as Record<string, unknown>;
}

export const dashboardPlugin = definePlugin({
  id: 'dashboard',
  version: anvilVersion,
  description: 'The web dashboard at /ui: sign in with an API key; every view is a tool call made as that key.',
  permissions: ['sql', 'tools'],
  config: dashboardConfig,
  register(ctx) {
    ctx.migrations(new URL('./migrations/', import.meta.url));
    const sessions = new SessionStore(ctx.sql, ctx.config.sessionTtlMinutes * 60);
    const tools = ctx.tools;
    const assets = loadAssets();

    const secureHeaders = (c: PluginHttpContext): void => {
      c.header('content-security-policy', assets.csp);
      c.header('x-content-type-options', 'nosniff');
      c.header('referrer-policy', 'no-referrer');
      c.header('x-frame-options', 'DENY');
    };
    const page = (c: PluginHttpContext): Response => {
      secureHeaders(c);
      c.header('cache-control', 'no-store');
      return c.body(assets.page.body, 200, { 'content-type': assets.page.type });
    };
    ctx.route({ method: 'GET', path: '/ui', public: true, handler: page });
    ctx.route({ method: 'GET', path: '/ui/', public: true, handler: page });
    for (const area of ['static', 'vendor'] as const) {
      ctx.route({
        method: 'GET',
        path: `/ui/${area}/:name`,
        public: true,
        handler(c) {
          const asset = assets.file(area, c.req.param('name') ?? '');
          if (!asset) throw new AnvilError(ErrorCodes.NOT_FOUND, `no dashboard file ${c.req.path}`);
          secureHeaders(c);
          c.header('cache-control', area === 'vendor' ? 'public, max-age=3600' : 'no-cache');
          return c.body(asset.body, 200, { 'content-type': asset.type });
        },
      });
    }

    // Sign-in: a credentialed route, so the host verifies the key (and its project header) before
    // this runs; the key itself never reaches the session table or the cookie.
    ctx.route({
      method: 'POST',
      path: '/ui/api/session',
      async handler(c) {
        requireSameOrigin(c);
        const principal = c.get('principal');
        // A session lasts hours and is re-checked through its API key on every request; an OAuth
        // access token cannot be re-checked once stored, so it would outlive its own expiry.
        if (principal.kind === 'oauth') {
          throw new AnvilError(ErrorCodes.INVALID_INPUT, 'Authorization: the dashboard signs in with an Anvil API key (anv_…), not an OAuth access token');
        }
        const id = await sessions.open(principal);
        setCookie(c, SESSION_COOKIE, id, {
          path: '/ui',
          httpOnly: true,
          sameSite: 'Strict',
          secure: servedOverHttps(c),
          maxAge: ctx.config.sessionTtlMinutes * 60,
        });
        ctx.log.info({ principal: principal.id, project: principal.project }, 'dashboard sign-in');
        return c.json({ project: principal.project, principal: principal.id, csrf: csrfToken(id) });
      },
    });
    ctx.route({
      method: 'GET',
      path: '/ui/api/session',
      public: true,
      async handler(c) {
        c.header('cache-control', 'no-store');
        const { sessionId, principal } = await signedIn(c, sessions, tools, { write: false });
        const available = await tools.list(principal);
        return c.json({
          project: principal.project,
          principal: principal.id,
          scopes: principal.scopes,
          csrf: csrfToken(sessionId),
          tools: available.map((tool) => tool.name).sort(),
        });
      },
    });
    ctx.route({
      method: 'DELETE',
      path: '/ui/api/session',
      public: true,
      async handler(c) {
        const id = sessionCookie(c);
        if (id !== undefined) {
          requireSameOrigin(c);
          await sessions.close(id);
        }
        deleteCookie(c, SESSION_COOKIE, { path: '/ui' });
        return c.json({ signedOut: true });
      },
    });
    ctx.route({
      method: 'POST',
      path: '/ui/api/call/:tool',
      public: true,
      async handler(c) {
        c.header('cache-control', 'no-store');
        const { principal } = await signedIn(c, sessions, tools, { write: true });
        const name = c.req.param('tool') ?? '';
        if (!TOOL_NAME.test(name)) throw new AnvilError(ErrorCodes.INVALID_INPUT, 'tool: expected a tool name such as jobs_list');
        const args = await readCallBody(c);
        const result = await tools.call(name, args, { principal, requestId: c.get('requestId'), signal: c.req.raw.signal });
        return toolAnswer(c, result);
      },
    });

    const live = liveJobStreams(sessions, tools, ctx.log, ctx.config.streamRecheckSeconds * 1000);
    ctx.on('jobs.changed', (event) => live.onJobChanged(event));
    ctx.route(live.route);

    ctx.every('sweep-sessions', 10 * 60_000, async () => {
      const removed = await sessions.sweep();
      if (removed > 0) ctx.log.debug({ removed }, 'expired dashboard sessions removed');
    });
  },
});
