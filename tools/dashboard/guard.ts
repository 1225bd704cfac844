/**
 * What a dashboard request must show before anything runs for it: a live session cookie (the
 * principal re-read from its key: a revoked key signs the browser out) and, for writes, the
 * session's CSRF token in `X-Anvil-CSRF` from a page of this very origin.
 */
import { AnvilError, ErrorCodes, isAnvilError, type CallerPrincipal, type PluginHttpContext, type ToolInvoker } from 'anvil/plugin';
import { getCookie } from 'hono/cookie';
import { csrfMatches, type SessionStore } from './sessions.ts';

export const SESSION_COOKIE = 'anvil_session';

export interface SignedIn {
  readonly sessionId: string;
  readonly principal: CallerPrincipal;
}

/** The host this request was addressed to (`Host`), as a page of this server has it in its `Origin`. */
function ownHost(c: PluginHttpContext): string {
  return c.req.header('host') ?? new URL(c.req.url).host;
}

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/**
 * Refuses a state-changing request that did not come from a page of this server: `Origin` must be
 * present and name this host, and `Sec-Fetch-Site` (when the browser sends it) must say same-origin.
 * The host, not the scheme, is compared so that a server behind a TLS-terminating proxy (https
 * outside, http inside) still accepts its own pages. SameSite=Strict already keeps the cookie off
 * cross-site requests; this is the second lock.
 */
export function requireSameOrigin(c: PluginHttpContext): void {
  const origin = c.req.header('origin');
  if (origin === undefined || originHost(origin) !== ownHost(c)) {
    throw new AnvilError(ErrorCodes.FORBIDDEN, 'Origin: a dashboard write must come from a page of this server (cross-site request refused)');
  }
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin') {
    throw new AnvilError(ErrorCodes.FORBIDDEN, `Sec-Fetch-Site: ${site} request refused; dashboard writes must be same-origin`);
  }
}

/** The cookie is Secure when the page is https: the request itself, or (behind a TLS proxy) the page's Origin. */
export function servedOverHttps(c: PluginHttpContext): boolean {
  return new URL(c.req.url).protocol === 'https:' || (c.req.header('origin') ?? '').startsWith('https://');
}

export function sessionCookie(c: PluginHttpContext): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

export async function signedIn(c: PluginHttpContext, sessions: SessionStore, tools: ToolInvoker, options: { write: boolean }): Promise<SignedIn> {
  const sessionId = sessionCookie(c);
  const stored = sessionId === undefined ? undefined : await sessions.find(sessionId);
  if (sessionId === undefined || stored === undefined) {
    throw new AnvilError(ErrorCodes.UNAUTHENTICATED, 'session: not signed in, or the session expired; sign in with an API key');
  }
  if (options.write) {
    requireSameOrigin(c);
    if (!csrfMatches(sessionId, c.req.header('x-anvil-csrf'))) {
      throw new AnvilError(ErrorCodes.FORBIDDEN, 'X-Anvil-CSRF: missing or wrong for this session; reload the dashboard');
    }
  }
  let principal: CallerPrincipal;
  try {
    principal = await tools.refresh(stored);
  } catch (error) {
    if (isAnvilError(error, ErrorCodes.UNAUTHENTICATED)) await sessions.close(sessionId);
    throw error;
  }
  return { sessionId, principal };
}
