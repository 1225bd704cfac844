/**
 * `anvil doctor`'s OAuth checks, when `auth.oauth` is configured: the resource URL clients are told
 * to ask tokens for, the authorization server's metadata (RFC 8414, else OpenID discovery) naming
 * the configured issuer, and its JWKS holding a key this server accepts. The same discovery the
 * verifier does at the first token (server/auth/oauth.ts), done ahead so that a typo in the issuer
 * shows at install time rather than as every remote assistant's 401.
 */
import type { OAuthConfig } from '../../config/schema.ts';
import { discoveryUrls, protectedResourceMetadataUrl } from '../../auth/oauth.ts';
import { errorMessage } from '../../errors.ts';
import { isLoopbackHost } from '../../http/env.ts';

export interface OAuthCheck {
  name: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  message: string;
}

const TIMEOUT_MS = 5_000;

/** Key types that can carry each accepted JWS algorithm. */
const KTY_OF: Record<string, string> = { RS: 'RSA', PS: 'RSA', ES: 'EC', Ed: 'OKP' };

async function getJson(url: string, fetchImpl: typeof fetch): Promise<{ ok: true; body: Record<string, unknown> } | { ok: false; why: string }> {
  try {
    const response = await fetchImpl(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' });
    if (!response.ok) return { ok: false, why: `HTTP ${response.status}` };
    const body: unknown = await response.json();
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, why: 'not a JSON object' };
    return { ok: true, body: body as Record<string, unknown> };
  } catch (error) {
    return { ok: false, why: errorMessage(error) };
  }
}

function checkResource(config: OAuthConfig): OAuthCheck {
  const url = new URL(config.resource);
  const where = `${config.resource} (metadata at ${protectedResourceMetadataUrl(config.resource)})`;
  if (url.protocol !== 'https:' && !isLoopbackHost(url.hostname.replace(/^\[|\]$/g, ''))) {
    return { name: 'oauth resource', status: 'warn', message: `${where} is plain http on a non-loopback host; hosted assistants require https` };
  }
  const audience = config.audience && config.audience !== config.resource ? `; tokens must carry aud ${config.audience}` : '';
  return { name: 'oauth resource', status: 'ok', message: `${where}${audience}` };
}

/** The OAuth checks, in order: resource, issuer metadata, JWKS. Never throws. */
export async function checkOAuth(config: OAuthConfig | undefined, fetchImpl: typeof fetch = fetch): Promise<OAuthCheck[]> {
  if (!config) return [{ name: 'oauth', status: 'skip', message: 'auth.oauth is not configured; remote clients sign in with API keys' }];
  const checks: OAuthCheck[] = [checkResource(config)];

  let jwksUri = config.jwksUri;
  const failures: string[] = [];
  let metadata: Record<string, unknown> | undefined;
  let metadataUrl = '';
  for (const url of discoveryUrls(config.issuer)) {
    const answer = await getJson(url, fetchImpl);
    if (!answer.ok) {
      failures.push(`${url}: ${answer.why}`);
      continue;
    }
    // RFC 8414 section 3.3: a document naming another issuer must not be used.
    if (answer.body.issuer !== config.issuer) {
      failures.push(`${url}: names issuer ${JSON.stringify(answer.body.issuer)}, not ${config.issuer}`);
      continue;
    }
    metadata = answer.body;
    metadataUrl = url;
    break;
  }
  if (!metadata) {
    checks.push({ name: 'oauth issuer', status: 'fail', message: `no metadata for issuer ${config.issuer} (${failures.join('; ')}); check auth.oauth.issuer and that the authorization server is reachable from here` });
  } else {
    const notes: string[] = [];
    const pkce = metadata.code_challenge_methods_supported;
    if (!Array.isArray(pkce) || !pkce.includes('S256')) notes.push('no S256 in code_challenge_methods_supported: MCP clients need PKCE with S256');
    if (typeof metadata.registration_endpoint !== 'string') notes.push('no registration_endpoint: each assistant must be registered by hand');
    const message = `${metadataUrl} names the issuer${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`;
    checks.push({ name: 'oauth issuer', status: notes.length > 0 ? 'warn' : 'ok', message });
    if (!jwksUri && typeof metadata.jwks_uri === 'string') jwksUri = metadata.jwks_uri;
  }

  if (!jwksUri) {
    checks.push({ name: 'oauth jwks', status: metadata ? 'fail' : 'skip', message: metadata ? `the issuer's metadata has no jwks_uri; set auth.oauth.jwksUri` : 'no jwks_uri without the issuer metadata' });
    return checks;
  }
  const jwks = await getJson(jwksUri, fetchImpl);
  if (!jwks.ok) {
    checks.push({ name: 'oauth jwks', status: 'fail', message: `cannot fetch ${jwksUri}: ${jwks.why}` });
    return checks;
  }
  const keys = Array.isArray(jwks.body.keys) ? (jwks.body.keys as Array<Record<string, unknown>>) : [];
  const usable = keys.filter((key) => {
    if (key.use !== undefined && key.use !== 'sig') return false;
    if (typeof key.alg === 'string') return (config.algorithms as readonly string[]).includes(key.alg);
    return config.algorithms.some((alg) => KTY_OF[alg.slice(0, 2)] === key.kty);
  });
  checks.push(
    usable.length > 0
      ? { name: 'oauth jwks', status: 'ok', message: `${jwksUri}: ${usable.length} signing key${usable.length === 1 ? '' : 's'} for ${config.algorithms.join(', ')}` }
      : { name: 'oauth jwks', status: 'fail', message: `${jwksUri} holds ${keys.length} key${keys.length === 1 ? '' : 's'}, none for ${config.algorithms.join(', ')}; set auth.oauth.algorithms or check the issuer` },
  );
  return checks;
}
