/**
 * The embedded database's wire server (server/db/wire-session.ts) in its worker thread: SQL runs
 * off the caller's event loop, a silent owner of the one session is cut off after the
 * idle-in-transaction timeout, a client vanishing mid-transaction is rolled back, and PGlite
 * extensions named in the options load.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openEmbeddedStorage } from '../../server/db/embedded.ts';
import type { Storage } from '../../server/db/storage.ts';
import { createPgliteHome } from '../support/backends.ts';

const IDLE_TIMEOUT_MS = 1_500;
/** Far above the timeout; without one, the waiting query would hang forever and hit this instead. */
const HANG_BOUND_MS = 60_000;

function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

describe('embedded wire server (PGlite in a worker thread)', () => {
  let storage: Storage;
  let remove: () => void = () => {};

  before(async () => {
    const created = await createPgliteHome();
    remove = created.remove;
    storage = await openEmbeddedStorage({
      home: created.home,
      role: 'server',
      embedded: {
        idleInTransactionTimeoutMs: IDLE_TIMEOUT_MS,
        extensions: [{ name: 'pg_trgm', module: '@electric-sql/pglite/contrib/pg_trgm' }],
      },
    });
    await storage.query('create table wire_rows (id int primary key, note text)');
  });

  after(async () => {
    await storage?.close();
    remove();
  });

  it('a client idle in a transaction is rolled back and disconnected; the others get their answers', async () => {
    const silent = await storage.connect();
    let silentError: unknown;
    silent.on('error', (error) => {
      silentError ??= error; // the FATAL message first, then the closed socket
    });
    await silent.query('begin');
    await silent.query("insert into wire_rows values (1, 'never committed')");
    // `silent` now owns the session and says nothing more: this query waits for the timeout.
    const started = Date.now();
    const { rows } = await within(storage.query<{ n: number }>('select count(*)::int as n from wire_rows'), HANG_BOUND_MS, 'the waiting query');
    const waited = Date.now() - started;
    assert.equal(rows[0]?.n, 0, 'the silent transaction was rolled back');
    assert.ok(waited >= IDLE_TIMEOUT_MS - 200, `the waiting query was served after the timeout, not before (${waited} ms)`);
    await assert.rejects(silent.query('select 1'), 'the silent client lost its connection');
    silent.release(true);
    assert.equal((silentError as { code?: unknown } | undefined)?.code, '25P03', 'it was told why (idle_in_transaction_session_timeout)');
    // The session is usable again and nothing is left half-done.
    await storage.query("insert into wire_rows values (2, 'after')");
    const after = await storage.query<{ id: number }>('select id from wire_rows order by id');
    assert.deepEqual(after.rows.map((row) => row.id), [2]);
  });

  it('a client that disconnects half way through a transaction is rolled back at once', async () => {
    const leaving = await storage.connect();
    leaving.on('error', () => {});
    await leaving.query('begin');
    await leaving.query("insert into wire_rows values (3, 'abandoned')");
    const waiting = storage.query<{ ids: number[] }>('select coalesce(array_agg(id order by id), array[]::int[]) as ids from wire_rows');
    leaving.release(true); // destroys the connection without COMMIT or ROLLBACK
    const { rows } = await within(waiting, HANG_BOUND_MS, 'the waiting query');
    assert.deepEqual(rows[0]?.ids, [2]);
  });

  it('a long query does not block the event loop of the process that asked', async () => {
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(performance.now()), 10);
    const started = performance.now();
    await storage.query('select count(*) from generate_series(1, 3000000) as g cross join lateral (select md5(g::text)) as m');
    const ended = performance.now();
    clearInterval(timer);
    const points = [started, ...ticks, ended];
    const longestGap = Math.max(...points.slice(1).map((point, index) => point - (points[index] as number)));
    const duration = ended - started;
    assert.ok(duration > 200, `the query must take a while to prove anything (${duration.toFixed(0)} ms)`);
    assert.ok(longestGap < duration / 2, `timers kept firing during the query: longest gap ${longestGap.toFixed(0)} ms of ${duration.toFixed(0)} ms`);
  });

  it('loads the PGlite extensions named in the embedded options', async () => {
    await storage.query('create extension if not exists pg_trgm');
    const { rows } = await storage.query<{ score: number }>("select similarity('anvil', 'anvils') as score");
    assert.ok((rows[0]?.score ?? 0) > 0.5);
  });

  it('a module without the named export is refused with a message naming it', async () => {
    const created = await createPgliteHome();
    try {
      await assert.rejects(
        openEmbeddedStorage({ home: created.home, role: 'server', embedded: { extensions: [{ name: 'nope', module: '@electric-sql/pglite/contrib/pg_trgm' }] } }),
        (error: unknown) => {
          assert.equal((error as { code?: unknown }).code, 'ANVIL_E_STORAGE_UNAVAILABLE');
          assert.match(String(error), /"nope"/);
          return true;
        },
      );
    } finally {
      created.remove();
    }
  });
});
