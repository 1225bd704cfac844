import type { MiddlewareHandler } from 'hono';
import type { KeyStore } from '../../auth/keys.ts';
import type { OAuthVerifier } from '../../auth/oauth.ts';
import type { Principal } from '../../auth/principal.ts';
import { missingScopes } from '../../auth/scopes.ts';
import { ErrorCodes, errorMessage, isAnvilError } from '../../errors.ts';
import { type AppEnv, jsonRpcError } from '../env.ts';
import { AUTH_ERROR } from '../scope-refusal.ts';

/** A quoted-string for a `WWW-Authenticate` parameter (RFC 9110: no raw quotes or backslashes). */
function quoted(value: string): string {
  return `"${value.replaceAll('\\', '/').replaceAll('"', "'")}"`;
}

/** The `Bearer` challenge: with `resource_metadata` (RFC 9728) when OAuth is configured, so clients find the authorization server. */
export function bearerChallenge(oauth: OAuthVerifier | undefined, params: Record<string, string> = {}): string {
  const all: Record<string, string> = { realm: 'anvil', ...params, ...(oauth ? { resource_metadata: oauth.metadataUrl } : {}) };
  return `Bearer ${Object.entries(all)
    .map(([name, value]) => `${name}=${quoted(value)}`)
    .join(', ')}`;
}

const apiKeyPrefix = 'anv_';

/**
 * Resolves the caller from `Authorization: Bearer <credential>`: an Anvil API key (`anv_…`), or, when
 * `auth.oauth` is configured, a JWT access token of the authorization server. 401 with a challenge
 * when it is missing or invalid, 403 when it lacks a required scope or belongs to another project
 * than the one named in `X-Anvil-Project` (the header can only narrow, never choose, the project).
 * With auth disabled (`--no-auth`, loopback only) every caller is `anonymous`.
 */
export function bearerAuth(options: { keys: KeyStore; oauth?: OAuthVerifier; anonymous?: Principal; requiredScopes?: readonly string[] }): MiddlewareHandler<AppEnv> {
  const required = options.requiredScopes ?? [];
  const { oauth } = options;
  return async (c, next) => {
    let principal = options.anonymous;
    if (!principal) {
      const header = c.req.header('authorization') ?? '';
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) {
        c.header('WWW-Authenticate', bearerChallenge(oauth));
        const how = oauth ? 'an OAuth access token of the authorization server named in this challenge, or an API key' : 'a key';
        return c.json(
          jsonRpcError(AUTH_ERROR, `${ErrorCodes.UNAUTHENTICATED}: send Authorization: Bearer <token> with ${how}; create a key with \`anvil keys create --project <p> --scopes <s>\``),
          401,
        );
      }
      const credential = match[1] as string;
      try {
        principal = oauth && !credential.startsWith(apiKeyPrefix) ? await oauth.verify(credential) : await options.keys.verify(credential);
      } catch (error) {
        if (isAnvilError(error, ErrorCodes.UPSTREAM_FAILED)) {
          c.header('retry-after', '5');
          return c.json(jsonRpcError(AUTH_ERROR, `${ErrorCodes.UPSTREAM_FAILED}: ${errorMessage(error)}`), 503);
        }
        if (!isAnvilError(error, ErrorCodes.UNAUTHENTICATED)) throw error;
        c.header('WWW-Authenticate', bearerChallenge(oauth, { error: 'invalid_token', error_description: errorMessage(error) }));
        return c.json(jsonRpcError(AUTH_ERROR, `${ErrorCodes.UNAUTHENTICATED}: ${errorMessage(error)}`), 401);
      }
    }
    const project = c.req.header('x-anvil-project');
    if (project !== undefined && project !== principal.project) {
      return c.json(jsonRpcError(AUTH_ERROR, `${ErrorCodes.FORBIDDEN}: this credential belongs to project "${principal.project}", not "${project}"`), 403);
    }
    const missing = missingScopes(principal.scopes, required);
    if (missing.length > 0) {
      c.header('WWW-Authenticate', bearerChallenge(oauth, { error: 'insufficient_scope', scope: missing.join(' ') }));
      return c.json(jsonRpcError(AUTH_ERROR, `${ErrorCodes.FORBIDDEN}: requires scope ${missing.join(', ')}`), 403);
    }
    c.set('principal', principal);
    await next();
  };
}
