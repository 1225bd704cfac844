/**
 * A real OAuth 2.1 / OpenID authorization server for tests: `oidc-provider` on a loopback port,
 * issuing JWT access tokens (RFC 9068) through the client_credentials grant for any resource
 * indicator (RFC 8707) asked for, with the project claim Anvil maps to its tenant.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type ProviderClient } from 'oidc-provider';

export interface TestClient {
  id: string;
  secret: string;
  /** The scopes it may be granted. */
  scope: string;
  /** Its `anvil_project` claim; absent: the token carries none. */
  project?: string;
  /** Access token lifetime in seconds (default 300). */
  ttlSeconds?: number;
}

export interface TestAuthServer {
  readonly issuer: string;
  readonly tokenEndpoint: string;
  /** A client_credentials token for `resource`, straight from the token endpoint. */
  token(client: TestClient, resource: string, scope?: string): Promise<string>;
  close(): Promise<void>;
}

/** One signing key, shared by providers that must verify alike (the wrong-issuer case). */
export async function signingKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

export interface AuthServerOptions {
  clients: TestClient[];
  key: JWK;
  /** Extra scopes it grants beyond the clients' (e.g. what dynamically registered clients ask for). */
  scopes?: string[];
  /**
   * The authorization-code flow as hosted assistants use it: dynamic client registration (RFC 7591,
   * open), PKCE (S256; the provider requires it of public clients), and oidc-provider's development
   * login and consent pages (any login name, no password check). `accounts` maps a login name to
   * the project claim its tokens carry.
   */
  interactive?: { accounts: Record<string, string> };
}

export async function startAuthServer(options: AuthServerOptions): Promise<TestAuthServer> {
  // The provider needs its issuer URL, which needs the port: listen first, route to it once made.
  const route: { handler?: RequestListener } = {};
  const server = createServer((request, response) => route.handler?.(request, response));
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;
  const byId = new Map(options.clients.map((client) => [client.id, client]));
  const scopes = [...new Set([...options.clients.flatMap((client) => client.scope.split(' ')), ...(options.scopes ?? [])])];
  const accounts = options.interactive?.accounts ?? {};
  const provider = new Provider(issuer, {
    clients: options.clients.map((client) => ({
      client_id: client.id,
      client_secret: client.secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: client.scope,
    })),
    jwks: { keys: [options.key] },
    scopes,
    features: {
      devInteractions: { enabled: options.interactive !== undefined },
      registration: { enabled: options.interactive !== undefined },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string, client: ProviderClient) => ({
          scope: scopes.join(' '),
          audience: resource,
          accessTokenFormat: 'jwt',
          accessTokenTTL: byId.get(client.clientId)?.ttlSeconds ?? 300,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    extraTokenClaims: (_ctx: unknown, token: { clientId?: string; accountId?: string }) => {
      // A user's token (authorization code) carries its account's project; a client's token, the client's.
      const project = token.accountId !== undefined ? accounts[token.accountId] : token.clientId === undefined ? undefined : byId.get(token.clientId)?.project;
      return project === undefined ? {} : { anvil_project: project };
    },
  });
  route.handler = provider.callback();
  const tokenEndpoint = `${issuer}/token`;
  return {
    issuer,
    tokenEndpoint,
    async token(client, resource, scope = client.scope) {
      const response = await fetch(tokenEndpoint, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }).toString(),
      });
      const body = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
      if (!response.ok || !body.access_token) throw new Error(`token request failed: ${response.status} ${JSON.stringify(body)}`);
      return body.access_token;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
