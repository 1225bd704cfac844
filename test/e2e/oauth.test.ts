/**
 * Anvil as an OAuth 2.1 resource server, against a real authorization server (`oidc-provider`,
 * client_credentials, JWT access tokens for a resource indicator) and the 1.x SDK client's own
 * OAuth flow (401 → Protected Resource Metadata → AS metadata → token with `resource` → retry).
 * Hostile cases: no token, expired, another audience, another issuer signing with the same key,
 * a tampered payload, `alg: none`, no project claim, a scope too few, a header naming another project.
 * API keys keep working on the same server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { definePlugin, z } from 'anvil/plugin';
import type { TestHost } from 'anvil/testing';
import { isRecord, postMcp } from '../support/anvil-process.ts';
import { signingKey, startAuthServer, type TestAuthServer, type TestClient } from '../support/oidc.ts';
import { serveTestHost, type ServedHost } from '../support/served-host.ts';

const probe = definePlugin({
  id: 'probe',
  version: '1.0.0',
  register(ctx) {
    ctx.tool({
      name: 'read',
      description: 'Says who called and in which project',
      input: z.object({}).strict(),
      output: z.object({ principal: z.string(), project: z.string() }),
      annotations: { readOnlyHint: true, idempotentHint: true },
      scopes: ['probe:read'],
      handler: async (_input, { principal, project }) => ({ principal: principal.id, project }),
    });
    ctx.tool({
      name: 'write',
      description: 'Needs a write scope',
      input: z.object({}).strict(),
      output: z.object({ wrote: z.boolean() }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
      scopes: ['probe:write'],
      handler: async () => ({ wrote: true }),
    });
  },
});

const alpha: TestClient = { id: 'alpha-assistant', secret: 'alpha-secret-0123456789', scope: 'probe:read probe:write', project: 'alpha' };
const reader: TestClient = { id: 'alpha-reader', secret: 'reader-secret-0123456789', scope: 'probe:read', project: 'alpha' };
const beta: TestClient = { id: 'beta-assistant', secret: 'beta-secret-0123456789', scope: 'probe:read', project: 'beta' };
const noProject: TestClient = { id: 'nameless', secret: 'nameless-secret-0123456789', scope: 'probe:read' };
const shortLived: TestClient = { id: 'short-lived', secret: 'short-secret-0123456789', scope: 'probe:read', project: 'alpha', ttlSeconds: 1 };

let authServer: TestAuthServer;
let otherIssuer: TestAuthServer;
let served: ServedHost;
let host: TestHost;
let resource: string;
let metadataUrl: string;

const call = (name: string, id = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function challengeOf(headers: Headers): string {
  const challenge = headers.get('www-authenticate');
  assert.ok(challenge, 'expected a WWW-Authenticate challenge');
  return challenge;
}

async function refusedWith(token: string, described: RegExp): Promise<void> {
  const response = await postMcp(resource, call('probe_read'), bearer(token));
  assert.equal(response.status, 401, response.body);
  const challenge = challengeOf(response.headers);
  assert.match(challenge, /error="invalid_token"/);
  assert.ok(challenge.includes(`resource_metadata="${metadataUrl}"`), challenge);
  assert.match(challenge, described);
  assert.match(response.body, /ANVIL_E_UNAUTHENTICATED/);
}

describe('OAuth resource server', () => {
  before(async () => {
    const key = await signingKey();
    authServer = await startAuthServer({ clients: [alpha, reader, beta, noProject, shortLived], key });
    // Another issuer signing with the very same key: only the `iss` check tells its tokens apart.
    otherIssuer = await startAuthServer({ clients: [alpha], key });

    served = await serveTestHost(({ resource }) => ({
      plugins: [probe],
      config: { auth: { oauth: { resource, issuer: authServer.issuer, clockToleranceSeconds: 0 } } },
    }));
    ({ host, resource } = served);
    metadataUrl = `${served.origin}/.well-known/oauth-protected-resource/mcp`;
  });

  after(async () => {
    await served?.close();
    await authServer?.close();
    await otherIssuer?.close();
  });

  test('the Protected Resource Metadata names this resource, the issuer and the scopes', async () => {
    for (const url of [metadataUrl, new URL('/.well-known/oauth-protected-resource', resource).href]) {
      const response = await fetch(url);
      assert.equal(response.status, 200, url);
      const document = (await response.json()) as Record<string, unknown>;
      assert.equal(document.resource, resource);
      assert.deepEqual(document.authorization_servers, [authServer.issuer]);
      assert.ok(Array.isArray(document.scopes_supported) && document.scopes_supported.includes('probe:read') && document.scopes_supported.includes('probe:write'), JSON.stringify(document));
      assert.deepEqual(document.bearer_methods_supported, ['header']);
    }
  });

  test('no credential: 401 with a challenge pointing at the metadata', async () => {
    const response = await postMcp(resource, call('probe_read'));
    assert.equal(response.status, 401);
    const challenge = challengeOf(response.headers);
    assert.match(challenge, /^Bearer /);
    assert.ok(challenge.includes(`resource_metadata="${metadataUrl}"`), challenge);
  });

  test("the 1.x SDK client's OAuth flow gets a token by itself and calls a tool in the token's project", async () => {
    const provider = new ClientCredentialsProvider({ clientId: alpha.id, clientSecret: alpha.secret, scope: alpha.scope, expectedIssuer: authServer.issuer });
    const client = new Client({ name: 'oauth-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(resource), { authProvider: provider }));
    try {
      const token = provider.tokens()?.access_token;
      assert.ok(token, 'the SDK obtained an access token');
      const [, payload] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString()) as Record<string, unknown>;
      assert.equal(claims.aud, resource, 'the token is bound to this resource (RFC 8707)');
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      assert.ok(names.includes('probe_read') && names.includes('probe_write'));
      const result = await client.callTool({ name: 'probe_read', arguments: {} });
      assert.notEqual(result.isError, true, JSON.stringify(result));
      assert.deepEqual(result.structuredContent, { principal: `oauth:${alpha.id}`, project: 'alpha' });
      const whoami = await client.callTool({ name: 'anvil_whoami', arguments: {} });
      assert.ok(isRecord(whoami.structuredContent));
      assert.equal(whoami.structuredContent.kind, 'oauth');
      assert.deepEqual(whoami.structuredContent.scopes, ['probe:read', 'probe:write']);
    } finally {
      await client.close();
    }
  });

  test('an expired token is refused', async () => {
    const token = await authServer.token(shortLived, resource);
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    await refusedWith(token, /expired/);
  });

  test('a token for another resource (audience) is refused', async () => {
    await refusedWith(await authServer.token(alpha, 'https://other.example.com/mcp'), /audience must be/);
  });

  test('a token of another issuer is refused even when its key verifies', async () => {
    await refusedWith(await otherIssuer.token(alpha, resource), /not issued by/);
  });

  test('a tampered payload (another project) fails the signature', async () => {
    const [header, payload, signature] = (await authServer.token(beta, resource)).split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, anvil_project: 'alpha' })).toString('base64url');
    await refusedWith(`${header}.${forged}.${signature}`, /signature is not valid/);
  });

  test('an unsigned token (alg none) is refused', async () => {
    const claims = { iss: authServer.issuer, aud: resource, sub: 'mallory', exp: Math.floor(Date.now() / 1000) + 300, anvil_project: 'alpha', scope: 'probe:read' };
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    const response = await postMcp(resource, call('probe_read'), bearer(unsigned));
    assert.equal(response.status, 401, response.body);
    assert.match(challengeOf(response.headers), /invalid_token/);
  });

  test('a token without the project claim is refused, saying which claim', async () => {
    await refusedWith(await authServer.token(noProject, resource), /anvil_project/);
  });

  test('a scope too few: 403 insufficient_scope naming it, answered as a JSON-RPC error', async () => {
    const token = await authServer.token(reader, resource);
    const allowed = await postMcp(resource, call('probe_read'), bearer(token));
    assert.equal(allowed.status, 200, allowed.body);
    const response = await postMcp(resource, call('probe_write', 7), bearer(token));
    assert.equal(response.status, 403, response.body);
    const challenge = challengeOf(response.headers);
    assert.match(challenge, /error="insufficient_scope"/);
    assert.match(challenge, /scope="probe:write"/);
    assert.ok(challenge.includes(`resource_metadata="${metadataUrl}"`), challenge);
    const body = JSON.parse(response.body) as { id: unknown; error: { message: string; data: { error: string } } };
    assert.equal(body.id, 7);
    assert.equal(body.error.data.error, 'insufficient_scope');
    assert.match(body.error.message, /ANVIL_E_FORBIDDEN.*access token lacks it/);
  });

  test("the token's project decides; a header naming another project is refused", async () => {
    const token = await authServer.token(beta, resource);
    const own = await postMcp(resource, call('probe_read'), bearer(token));
    assert.equal(own.status, 200, own.body);
    const message = own.messages[0];
    assert.ok(isRecord(message) && isRecord(message.result));
    assert.deepEqual(message.result.structuredContent, { principal: `oauth:${beta.id}`, project: 'beta' });
    const crossed = await postMcp(resource, call('probe_read'), { ...bearer(token), 'x-anvil-project': 'alpha' });
    assert.equal(crossed.status, 403);
    assert.match(crossed.body, /belongs to project \\"beta\\", not \\"alpha\\"/);
  });

  test('API keys keep working beside OAuth', async () => {
    const response = await host.request('/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(call('probe_read')),
      as: { project: 'gamma', scopes: ['probe:read'] },
    });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /"project":"gamma"/);
    const wrongKey = await postMcp(resource, call('probe_read'), bearer('anv_000000000000_0000000000000000000000000000000000000000000'));
    assert.equal(wrongKey.status, 401);
    assert.match(challengeOf(wrongKey.headers), /resource_metadata=/);
  });
});
