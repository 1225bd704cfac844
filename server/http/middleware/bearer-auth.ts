import type { MiddlewareHandler } from 'hono';
import type { KeyStore } from '../../auth/keys.ts';
import type { Principal } from '../../auth/principal.ts';
import { missingScopes } from '../../auth/scopes.ts';
import { ErrorCodes, errorMessage, isAnvilError } from '../../errors.ts';
import { type AppEnv, jsonRpcError } from '../env.ts';
import { AUTH_ERROR } from '../scope-refusal.ts';


/**
 * Resolves the caller from `Authorization: Bearer <key>`: 401 with a challenge when it is missing
 * or invalid, 403 when the key lacks a required scope or belongs to another project than the one
 * named in `X-Anvil-Project`. With auth disabled (`--no-auth`, loopback only) every caller is
 * `anonymous`.
 */
export function bearerAuth(options: { keys: KeyStore; anonymous?: Principal; requiredScopes?: readonly string[] }): MiddlewareHandler<AppEnv> {
  const required = options.requiredScopes ?? [];
  return async (c, next) => {
    let principal = options.anonymous;
    if (!principal) {
      const header = c.req.header('authorization') ?? '';
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) {
        c.header('WWW-Authenticate', 'Bearer realm="anvil"');
        return c.json(
          jsonRpcError(AUTH_ERROR, `${ErrorCodes.UNAUTHENTICATED}: send Authorization: Bearer <key>; create a key with \`anvil keys create --project <p> --scopes <s>\``),
          401,
        );
      }
      try {
        principal = await options.keys.verify(match[1] as string);
      } catch (error) {
        if (!isAnvilError(error, ErrorCodes.UNAUTHENTICATED)) throw error;
        c.header('WWW-Authenticate', `Bearer realm="anvil", error="invalid_token", error_description="${errorMessage(error).replaceAll('"', "'")}"`);
        return c.json(jsonRpcError(AUTH_ERROR, `${ErrorCodes.UNAUTHENTICATED}: ${errorMessage(error)}`), 401);
      }
    }
    const project = c.req.header('x-anvil-project');
    if (project !== undefined && project !== principal.project) {
      return c.json(jsonRpcError(AUTH_ERROR, `${ErrorCodes.FORBIDDEN}: this key belongs to project "${principal.project}", not "${project}"`), 403);
    }
    const missing = missingScopes(principal.scopes, required);
    if (missing.length > 0) {
      c.header('WWW-Authenticate', `Bearer realm="anvil", error="insufficient_scope", scope="${missing.join(' ')}"`);
      return c.json(jsonRpcError(AUTH_ERROR, `${ErrorCodes.FORBIDDEN}: requires scope ${missing.join(', ')}`), 403);
    }
    c.set('principal', principal);
    await next();
  };
}
