/**
 * The jobs source of truth: the job store contract on embedded PGlite (always) and on Postgres
 * (DATABASE_URL; with ANVIL_TEST_REQUIRE_SERVICES=1 a missing URL fails instead of skipping), each
 * on a fresh database with the jobs migrations applied in `plugin_jobs` the way the host applies
 * them; plus the state machine and input helpers on their own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { migratePlugin, scopedSql } from '../../plugins/host/scoped.ts';
import type { Storage } from '../../server/db/storage.ts';
import { resourceClassOf } from '../../tools/jobs/resources.ts';
import { canTransition, isTerminal, JOB_STATES, TRANSITIONS } from '../../tools/jobs/states.ts';
import { JobStore, jobsMigrations } from '../../tools/jobs/store.ts';
import { cutUtf8, decodeCursor, encodeCursor, parseResources } from '../../tools/jobs/validate.ts';
import { pgliteStorage, postgresStorage, type StorageFactory } from '../support/backends.ts';
import { type JobBackend, type JobBackendFactory, jobStoreContract } from './store.contract.ts';

const PLUGIN_ID = 'jobs';

/** Runs the plugin's migrations the way the host does. */
function migrate(storage: Storage): Promise<void> {
  return migratePlugin(storage, PLUGIN_ID, [jobsMigrations]);
}

function sqlBackend(storageFactory: StorageFactory): JobBackendFactory {
  return {
    name: storageFactory.name,
    skip: storageFactory.skip,
    async setup(): Promise<JobBackend> {
      const fixture = await storageFactory.open();
      try {
        await migrate(fixture.value);
      } catch (error) {
        await fixture.cleanup();
        throw error;
      }
      const sql = scopedSql(fixture.value, PLUGIN_ID, true);
      return {
        store: new JobStore(sql),
        sql,
        open: async () => new JobStore(scopedSql(await fixture.peer(), PLUGIN_ID, true)),
        cleanup: () => fixture.cleanup(),
      };
    },
  };
}

for (const factory of [pgliteStorage, postgresStorage]) jobStoreContract(sqlBackend(factory));

describe('jobs: the state machine and input helpers', () => {
  it('allows exactly the documented transitions; terminal states have no way out', () => {
    const allowed = JOB_STATES.flatMap((from) => JOB_STATES.filter((to) => canTransition(from, to)).map((to) => `${from}→${to}`));
    assert.deepEqual(allowed, [
      'queued→running',
      'queued→failed',
      'queued→cancelled',
      'running→queued',
      'running→succeeded',
      'running→failed',
      'running→cancelled',
    ]);
    for (const state of JOB_STATES) assert.equal(isTerminal(state), TRANSITIONS[state].length === 0, state);
  });

  it('normalizes resources and derives the resource class', () => {
    assert.equal(resourceClassOf(parseResources(undefined)), 'cpu');
    assert.equal(resourceClassOf(parseResources({ gpus: 1 })), 'gpu-any');
    assert.equal(resourceClassOf(parseResources({ gpus: 4, gpuType: 'H100' })), 'gpu-h100');
    assert.deepEqual(parseResources({ gpus: 1, minVramGb: 24 }), { gpus: 1, minVramGb: 24, cpus: 1, memoryGb: 1 });
    assert.throws(() => parseResources({ gpus: 1, gpuType: 'a100; drop table' }), /resources\.gpuType/);
    assert.throws(() => parseResources({ gpus: 1, tpus: 2 } as never), /resources/);
  });

  it('cuts UTF-8 on character boundaries and round-trips cursors', () => {
    assert.equal(cutUtf8('héllo', 2), 'h');
    assert.equal(cutUtf8('héllo', 3), 'hé');
    assert.equal(cutUtf8('😀x', 3), '');
    assert.equal(cutUtf8('abc', 10), 'abc');
    assert.equal(decodeCursor(encodeCursor(12_345)), 12_345);
    assert.throws(() => decodeCursor(Buffer.from('jobs1:-4').toString('base64url')), /cursor/);
  });
});
