/** `auth.oauth`: parsed once from env or file with its defaults and errors, and the scope mapping rules. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { mapScopes, protectedResourceMetadataUrl, tokenScopes } from '../../server/auth/oauth.ts';
import { loadConfig } from '../../server/config/load.ts';
import { ErrorCodes, isAnvilError } from '../../server/errors.ts';

const home = mkdtempSync(path.join(os.tmpdir(), 'anv-oauth-cfg-'));
after(() => rmSync(home, { recursive: true, force: true }));

function configError(env: Record<string, string>, inline?: Record<string, unknown>): string {
  try {
    loadConfig({ env, cwd: home, overrides: inline ? { inline } : {} });
  } catch (error) {
    assert.ok(isAnvilError(error, ErrorCodes.CONFIG_INVALID), String(error));
    return error.message;
  }
  assert.fail('expected a configuration error');
}

describe('auth.oauth config', () => {
  it('is off by default and on from the ANVIL_OAUTH_* variables, with its defaults', () => {
    assert.equal(loadConfig({ env: {}, cwd: home }).config.auth.oauth, undefined);
    const { config, sources } = loadConfig({
      env: { ANVIL_OAUTH_RESOURCE: 'https://anvil.example.com/mcp', ANVIL_OAUTH_ISSUER: 'https://login.example.com/realms/ml', ANVIL_OAUTH_ALGORITHMS: 'ES256,EdDSA' },
      cwd: home,
    });
    assert.deepEqual(config.auth.oauth, {
      resource: 'https://anvil.example.com/mcp',
      issuer: 'https://login.example.com/realms/ml',
      algorithms: ['ES256', 'EdDSA'],
      clockToleranceSeconds: 5,
      projectClaim: 'anvil_project',
      resourceName: 'Anvil',
    });
    assert.equal(sources['auth.oauth.issuer'], 'env ANVIL_OAUTH_ISSUER');
  });

  it('names what is wrong: a missing issuer, a non-URL, an HMAC algorithm, a scope map to non-scopes', () => {
    assert.match(configError({ ANVIL_OAUTH_RESOURCE: 'https://anvil.example.com/mcp' }), /auth\.oauth\.issuer/);
    assert.match(configError({ ANVIL_OAUTH_RESOURCE: 'anvil.example.com', ANVIL_OAUTH_ISSUER: 'https://i.example.com' }), /auth\.oauth\.resource \(from env ANVIL_OAUTH_RESOURCE\): expected an http/);
    assert.match(configError({ ANVIL_OAUTH_RESOURCE: 'https://a.example.com/mcp', ANVIL_OAUTH_ISSUER: 'https://i.example.com', ANVIL_OAUTH_ALGORITHMS: 'HS256' }), /auth\.oauth\.algorithms/);
    const message = configError({}, { auth: { oauth: { resource: 'https://a.example.com/mcp', issuer: 'https://i.example.com', scopeMap: { anvil: ['everything'] } } } });
    assert.match(message, /auth\.oauth\.scopeMap\.anvil.*expected Anvil scopes/);
  });
});

describe('token scopes', () => {
  it('reads `scope` (space-separated) or `scp` (a list)', () => {
    assert.deepEqual(tokenScopes({ scope: 'jobs:read  training:write' }), ['jobs:read', 'training:write']);
    assert.deepEqual(tokenScopes({ scp: ['jobs:read', 7] }), ['jobs:read']);
    assert.deepEqual(tokenScopes({}), []);
  });

  it('without a map only Anvil scopes grant themselves; * and operator scopes need a map', () => {
    assert.deepEqual(mapScopes(['jobs:read', 'openid', '*', 'workers:join', 'cluster:operate', 'deployments:predict'], undefined), ['jobs:read', 'deployments:predict']);
    assert.deepEqual(mapScopes(['anvil', 'jobs:read'], { anvil: ['*'], ops: ['cluster:observe'] }), ['*']);
  });

  it('places the metadata per RFC 9728 (the well-known path before the resource path)', () => {
    assert.equal(protectedResourceMetadataUrl('https://a.example.com/mcp'), 'https://a.example.com/.well-known/oauth-protected-resource/mcp');
    assert.equal(protectedResourceMetadataUrl('https://a.example.com/'), 'https://a.example.com/.well-known/oauth-protected-resource');
  });
});
