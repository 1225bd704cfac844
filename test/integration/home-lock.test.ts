/**
 * The embedded home lock after a crash: the dead owner's pid may belong to another live process by
 * now. The lock records the owner's start time and boot id, so such a lock is recognised as stale
 * and taken over, while a lock of the very process that wrote it still holds.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { embeddedPaths, openEmbeddedStorage } from '../../server/db/embedded.ts';
import { currentOwner, type LockOwner, ownerAlive, processStartTime } from '../../server/db/home-lock.ts';
import { createPgliteHome, makeShortTempDir } from '../support/backends.ts';

const hasProc = processStartTime(process.pid) !== undefined;

function writeLock(home: string, owner: LockOwner): string {
  const paths = embeddedPaths(home);
  mkdirSync(paths.runDir, { recursive: true });
  writeFileSync(paths.lockPath, JSON.stringify(owner));
  return paths.lockPath;
}

describe('embedded home lock', { skip: hasProc ? undefined : 'skipped: no /proc (start times unavailable)' }, () => {
  /** A live process that is not Anvil: stands in for whatever got the crashed owner's pid. */
  let stranger: ChildProcess;
  let strangerPid: number;
  const cleanups: Array<() => void> = [];

  before(() => {
    stranger = spawn('sleep', ['600'], { stdio: 'ignore' });
    strangerPid = stranger.pid as number;
  });
  after(() => {
    stranger.kill('SIGKILL');
    cleanups.forEach((cleanup) => cleanup());
  });

  it('records pid, role, start time and boot id', () => {
    const owner = currentOwner('server');
    assert.equal(owner.pid, process.pid);
    assert.equal(owner.role, 'server');
    assert.equal(owner.startTime, processStartTime(process.pid));
    assert.match(owner.bootId ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(ownerAlive(owner), true);
  });

  it('a lock whose pid now belongs to another process is stale', () => {
    const real = processStartTime(strangerPid) as number;
    const { bootId } = currentOwner('server');
    assert.equal(ownerAlive({ pid: strangerPid, role: 'server', startTime: real, bootId }), true, 'the same process still owns it');
    assert.equal(ownerAlive({ pid: strangerPid, role: 'server', startTime: real - 1, bootId }), false, 'pid reused by a process that started later');
    assert.equal(ownerAlive({ pid: strangerPid, role: 'server', startTime: real, bootId: '00000000-0000-0000-0000-000000000000' }), false, 'written before a reboot');
  });

  it('a server takes over a home whose lock names a reused pid', async () => {
    const { home, remove } = await createPgliteHome();
    cleanups.push(remove);
    const lockPath = writeLock(home, { ...currentOwner('server'), pid: strangerPid, startTime: (processStartTime(strangerPid) as number) - 1 });
    const storage = await openEmbeddedStorage({ home, role: 'server', waitMs: 2_000 });
    try {
      const owner = JSON.parse(readFileSync(lockPath, 'utf8')) as LockOwner;
      assert.equal(owner.pid, process.pid, 'the lock is ours now');
      const { rows } = await storage.query<{ one: number }>('select 1 as one');
      assert.equal(rows[0]?.one, 1);
    } finally {
      await storage.close();
    }
  });

  it('a lock of a live owner still refuses a second server (ANVIL_E_HOME_LOCKED)', async () => {
    const home = makeShortTempDir('anvlock');
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    writeLock(home, { ...currentOwner('server'), pid: strangerPid, startTime: processStartTime(strangerPid) as number });
    await assert.rejects(openEmbeddedStorage({ home, role: 'server', waitMs: 500 }), (error: unknown) => {
      assert.equal((error as { code?: unknown }).code, 'ANVIL_E_HOME_LOCKED');
      assert.match(String(error), new RegExp(`pid ${strangerPid}`));
      return true;
    });
  });
});
