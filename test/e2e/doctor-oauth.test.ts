/**
 * `anvil doctor`'s OAuth checks against a real authorization server (oidc-provider,
 * test/support/oidc.ts): the issuer's metadata found and naming the issuer, the JWKS fetched with a
 * key of an accepted algorithm, the resource URL reported; and what goes wrong in practice: a
 * mistyped issuer, a server that is down, algorithms that match no key, no dynamic registration.
 * The last test runs the real CLI with the OAuth settings in anvil.config.json.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { oauthSchema } from '../../server/config/schema.ts';
import { checkOAuth, type OAuthCheck } from '../../server/cli/commands/doctor-oauth.ts';
import { runCli } from '../support/anvil-process.ts';
import { signingKey, startAuthServer, type TestAuthServer } from '../support/oidc.ts';

const RESOURCE = 'http://127.0.0.1:8787/mcp';

const byName = (checks: OAuthCheck[]) => Object.fromEntries(checks.map((check) => [check.name, check]));

describe('anvil doctor: the OAuth issuer', () => {
  let interactive: TestAuthServer;
  let machineOnly: TestAuthServer;
  let home: string;

  before(async () => {
    const key = await signingKey();
    interactive = await startAuthServer({ clients: [], key, scopes: ['anvil'], interactive: { accounts: {} } });
    machineOnly = await startAuthServer({ clients: [{ id: 'robot', secret: 'robot-secret-0123456789', scope: 'anvil' }], key });
    home = mkdtempSync(path.join(os.tmpdir(), 'anvil-doctor-oauth-'));
  });

  after(async () => {
    await interactive?.close();
    await machineOnly?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  test('not configured: one skip line', async () => {
    assert.deepEqual(await checkOAuth(undefined), [{ name: 'oauth', status: 'skip', message: 'auth.oauth is not configured; remote clients sign in with API keys' }]);
  });

  test('a working issuer: resource, metadata (PKCE S256, registration) and JWKS all ok', async () => {
    const checks = byName(await checkOAuth(oauthSchema.parse({ resource: RESOURCE, issuer: interactive.issuer })));
    assert.equal(checks['oauth resource']?.status, 'ok');
    assert.match(checks['oauth resource']?.message ?? '', /http:\/\/127\.0\.0\.1:8787\/mcp \(metadata at http:\/\/127\.0\.0\.1:8787\/\.well-known\/oauth-protected-resource\/mcp\)/);
    assert.equal(checks['oauth issuer']?.status, 'ok', checks['oauth issuer']?.message);
    assert.match(checks['oauth issuer']?.message ?? '', /well-known\/(oauth-authorization-server|openid-configuration) names the issuer/);
    assert.equal(checks['oauth jwks']?.status, 'ok', checks['oauth jwks']?.message);
    assert.match(checks['oauth jwks']?.message ?? '', /1 signing key for RS256/);
  });

  test('no dynamic client registration: a warning saying assistants must be registered by hand', async () => {
    const checks = byName(await checkOAuth(oauthSchema.parse({ resource: RESOURCE, issuer: machineOnly.issuer })));
    assert.equal(checks['oauth issuer']?.status, 'warn');
    assert.match(checks['oauth issuer']?.message ?? '', /no registration_endpoint/);
    assert.equal(checks['oauth jwks']?.status, 'ok');
  });

  test('a mistyped issuer, an issuer that is down, algorithms no key has, a public http resource', async () => {
    const typo = byName(await checkOAuth(oauthSchema.parse({ resource: RESOURCE, issuer: `${interactive.issuer}/tenant` })));
    assert.equal(typo['oauth issuer']?.status, 'fail');
    assert.match(typo['oauth issuer']?.message ?? '', /no metadata for issuer .*\/tenant .*check auth\.oauth\.issuer/);
    assert.equal(typo['oauth jwks']?.status, 'skip');

    const down = byName(await checkOAuth(oauthSchema.parse({ resource: RESOURCE, issuer: 'http://127.0.0.1:9/' })));
    assert.equal(down['oauth issuer']?.status, 'fail');

    const wrongAlgorithms = byName(await checkOAuth(oauthSchema.parse({ resource: RESOURCE, issuer: interactive.issuer, algorithms: ['ES256'] })));
    assert.equal(wrongAlgorithms['oauth jwks']?.status, 'fail');
    assert.match(wrongAlgorithms['oauth jwks']?.message ?? '', /holds 1 key, none for ES256/);

    const missingJwks = byName(await checkOAuth(oauthSchema.parse({ resource: RESOURCE, issuer: interactive.issuer, jwksUri: `${interactive.issuer}/no-such-jwks` })));
    assert.equal(missingJwks['oauth jwks']?.status, 'fail');
    assert.match(missingJwks['oauth jwks']?.message ?? '', /HTTP 404/);

    const publicHttp = byName(await checkOAuth(oauthSchema.parse({ resource: 'http://anvil.example.com/mcp', issuer: interactive.issuer })));
    assert.equal(publicHttp['oauth resource']?.status, 'warn');
  });

  test('`anvil doctor --json` reads auth.oauth from anvil.config.json and reports the three checks', async () => {
    const config = path.join(home, 'anvil.config.json');
    writeFileSync(config, JSON.stringify({ auth: { oauth: { resource: RESOURCE, issuer: interactive.issuer } } }));
    const result = await runCli(['doctor', '--json', '--config', config], { ANVIL_HOME: path.join(home, 'data'), DATABASE_URL: undefined, REDIS_URL: undefined, ANVIL_PORT: '0' });
    const checks = byName(JSON.parse(result.stdout) as OAuthCheck[]);
    assert.equal(checks['oauth resource']?.status, 'ok', result.stdout);
    assert.equal(checks['oauth issuer']?.status, 'ok', result.stdout);
    assert.equal(checks['oauth jwks']?.status, 'ok', result.stdout);
  });
});
