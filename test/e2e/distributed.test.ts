/**
 * The distributed topology end to end: three `anvil serve` processes started at the same moment
 * on one fresh Postgres database with BullMQ on Redis, a key made by the CLI on that database
 * working on all of them, the Postgres queue backend on demand, and `anvil doctor`.
 *
 * Needs DATABASE_URL and REDIS_URL; skipped without them, failed without them when
 * ANVIL_TEST_REQUIRE_SERVICES=1 (CI).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { coreMigrations } from '../../server/db/migrate.ts';
import { type AnvilServerProcess, type CreatedKey, createHome, createKey, type EnvPatch, isRecord, runCli, sdks, startAnvil, type TempHome, withHttpSession } from '../support/anvil-process.ts';
import { createTempDatabase, type TempDatabase } from '../support/temp-db.ts';

const missing = (['DATABASE_URL', 'REDIS_URL'] as const).filter((name) => !process.env[name]);
const required = process.env.ANVIL_TEST_REQUIRE_SERVICES === '1';
const skip = missing.length > 0 && !required ? `skipped: ${missing.join(' and ')} not set` : false;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function statusKinds(server: AnvilServerProcess, key: CreatedKey, sdk: (typeof sdks)[number]) {
  return withHttpSession(sdk, server.mcpUrl, { key: key.key }, async (session) => {
    const whoami = await session.callTool('anvil_whoami');
    assert.equal(whoami.isError, false, whoami.text);
    assert.equal(whoami.structured?.principal, `key:${key.id}`);
    const status = await session.callTool('anvil_status');
    assert.equal(status.isError, false, status.text);
    const { storage, queue, migrations } = status.structured ?? {};
    assert.ok(isRecord(storage) && isRecord(queue), status.text);
    assert.equal(storage.ok, true, status.text);
    assert.equal(queue.ok, true, status.text);
    return { storage: storage.kind, queue: queue.kind, migrations };
  });
}

describe('distributed: several servers on one Postgres and Redis', { skip }, () => {
  let db: TempDatabase | undefined;
  let env: EnvPatch;
  let cliHome: TempHome | undefined;
  const servers: AnvilServerProcess[] = [];
  let key: CreatedKey;

  before(async () => {
    if (missing.length > 0) throw new Error(`${missing.join(' and ')} not set, but ANVIL_TEST_REQUIRE_SERVICES=1 requires the distributed topology to be tested`);
    db = await createTempDatabase();
    cliHome = await createHome({ fresh: true });
    env = { DATABASE_URL: db.url, REDIS_URL: process.env.REDIS_URL };
  });

  after(async () => {
    await Promise.all(servers.map((server) => server.dispose()));
    await db?.drop();
    cliHome?.remove();
  });

  it('three servers started at the same moment all come up, and migrate exactly once', async () => {
    const started = await Promise.allSettled([0, 1, 2].map(() => startAnvil({ freshHome: true, env })));
    for (const result of started) if (result.status === 'fulfilled') servers.push(result.value);
    const failures = started.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    assert.deepEqual(failures.map((failure) => String(failure.reason)), [], 'every server starts');
    assert.equal(new Set(servers.map((server) => server.port)).size, 3);

    const client = new pg.Client({ connectionString: (db as TempDatabase).url });
    await client.connect();
    try {
      const { rows } = await client.query<{ scope: string; version: number; name: string }>('select scope, version, name from anvil.schema_migrations order by scope, version');
      assert.deepEqual(
        rows.filter((row) => row.scope === 'core'),
        coreMigrations().migrations.map((migration) => ({ scope: 'core', version: migration.version, name: migration.name })),
      );
      // The built-in skills' own migrations, each once (the ledger's key would refuse a second row anyway).
      for (const scope of ['jobs', 'datasets', 'models']) assert.ok(rows.some((row) => row.scope === scope && row.version === 1), scope);
    } finally {
      await client.end();
    }
    const migrators = servers.filter((server) => server.stderr().includes('"msg":"migrations applied"'));
    assert.equal(migrators.length, 1, 'exactly one of the three applied the migrations');
  });

  it('a key created by the CLI on the database works on all three: storage postgres, queue bullmq-redis', async () => {
    assert.equal(servers.length, 3);
    key = await createKey({ ...env, ANVIL_HOME: cliHome?.home }, 'ops', '*', 'distributed');
    for (const [index, server] of servers.entries()) {
      const kinds = await statusKinds(server, key, sdks[index % sdks.length] ?? 'sdk1');
      assert.equal(kinds.storage, 'postgres', `server ${index}`);
      assert.equal(kinds.queue, 'bullmq-redis', `server ${index}`);
      assert.deepEqual(kinds.migrations, [{ scope: 'core', current: coreMigrations().migrations.length, latest: coreMigrations().migrations.length, pending: 0 }]);
    }
  });

  it('all three stop on SIGTERM with exit code 0', async () => {
    const exits = await Promise.all(servers.map((server) => server.stop()));
    for (const [index, exit] of exits.entries()) assert.deepEqual(exit, { code: 0, signal: null }, servers[index]?.stderr());
  });

  it('ANVIL_QUEUE=postgres keeps the queue on Postgres although REDIS_URL is set', async () => {
    const server = await startAnvil({ freshHome: true, env: { ...env, ANVIL_QUEUE: 'postgres' } });
    servers.push(server);
    const kinds = await statusKinds(server, key, 'sdk2');
    assert.equal(kinds.storage, 'postgres');
    assert.equal(kinds.queue, 'bullmq-postgres');
    assert.deepEqual(await server.stop(), { code: 0, signal: null }, server.stderr());
  });

  it('`anvil doctor` exits 0 with ok lines for postgres and redis', async () => {
    const port = await freePort();
    const result = await runCli(['doctor'], { ...env, ANVIL_HOME: cliHome?.home, ANVIL_PORT: String(port) });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /^ok\s+postgres\s+PostgreSQL \d+/m);
    assert.match(result.stdout, /^ok\s+redis\s+Redis \d+.*BullMQ on Redis/m);
    assert.match(result.stdout, /^ok\s+migrations\s+up to date/m);
    assert.doesNotMatch(result.stdout, /^fail/m);
    // Secrets stay out of what doctor prints.
    assert.doesNotMatch(result.stdout + result.stderr, /postgres:\/\/|redis:\/\//);
  });
});
