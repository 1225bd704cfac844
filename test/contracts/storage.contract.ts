/**
 * The storage contract: what every `Storage` backend (embedded PGlite, Postgres) must do, written
 * once and run against each (see test/integration/storage.test.ts). A new backend passes this
 * suite before anything else relies on it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import { openEmbeddedStorage } from '../../server/db/embedded.ts';
import { coreMigrations, migrationStatus, readMigrationDir, runMigrations, type MigrationReport, type MigrationSet } from '../../server/db/migrate.ts';
import type { SqlClient, Storage } from '../../server/db/storage.ts';
import { ErrorCodes, type ErrorCode } from '../../server/errors.ts';
import { makeShortTempDir, type StorageFactory, useFixturePerTest } from '../support/backends.ts';

/** Rejects with an error carrying `code` (matched by code, never instanceof). */
async function rejectsWithCode(work: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(work, (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, code, `expected ${code}, got: ${String(error)}`);
    return true;
  });
}

const tempDirs: string[] = [];

function migrationDir(files: Record<string, string>): string {
  const parent = makeShortTempDir('anvmig');
  tempDirs.push(parent);
  const dir = path.join(parent, 'migrations');
  mkdirSync(dir);
  for (const [name, sql] of Object.entries(files)) writeFileSync(path.join(dir, name), sql);
  return dir;
}

async function tableExists(storage: Storage, name: string): Promise<boolean> {
  const { rows } = await storage.query<{ present: boolean }>('select to_regclass($1) is not null as present', [name]);
  return rows[0]?.present === true;
}

async function ledger(storage: Storage, scope: string): Promise<number[]> {
  const { rows } = await storage.query<{ version: number }>('select version from anvil.schema_migrations where scope = $1 order by version', [scope]);
  return rows.map((row) => row.version);
}

async function count(storage: Storage, table: string): Promise<number> {
  const { rows } = await storage.query<{ n: number }>(`select count(*)::int as n from ${table}`);
  return rows[0]?.n ?? -1;
}

/** The same, inside a transaction. */
async function countIn(client: SqlClient, table: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from ${table}`);
  return rows[0]?.n ?? -1;
}

/** Resolves when `open` is called, or after `ms` (so a serialising backend cannot deadlock the test). */
function gate(): { open(): void; wait(ms: number): Promise<boolean> } {
  let release: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    open: () => release(),
    wait: async (ms) => {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      });
      try {
        return await Promise.race([opened.then(() => true), timedOut]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

export function storageContract(factory: StorageFactory): void {
  describe(`storage contract: ${factory.name}`, { skip: factory.skip }, () => {
    /** The fixture of the running test (each test gets a fresh one). */
    const fx = useFixturePerTest(factory, () => {
      for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    });

    it('ping answers with the server version', async () => {
      const ping = await fx().value.ping();
      assert.match(ping.serverVersion, /^\d+(\.\d+)?/);
      assert.ok(ping.latencyMs >= 0 && Number.isFinite(ping.latencyMs));
      assert.equal(fx().value.kind, factory.kind);
    });

    it('core migrations create the core schema, and a second run applies nothing', async () => {
      const core = coreMigrations();
      const first = await runMigrations(fx().value, [core]);
      const all = core.migrations.map((migration) => migration.version);
      assert.deepEqual(first, [{ scope: 'core', applied: all, current: all.length, latest: all.length }]);
      for (const table of ['anvil.projects', 'anvil.api_keys', 'anvil.audit_log']) {
        assert.ok(await tableExists(fx().value, table), `${table} exists`);
      }

      const second = await runMigrations(fx().value, [coreMigrations()]);
      assert.deepEqual(second[0]?.applied, []);
      assert.deepEqual(await ledger(fx().value, 'core'), all);
      assert.deepEqual(await migrationStatus(fx().value, [core]), [{ scope: 'core', applied: all, current: all.length, latest: all.length }]);
    });

    it('concurrent runners on separate connections apply each migration exactly once', async () => {
      // Migration 2 inserts a row: applying it twice would leave two.
      const raceDir = migrationDir({
        '0001_table.sql': 'create table public.contract_race (id serial primary key, note text);',
        '0002_row.sql': "insert into public.contract_race (note) values ('once');",
        '0003_index.sql': 'create index contract_race_note_idx on public.contract_race (note);',
      });
      const sets = (): MigrationSet[] => [coreMigrations(), readMigrationDir('contract_race', raceDir)];
      // Three separate Storage instances (three pools / attached processes), plus two more calls
      // sharing the first one's pool.
      const first = fx().value;
      const runners = [first, await fx().peer(), await fx().peer(), first, first];
      const results = await Promise.allSettled(runners.map((storage) => runMigrations(storage, sets())));
      const failures = results.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
      assert.deepEqual(failures, [], 'no runner fails');
      const reports = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));

      for (const set of sets()) {
        const applied = reports
          .flatMap((report: MigrationReport[]) => report.filter((entry) => entry.scope === set.scope))
          .flatMap((entry) => entry.applied)
          .sort((a, b) => a - b);
        const expected = set.migrations.map((migration) => migration.version);
        assert.deepEqual(applied, expected, `${set.scope}: each migration applied by exactly one runner`);
        assert.deepEqual(await ledger(first, set.scope), expected, `${set.scope}: one ledger row per version`);
      }
      assert.equal(await count(first, 'public.contract_race'), 1, 'the data migration ran once');
      assert.ok(await tableExists(first, 'anvil.audit_log'));
    });

    it('refuses to run when an applied migration was changed (ANVIL_E_MIGRATION_CHECKSUM)', async () => {
      const dir = migrationDir({ '0001_first.sql': 'create table public.contract_checked (id integer);' });
      assert.deepEqual((await runMigrations(fx().value, [readMigrationDir('contract_checksum', dir)]))[0]?.applied, [1]);

      writeFileSync(path.join(dir, '0001_first.sql'), 'create table public.contract_checked (id integer, edited text);');
      writeFileSync(path.join(dir, '0002_second.sql'), 'create table public.contract_after_edit (id integer);');
      await rejectsWithCode(runMigrations(fx().value, [readMigrationDir('contract_checksum', dir)]), ErrorCodes.MIGRATION_CHECKSUM);
      assert.deepEqual(await ledger(fx().value, 'contract_checksum'), [1], 'nothing applied after the refusal');
      assert.equal(await tableExists(fx().value, 'public.contract_after_edit'), false);
    });

    it('a failing migration rolls back entirely (ANVIL_E_MIGRATION_FAILED) and can be fixed and rerun', async () => {
      const dir = migrationDir({
        '0001_ok.sql': 'create table public.contract_ok (id integer);',
        '0002_bad.sql': [
          'create table public.contract_partial (id integer);',
          'insert into public.contract_partial values (1);',
          'select 1 / 0;',
        ].join('\n'),
      });
      await rejectsWithCode(runMigrations(fx().value, [readMigrationDir('contract_fail', dir)]), ErrorCodes.MIGRATION_FAILED);
      assert.equal(await tableExists(fx().value, 'public.contract_partial'), false, 'no partial table');
      assert.deepEqual(await ledger(fx().value, 'contract_fail'), [1], 'no ledger row for the failed migration');
      assert.ok(await tableExists(fx().value, 'public.contract_ok'), 'the migration before it stays applied');

      // The failed run released its lock: another Storage can migrate once the file is fixed.
      writeFileSync(path.join(dir, '0002_bad.sql'), 'create table public.contract_partial (id integer);');
      const peer = await fx().peer();
      const rerun = await runMigrations(peer, [readMigrationDir('contract_fail', dir)]);
      assert.deepEqual(rerun[0]?.applied, [2]);
      assert.ok(await tableExists(fx().value, 'public.contract_partial'));
    });

    describe('transactions', () => {
      beforeEach(async () => {
        await fx().value.query('create table public.contract_tx (id text primary key, owner text not null)');
      });

      it('commits when the callback resolves', async () => {
        const result = await fx().value.transaction(async (client) => {
          await client.query('insert into public.contract_tx values ($1, $2), ($3, $4)', ['a', 'commit', 'b', 'commit']);
          return 'done';
        });
        assert.equal(result, 'done');
        assert.equal(await count(fx().value, 'public.contract_tx'), 2);
      });

      it('rolls back everything when the callback throws, and rethrows its error', async () => {
        const boom = new Error('callback failed');
        await assert.rejects(
          fx().value.transaction(async (client) => {
            await client.query('insert into public.contract_tx values ($1, $2)', ['a', 'rollback']);
            assert.equal(await countIn(client, 'public.contract_tx'), 1, 'the row is visible inside the transaction');
            throw boom;
          }),
          (error: unknown) => error === boom,
        );
        assert.equal(await count(fx().value, 'public.contract_tx'), 0, 'nothing written');
        // The connection went back to the pool clean: the next transaction works.
        await fx().value.transaction((client) => client.query("insert into public.contract_tx values ('c', 'after')"));
        assert.equal(await count(fx().value, 'public.contract_tx'), 1);
      });

      it('concurrent transactions do not see each other’s uncommitted rows, and both commit', async () => {
        const inserted = { a: gate(), b: gate() };
        const checked = { a: gate(), b: gate() };
        const seen: Record<'a' | 'b', string[]> = { a: [], b: [] };
        // On Postgres both transactions are open at once and wait for each other (so each really
        // reads while the other's row is uncommitted). PGlite is one session: its socket server
        // runs one transaction at a time, so the second only starts when the first has committed.
        const waitMs = fx().transactions === 'concurrent' ? 10_000 : 0;
        const run = (me: 'a' | 'b', other: 'a' | 'b') =>
          fx().value.transaction(async (client) => {
            await client.query('insert into public.contract_tx values ($1, $2)', [me, me]);
            inserted[me].open();
            if (waitMs) assert.ok(await inserted[other].wait(waitMs), `${me}: the other transaction inserted`);
            const { rows } = await client.query<{ id: string }>('select id from public.contract_tx order by id');
            seen[me] = rows.map((row) => row.id);
            checked[me].open();
            if (waitMs) assert.ok(await checked[other].wait(waitMs), `${me}: the other transaction read`);
          });
        await Promise.all([run('a', 'b'), run('b', 'a')]);

        if (fx().transactions === 'concurrent') {
          assert.deepEqual(seen, { a: ['a'], b: ['b'] });
        } else {
          // Serialised: whichever ran first saw only itself; the second may see the first's committed row.
          const [firstSeen, secondSeen] = seen.a.length <= seen.b.length ? [seen.a, seen.b] : [seen.b, seen.a];
          assert.equal(firstSeen.length, 1, `the first transaction saw only its own row: ${JSON.stringify(seen)}`);
          assert.deepEqual(secondSeen, ['a', 'b']);
        }
        assert.equal(await count(fx().value, 'public.contract_tx'), 2, 'both committed');
      });
    });

    it('data persists across close and reopen', async () => {
      await runMigrations(fx().value, [coreMigrations()]);
      await fx().value.query("insert into anvil.projects (id, name) values ('persisted', 'Persisted project')");
      const reopened = await fx().reopen();
      const { rows } = await reopened.query<{ name: string }>("select name from anvil.projects where id = 'persisted'");
      assert.deepEqual(rows, [{ name: 'Persisted project' }]);
      assert.deepEqual((await runMigrations(reopened, [coreMigrations()]))[0]?.applied, [], 'the ledger persisted too');
    });

    if (factory.kind === 'pglite') {
      describe('embedded home', () => {
        it('a command attaches through the server’s socket and shares its data', async () => {
          await fx().value.query('create table public.contract_shared (id text primary key)');
          await fx().value.query("insert into public.contract_shared values ('from-server')");
          const command = await fx().peer();
          assert.equal(command.kind, 'pglite');
          const { rows } = await command.query<{ id: string }>('select id from public.contract_shared');
          assert.deepEqual(rows, [{ id: 'from-server' }]);
          await command.query("insert into public.contract_shared values ('from-command')");
          await command.close();
          // Closing an attached command leaves the owner running.
          assert.equal(await count(fx().value, 'public.contract_shared'), 2);
          await fx().value.ping();
        });

        it('a second server on the same home is refused (ANVIL_E_HOME_LOCKED)', async () => {
          const home = fx().home;
          assert.ok(home);
          await rejectsWithCode(openEmbeddedStorage({ home, role: 'server', waitMs: 1_000 }), ErrorCodes.HOME_LOCKED);
          await fx().value.ping();
        });
      });
    }
  });
}
