import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasScope, missingScopes, parseScopes } from '../../server/auth/scopes.ts';
import { ErrorCodes, isAnvilError } from '../../server/errors.ts';

describe('scopes', () => {
  it('nests levels within an area and lets * cover everything', () => {
    assert.equal(hasScope(['training:admin'], 'training:write'), true);
    assert.equal(hasScope(['training:write'], 'training:read'), true);
    assert.equal(hasScope(['training:read'], 'training:write'), false);
    assert.equal(hasScope(['training:admin'], 'payment:read'), false);
    assert.equal(hasScope(['*'], 'payment:admin'), true);
    // The operator scope to join as a worker is granted by name only, never by a project's *.
    assert.equal(hasScope(['*'], 'workers:join'), false);
    assert.equal(hasScope(['workers:join'], 'workers:join'), true);
    assert.equal(hasScope(['workers:admin'], 'workers:join'), true);
    assert.equal(hasScope(['workers:join'], 'workers:read'), false);
    // deployments:predict is an action scope an application key gets alone; `*` covers it.
    assert.equal(hasScope(['*'], 'deployments:predict'), true);
    assert.equal(hasScope(['deployments:admin'], 'deployments:predict'), true);
    assert.equal(hasScope(['deployments:predict'], 'deployments:predict'), true);
    assert.equal(hasScope(['deployments:predict'], 'deployments:read'), false);
    assert.equal(hasScope(['deployments:write'], 'deployments:predict'), false);
    assert.deepEqual(parseScopes('deployments:predict'), ['deployments:predict']);
    assert.deepEqual(parseScopes('workers:join,jobs:read'), ['workers:join', 'jobs:read']);
    // So are the operator's settings and cluster-wide reads; operate includes observe.
    for (const scope of ['cluster:operate', 'cluster:observe']) {
      assert.equal(hasScope(['*'], scope), false, scope);
      assert.equal(hasScope(['*', 'jobs:admin', 'workers:admin', 'metrics:read'], scope), false, scope);
      assert.equal(hasScope(['cluster:admin'], scope), true, scope);
    }
    assert.equal(hasScope(['cluster:operate'], 'cluster:observe'), true);
    assert.equal(hasScope(['cluster:observe'], 'cluster:operate'), false);
    assert.deepEqual(parseScopes('cluster:operate,cluster:observe'), ['cluster:operate', 'cluster:observe']);
    assert.deepEqual(missingScopes(['anvil:read'], ['anvil:read', 'metrics:read']), ['metrics:read']);
  });

  it('parses lists and names what is not a scope', () => {
    assert.deepEqual(parseScopes('anvil:read, training:write,anvil:read'), ['anvil:read', 'training:write']);
    assert.throws(
      () => parseScopes('anvil:read,training:execute,Bad'),
      (error: unknown) => isAnvilError(error, ErrorCodes.INVALID_INPUT) && /"training:execute", "Bad" are not a scope/.test(error.message),
    );
    assert.throws(() => parseScopes(' , '), (error: unknown) => isAnvilError(error, ErrorCodes.INVALID_INPUT));
  });
});
