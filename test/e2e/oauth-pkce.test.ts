/**
 * The sign-in hosted assistants do against a remote MCP server: the 1.x SDK client's
 * authorization-code flow with PKCE, end to end against a real authorization server (oidc-provider,
 * test/support/oidc.ts). The client finds the authorization server through Anvil's Protected
 * Resource Metadata, registers itself (dynamic client registration, RFC 7591, as a public client),
 * sends the person to the authorization URL (S256 code challenge, `resource` = Anvil's URL); here
 * the "person" is this test, following redirects and posting oidc-provider's development login and
 * consent forms. The code comes back to the redirect URI, the SDK exchanges it with its verifier,
 * and the token (audience bound to Anvil, the account's project as claim) calls a tool.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { signingKey, startAuthServer, type TestAuthServer } from '../support/oidc.ts';
import { serveTestHost, type ServedHost } from '../support/served-host.ts';

/** Where the assistant would receive the code; nothing listens: the test reads the redirect's Location. */
const REDIRECT = 'http://127.0.0.1:9/oauth/callback';

/** An assistant's OAuth state, kept in memory (a hosted assistant keeps it per user). */
class AssistantOAuth implements OAuthClientProvider {
  registered: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier: string | undefined;
  authorizationUrl: URL | undefined;

  get redirectUrl(): string {
    return REDIRECT;
  }
  get clientMetadata(): OAuthClientMetadata {
    return { client_name: 'pkce-test-assistant', redirect_uris: [REDIRECT], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.registered;
  }
  saveClientInformation(information: OAuthClientInformationMixed): void {
    this.registered = information;
  }
  tokens(): OAuthTokens | undefined {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }
  codeVerifier(): string {
    if (!this.verifier) throw new Error('no code verifier saved');
    return this.verifier;
  }
}

/**
 * What a person's browser does between the authorization URL and the redirect back: follows
 * redirects with the provider's cookies, fills the login form with `login` and submits the consent
 * form. Returns the authorization code the redirect URI receives.
 */
async function signInAs(authorizationUrl: URL, login: string): Promise<string> {
  const jar = new Map<string, string>();
  let url = authorizationUrl.href;
  let body: string | undefined;
  const visited: string[] = [];
  for (let hop = 0; hop < 20; hop += 1) {
    visited.push(`${body ? 'POST' : 'GET'} ${new URL(url).pathname}`);
    const response = await fetch(url, {
      method: body ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; '), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(body ? { body } : {}),
    });
    for (const cookie of response.headers.getSetCookie()) {
      const pair = cookie.split(';')[0] ?? '';
      const cut = pair.indexOf('=');
      const [name, value] = [pair.slice(0, cut).trim(), pair.slice(cut + 1)];
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(cookie)) jar.delete(name);
      else jar.set(name, value);
    }
    body = undefined;
    const location = response.headers.get('location');
    if (location) {
      const next = new URL(location, url);
      if (next.href.startsWith(REDIRECT)) {
        const code = next.searchParams.get('code');
        assert.ok(code, `the redirect carries no code: ${next.search} (after ${visited.join(' → ')})`);
        return code;
      }
      url = next.href;
      continue;
    }
    const page = await response.text();
    const form = /<form[^>]*>/i.exec(page)?.[0];
    const action = form ? /action="([^"]+)"/i.exec(form)?.[1] : undefined;
    assert.ok(action, `expected a login or consent form at ${url} (HTTP ${response.status}; after ${visited.join(' → ')}): ${page.slice(0, 400)}`);
    const fields = new URLSearchParams();
    for (const input of page.matchAll(/<input[^>]*>/gi)) {
      const name = /name="([^"]+)"/i.exec(input[0])?.[1];
      if (name && /type="hidden"/i.test(input[0])) fields.set(name, /value="([^"]*)"/i.exec(input[0])?.[1] ?? '');
    }
    // The development login page asks for a login name (any) and a password (not checked).
    if (/name="login"/i.test(page)) {
      fields.set('login', login);
      fields.set('password', 'not-checked-by-dev-interactions');
    }
    url = new URL(action.replaceAll('&amp;', '&'), url).href;
    body = fields.toString();
  }
  throw new Error(`no redirect back after ${visited.join(' → ')}`);
}

describe('OAuth authorization code + PKCE with dynamic client registration (1.x SDK client)', () => {
  let authServer: TestAuthServer;
  let served: ServedHost;
  let resource: string;

  before(async () => {
    // Anvil asks for one token scope, `anvil`, which its scope map turns into anvil:read.
    authServer = await startAuthServer({ clients: [], key: await signingKey(), scopes: ['anvil'], interactive: { accounts: { alice: 'alpha' } } });
    served = await serveTestHost(({ resource }) => ({ plugins: [], config: { auth: { oauth: { resource, issuer: authServer.issuer, scopeMap: { anvil: ['anvil:read'] } } } } }));
    resource = served.resource;
  });

  after(async () => {
    await served?.close();
    await authServer?.close();
  });

  test('registers, sends the person to sign in, exchanges the code with its verifier and calls a tool as that person', async () => {
    const oauth = new AssistantOAuth();
    const first = new Client({ name: 'hosted-assistant', version: '1.0.0' });
    // No token yet: the SDK discovers the authorization server, registers and asks for a redirect.
    await assert.rejects(first.connect(new StreamableHTTPClientTransport(new URL(resource), { authProvider: oauth })), UnauthorizedError);
    assert.ok(oauth.registered?.client_id, 'dynamic client registration gave the assistant a client id');
    const authorizationUrl = oauth.authorizationUrl;
    assert.ok(authorizationUrl, 'the SDK asked to send the person to the authorization server');
    assert.equal(authorizationUrl.origin, new URL(authServer.issuer).origin);
    assert.equal(authorizationUrl.searchParams.get('response_type'), 'code');
    assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.match(authorizationUrl.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.equal(authorizationUrl.searchParams.get('resource'), resource);
    assert.equal(authorizationUrl.searchParams.get('scope'), 'anvil');

    const code = await signInAs(authorizationUrl, 'alice');
    const transport = new StreamableHTTPClientTransport(new URL(resource), { authProvider: oauth });
    await transport.finishAuth(code);
    const token = oauth.saved?.access_token;
    assert.ok(token, 'the code was exchanged for an access token');
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    assert.equal(claims.aud, resource, 'the token is bound to Anvil (RFC 8707)');
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.anvil_project, 'alpha');
    assert.equal(claims.client_id, oauth.registered.client_id);

    const client = new Client({ name: 'hosted-assistant', version: '1.0.0' });
    await client.connect(transport);
    try {
      const whoami = await client.callTool({ name: 'anvil_whoami', arguments: {} });
      assert.equal(whoami.isError ?? false, false, JSON.stringify(whoami));
      assert.deepEqual(whoami.structuredContent, { principal: 'oauth:alice', kind: 'oauth', project: 'alpha', scopes: ['anvil:read'] });
    } finally {
      await client.close();
    }

    // The same code again (a replay) is refused by the authorization server: codes are single use.
    const replay = await fetch(`${authServer.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: oauth.registered.client_id, code_verifier: oauth.codeVerifier(), resource }).toString(),
    });
    assert.equal(replay.status, 400);
    assert.equal(((await replay.json()) as { error: string }).error, 'invalid_grant');
  });

  test('a code is refused without the PKCE verifier that matches its challenge', async () => {
    const oauth = new AssistantOAuth();
    await assert.rejects(new Client({ name: 'hosted-assistant', version: '1.0.0' }).connect(new StreamableHTTPClientTransport(new URL(resource), { authProvider: oauth })), UnauthorizedError);
    assert.ok(oauth.authorizationUrl && oauth.registered);
    const code = await signInAs(oauth.authorizationUrl, 'alice');
    const exchange = await fetch(`${authServer.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: oauth.registered.client_id, code_verifier: 'x'.repeat(43), resource }).toString(),
    });
    assert.equal(exchange.status, 400);
    assert.equal(((await exchange.json()) as { error: string }).error, 'invalid_grant');
  });
});
