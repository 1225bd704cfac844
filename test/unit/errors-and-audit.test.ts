import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashArguments } from '../../server/audit/audit-log.ts';
import { AnvilError, ErrorCodes, isAnvilError } from '../../server/errors.ts';
import { Lifecycle } from '../../server/lifecycle.ts';

describe('errors', () => {
  it('are matched by code, also across copies of the class', () => {
    const own = new AnvilError(ErrorCodes.NOT_FOUND, 'gone');
    const foreign = Object.assign(new Error('gone'), { code: 'ANVIL_E_NOT_FOUND' });
    assert.equal(isAnvilError(own, ErrorCodes.NOT_FOUND), true);
    assert.equal(isAnvilError(foreign, ErrorCodes.NOT_FOUND), true);
    assert.equal(isAnvilError(foreign, ErrorCodes.CONFLICT), false);
    assert.equal(isAnvilError(Object.assign(new Error('x'), { code: 'ENOENT' })), false);
  });
});

describe('argument hashing for the audit log', () => {
  it('ignores key order and distinguishes values', () => {
    assert.equal(hashArguments({ a: 1, b: { c: 2, d: 3 } }), hashArguments({ b: { d: 3, c: 2 }, a: 1 }));
    assert.notEqual(hashArguments({ a: 1 }), hashArguments({ a: 2 }));
    assert.match(hashArguments(undefined), /^[0-9a-f]{64}$/);
  });

  it('no arguments hash as the canonical `{}`, whichever way they are absent', () => {
    const empty = createHash('sha256').update('{}').digest('hex');
    assert.equal(hashArguments(undefined), empty);
    assert.equal(hashArguments(null), empty);
    assert.equal(hashArguments({}), empty);
    assert.equal(hashArguments(Object.create(null)), empty);
    assert.notEqual(hashArguments({ a: undefined, b: 1 }), empty);
    assert.notEqual(hashArguments([]), empty);
  });
});

describe('lifecycle', () => {
  it('waits for in-flight work, then refuses new work', async () => {
    const lifecycle = new Lifecycle();
    const leave = lifecycle.enter();
    const drained = lifecycle.drain(1_000);
    assert.throws(() => lifecycle.enter(), (error: unknown) => isAnvilError(error, ErrorCodes.SHUTTING_DOWN));
    setTimeout(leave, 20);
    assert.equal(await drained, true);
    assert.equal(lifecycle.signal.aborted, false);
  });

  it('aborts what is left after the grace period', async () => {
    const lifecycle = new Lifecycle();
    lifecycle.enter();
    assert.equal(await lifecycle.drain(30), false);
    assert.equal(lifecycle.signal.aborted, true);
  });
});
