/**
 * Anvil as an OAuth 2.1 resource server: JWT access tokens from the configured authorization server
 * are verified against its JWKS (signature, algorithm allowlist, `iss`, `exp`/`nbf`, and `aud` bound
 * to this server's resource URL as RFC 8707 asks), their scopes mapped to Anvil scopes and a claim
 * mapped to the project. The tenant comes from the signed token only, never from a request header.
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { OAuthConfig } from '../config/schema.ts';
import { loadSql } from '../db/sql.ts';
import type { Storage } from '../db/storage.ts';
import { AnvilError, ErrorCodes, errorMessage } from '../errors.ts';
import { validateProjectId } from './keys.ts';
import type { Principal } from './principal.ts';
import { actionScopes, operatorScopes } from './scopes.ts';

const ensureProjectSql = loadSql(import.meta.url, './sql/ensure-project.sql');

/** An Anvil scope a token scope may grant by itself when no scope map is configured. */
const ownScope = /^[a-z][a-z0-9_-]{0,39}:(read|write|admin)$/;

/** RFC 9728 section 3.1: the metadata URL of a resource inserts the well-known path before the resource's path. */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const suffix = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}/.well-known/oauth-protected-resource${suffix}`;
}

/** The RFC 8414 and OpenID discovery documents of an issuer, in the order they are tried. */
export function discoveryUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return [`${url.origin}/.well-known/oauth-authorization-server${path}`, `${url.origin}${path}/.well-known/openid-configuration`];
}

/** The scopes a token carries: OAuth's space-separated `scope`, or `scp` (a list or a string) as some servers send. */
export function tokenScopes(payload: JWTPayload): string[] {
  const raw = payload.scope ?? payload.scp;
  if (typeof raw === 'string') return raw.split(' ').filter((scope) => scope.length > 0);
  if (Array.isArray(raw)) return raw.filter((scope): scope is string => typeof scope === 'string');
  return [];
}

/** Anvil scopes for a token's scopes: through the map when configured, else the token scopes that are Anvil scopes themselves. */
export function mapScopes(scopes: readonly string[], scopeMap: OAuthConfig['scopeMap']): string[] {
  const granted = new Set<string>();
  for (const scope of scopes) {
    if (scopeMap) {
      for (const anvilScope of scopeMap[scope] ?? []) granted.add(anvilScope);
    } else if ((ownScope.test(scope) || actionScopes.includes(scope)) && !operatorScopes.includes(scope)) {
      granted.add(scope);
    }
  }
  return [...granted];
}

/** Why a token was refused: always an ANVIL_E_UNAUTHENTICATED, described for the `WWW-Authenticate` challenge. */
function refused(description: string): AnvilError {
  return new AnvilError(ErrorCodes.UNAUTHENTICATED, description);
}

function describeJoseError(error: unknown, config: OAuthConfig, audience: string): string {
  if (error instanceof joseErrors.JWTExpired) return 'The access token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return `The access token was not issued by ${config.issuer}`;
    if (error.claim === 'aud') return `The access token is not meant for this resource (its audience must be ${audience})`;
    if (error.claim === 'nbf') return 'The access token is not valid yet';
    return `The access token's ${error.claim} claim is not valid: ${error.reason}`;
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'The access token signature is not valid';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return "No key of the issuer's JWKS verifies the access token";
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return `The access token is signed with an algorithm this server does not accept (accepted: ${config.algorithms.join(', ')})`;
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) return 'The access token is not a well-formed JWT';
  return `The access token could not be verified: ${errorMessage(error)}`;
}

/**
 * Verifies bearer JWTs for one configured authorization server. The JWKS is fetched on first use
 * (discovered from the issuer's metadata when `jwksUri` is unset) and refetched by jose when a token
 * names a key it has not seen (key rotation), at most once every 30 seconds.
 */
export class OAuthVerifier {
  readonly metadataUrl: string;
  private readonly audience: string;
  private jwks: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  private readonly knownProjects = new Set<string>();

  constructor(
    readonly config: OAuthConfig,
    private readonly storage: Storage,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.metadataUrl = protectedResourceMetadataUrl(config.resource);
    this.audience = config.audience ?? config.resource;
  }

  /** The RFC 9728 Protected Resource Metadata document. */
  metadata(scopesSupported: readonly string[]): Record<string, unknown> {
    return {
      resource: this.config.resource,
      authorization_servers: [this.config.issuer],
      scopes_supported: [...scopesSupported],
      bearer_methods_supported: ['header'],
      resource_signing_alg_values_supported: [...this.config.algorithms],
      resource_name: this.config.resourceName,
    };
  }

  /** The token scopes a client may ask for: the map's keys, or (without a map) the Anvil scopes the tools require. */
  scopesSupported(toolScopes: Iterable<string>): string[] {
    const scopes = this.config.scopeMap ? Object.keys(this.config.scopeMap) : [...toolScopes].filter((scope) => mapScopes([scope], undefined).length > 0);
    return [...new Set(scopes)].sort();
  }

  private keySet(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    this.jwks ??= this.resolveJwksUri().then(
      (uri) => createRemoteJWKSet(new URL(uri), { cooldownDuration: 30_000, timeoutDuration: 5_000 }),
      (error: unknown) => {
        // A failed discovery is retried on the next request rather than remembered.
        this.jwks = undefined;
        throw error;
      },
    );
    return this.jwks;
  }

  private async resolveJwksUri(): Promise<string> {
    if (this.config.jwksUri) return this.config.jwksUri;
    const failures: string[] = [];
    for (const url of discoveryUrls(this.config.issuer)) {
      try {
        const response = await this.fetchImpl(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5_000) });
        if (!response.ok) {
          failures.push(`${url}: HTTP ${response.status}`);
          continue;
        }
        const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
        // RFC 8414 section 3.3: the document must name the issuer it was fetched for.
        if (document.issuer !== this.config.issuer) {
          failures.push(`${url}: names issuer ${JSON.stringify(document.issuer)}`);
          continue;
        }
        if (typeof document.jwks_uri === 'string') return document.jwks_uri;
        failures.push(`${url}: no jwks_uri`);
      } catch (error) {
        failures.push(`${url}: ${errorMessage(error)}`);
      }
    }
    throw new AnvilError(ErrorCodes.UPSTREAM_FAILED, `Cannot discover the JWKS of ${this.config.issuer} (${failures.join('; ')}); set auth.oauth.jwksUri or check the issuer`);
  }

  /** The principal of a verified access token, or ANVIL_E_UNAUTHENTICATED saying why not (ANVIL_E_UPSTREAM_FAILED when the issuer cannot be reached). */
  async verify(token: string): Promise<Principal> {
    const keys = await this.keySet();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.config.issuer,
        audience: this.audience,
        algorithms: [...this.config.algorithms],
        clockTolerance: this.config.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWKSTimeout || (error instanceof joseErrors.JOSEError && error.code === 'ERR_JWKS_INVALID')) {
        throw new AnvilError(ErrorCodes.UPSTREAM_FAILED, `Cannot read the JWKS of ${this.config.issuer}: ${errorMessage(error)}`);
      }
      throw refused(describeJoseError(error, this.config, this.audience));
    }
    const claim = payload[this.config.projectClaim];
    if (typeof claim !== 'string' || claim.length === 0) {
      throw refused(`The access token has no "${this.config.projectClaim}" claim naming its Anvil project; configure the authorization server to add it`);
    }
    let project: string;
    try {
      project = validateProjectId(claim, this.config.projectClaim);
    } catch (error) {
      throw refused(`The access token's ${errorMessage(error)}`);
    }
    await this.ensureProject(project);
    const subject = String(payload.sub).slice(0, 200);
    return { id: `oauth:${subject}`, kind: 'oauth', project, scopes: mapScopes(tokenScopes(payload), this.config.scopeMap) };
  }

  /** The authorization server is trusted to name projects: the first token for one creates it (as `anvil keys create` does). */
  private async ensureProject(project: string): Promise<void> {
    if (this.knownProjects.has(project)) return;
    await this.storage.query(ensureProjectSql, [project]);
    this.knownProjects.add(project);
  }
}
