/**
 * The SDK answers a tool, resource or prompt call whose key lacks a scope with RFC 6750's `403`
 * and an OAuth body (`{"error": "insufficient_scope", ...}`), which MCP clients cannot match to
 * their request. Anvil keeps the status and the `WWW-Authenticate: Bearer error="insufficient_scope",
 * scope="..."` challenge (clients that can step up their token use it) and replaces the body with a
 * JSON-RPC error per request, carrying its `ANVIL_E_FORBIDDEN` code like every other refusal.
 */
import { ErrorCodes } from '../errors.ts';

/** The JSON-RPC code of refusals answered before MCP dispatch (implementation-defined range). */
export const AUTH_ERROR = -32001;

/** The ids of the JSON-RPC requests in a POST body (notifications have none). */
function requestIds(body: string): Array<string | number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  const messages = Array.isArray(parsed) ? parsed : [parsed];
  return messages
    .map((message) => (typeof message === 'object' && message !== null ? (message as { id?: unknown }).id : undefined))
    .filter((id): id is string | number => typeof id === 'string' || typeof id === 'number');
}

/** `response` as a JSON-RPC error when it is the SDK's insufficient_scope refusal; otherwise unchanged. */
export async function asJsonRpcScopeRefusal(response: Response, requestBody: () => Promise<string>, credential: 'api-key' | 'oauth' | 'local' | 'anonymous' = 'api-key'): Promise<Response> {
  if (response.status !== 403) return response;
  const challenge = response.headers.get('www-authenticate') ?? '';
  if (!challenge.includes('insufficient_scope')) return response;
  const oauth = (await response.json().catch(() => ({}))) as { error_description?: unknown };
  const scopes = /scope="([^"]*)"/.exec(challenge)?.[1]?.split(' ').filter((scope) => scope.length > 0) ?? [];
  const description = typeof oauth.error_description === 'string' ? oauth.error_description : `requires scope ${scopes.join(' ')}`;
  const error = {
    code: AUTH_ERROR,
    message: `${ErrorCodes.FORBIDDEN}: ${description}; ${credential === 'oauth' ? 'this access token lacks it (ask the authorization server for a token with it)' : 'this key lacks it (anvil keys create --scopes ... grants it)'}`,
    data: { code: ErrorCodes.FORBIDDEN, error: 'insufficient_scope', scopes },
  };
  const ids = requestIds(await requestBody());
  const replies = ids.length === 0 ? [{ jsonrpc: '2.0', id: null, error }] : ids.map((id) => ({ jsonrpc: '2.0', id, error }));
  const body = replies.length === 1 ? replies[0] : replies;
  return Response.json(body, { status: 403, headers: { 'www-authenticate': challenge } });
}
