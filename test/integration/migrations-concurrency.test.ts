/**
 * Several control planes starting together against one Postgres (the distributed topology):
 * each migration must be applied by exactly one of them, the others must wait for it and carry
 * on, and nobody may leave the migration lock behind.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { coreMigrations, readMigrationDir, runMigrations, type MigrationSet } from '../../server/db/migrate.ts';
import { openPostgresStorage, type Storage } from '../../server/db/storage.ts';
import { migratePlugin } from '../../plugins/host/scoped.ts';
import { makeShortTempDir, requireService, skipUnless } from '../support/backends.ts';
import { createTempDatabase } from '../support/temp-db.ts';

const tempDirs: string[] = [];

function migrationSet(scope: string, files: Record<string, string>): MigrationSet {
  const parent = makeShortTempDir('anvmig');
  tempDirs.push(parent);
  const dir = path.join(parent, scope);
  mkdirSync(dir);
  for (const [name, sql] of Object.entries(files)) writeFileSync(path.join(dir, name), sql);
  return readMigrationDir(scope, dir);
}

/** Three "servers": three separate pools on the same database, as three processes would have. */
async function withServers<T>(work: (servers: Storage[], url: string) => Promise<T>): Promise<T> {
  const db = await createTempDatabase();
  const servers = [1, 2, 3].map(() => openPostgresStorage(db.url, 3));
  try {
    return await work(servers, db.url);
  } finally {
    await Promise.all(servers.map((server) => server.close()));
    await db.drop();
  }
}

async function advisoryLocksHeld(storage: Storage): Promise<number> {
  const { rows } = await storage.query<{ n: number }>(
    "select count(*)::int as n from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())",
  );
  return rows[0]?.n ?? -1;
}

describe('concurrent migrations on Postgres', { skip: skipUnless('DATABASE_URL') }, () => {
  after(() => {
    for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('three servers starting together apply each migration exactly once (five fresh databases)', async () => {
    requireService('DATABASE_URL');
    const plugin = migrationSet('race_plugin', {
      '0001_items.sql': 'create table public.race_items (id serial primary key, note text not null);',
      '0002_seed.sql': "insert into public.race_items (note) values ('seeded once');",
      '0003_more.sql': 'alter table public.race_items add column created_at timestamptz not null default now();',
    });
    const sets = [coreMigrations(), plugin];
    for (let round = 1; round <= 5; round += 1) {
      await withServers(async (servers) => {
        const reports = await Promise.all(servers.map((server) => runMigrations(server, sets)));
        for (const set of sets) {
          const applied = reports.flatMap((report) => report.find((entry) => entry.scope === set.scope)?.applied ?? []).sort((a, b) => a - b);
          assert.deepEqual(applied, set.migrations.map((migration) => migration.version), `round ${round}, ${set.scope}: each version applied once`);
        }
        const [first] = servers as [Storage];
        const { rows } = await first.query<{ scope: string; n: number }>('select scope, count(*)::int as n from anvil.schema_migrations group by scope order by scope');
        assert.deepEqual(rows, [
          { scope: 'core', n: coreMigrations().migrations.length },
          { scope: 'race_plugin', n: 3 },
        ]);
        const seeded = await first.query<{ n: number }>('select count(*)::int as n from public.race_items');
        assert.equal(seeded.rows[0]?.n, 1, `round ${round}: the seed ran once`);
        assert.equal(await advisoryLocksHeld(first), 0, 'the migration lock was released');
      });
    }
  });

  it('servers that start while a slow migration runs wait for it and then apply nothing', async () => {
    requireService('DATABASE_URL');
    const slow = migrationSet('slow_plugin', {
      '0001_slow.sql': 'create table public.slow_once (id integer); insert into public.slow_once values (1); select pg_sleep(0.4);',
    });
    await withServers(async ([a, b, c]) => {
      assert.ok(a && b && c);
      const started = performance.now();
      const leader = runMigrations(a, [slow]);
      // Start the others only once the leader holds the lock, so they must wait for it.
      for (let tries = 0; (await advisoryLocksHeld(b)) === 0; tries += 1) {
        assert.ok(tries < 200, 'the leader took the migration lock');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const followers = await Promise.all([runMigrations(b, [slow]), runMigrations(c, [slow])]);
      const waited = performance.now() - started;
      assert.deepEqual((await leader)[0]?.applied, [1]);
      assert.deepEqual(followers.map((report) => report[0]?.applied), [[], []]);
      assert.ok(waited >= 350, `the followers waited for the slow migration (${Math.round(waited)} ms)`);
      const { rows } = await a.query<{ n: number }>('select count(*)::int as n from public.slow_once');
      assert.equal(rows[0]?.n, 1);
      assert.equal(await advisoryLocksHeld(a), 0);
    });
  });

  it('plugins migrating their own schema at the same moment on three servers all succeed (the schema is created once)', async () => {
    requireService('DATABASE_URL');
    const parent = makeShortTempDir('anvplug');
    tempDirs.push(parent);
    writeFileSync(path.join(parent, '0001_things.sql'), 'create table {{schema}}.things (id serial primary key);');
    for (let round = 1; round <= 5; round += 1) {
      await withServers(async (servers) => {
        // Many plugins per server, as at a real start: every one races to create its schema.
        const ids = ['racer_a', 'racer_b', 'racer_c', 'racer_d'];
        const outcomes = await Promise.allSettled(servers.flatMap((server) => ids.map((id) => migratePlugin(server, id, [parent]))));
        assert.deepEqual(outcomes.filter((outcome) => outcome.status === 'rejected').map((outcome) => String((outcome as PromiseRejectedResult).reason)), [], `round ${round}`);
        const { rows } = await (servers[0] as Storage).query<{ n: number }>("select count(*)::int as n from anvil.schema_migrations where scope like 'racer_%'");
        assert.equal(rows[0]?.n, ids.length, 'each plugin migration applied once');
      });
    }
  });
});
