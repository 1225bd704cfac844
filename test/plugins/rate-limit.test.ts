/**
 * The rate-limit plugin: the token-bucket contract against every store (Redis when REDIS_URL is
 * set, SQL on embedded PGlite always and on Postgres when DATABASE_URL is set), what each store
 * does on its own (Redis TTL, SQL sweep), and the plugin end to end through a real server.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createTestHost, flatten, type TestHost } from 'anvil/testing';
import { migratePlugin, pluginSchemaName, scopedSql } from '../../plugins/host/scoped.ts';
import type { Storage } from '../../server/db/storage.ts';
import type { TokenBucketStore } from '../../tools/rate-limit/bucket.ts';
import { appliesTo, bucketKey } from '../../tools/rate-limit/index.ts';
import { RedisTokenBucketStore } from '../../tools/rate-limit/redis-bucket.ts';
import { rateLimitMigrations, SqlTokenBucketStore } from '../../tools/rate-limit/sql-bucket.ts';
import { deleteRedisKeys, pgliteStorage, postgresStorage, requireService, skipUnless, type StorageFactory } from '../support/backends.ts';
import { type BucketBackend, type BucketBackendFactory, tokenBucketContract } from './rate-limit-store.contract.ts';

const PLUGIN_ID = 'rate-limit';
const NO_REFILL_FOR_SWEEP = 0.001;

/** Runs the plugin's migrations the way the host does. */
function migrate(storage: Storage): Promise<void> {
  return migratePlugin(storage, PLUGIN_ID, [rateLimitMigrations]);
}

function sqlStore(storage: Storage): SqlTokenBucketStore {
  return new SqlTokenBucketStore(scopedSql(storage, PLUGIN_ID, true));
}

/** SQL buckets on one database; every open() after the first is another server's connection (a peer). */
function sqlBackend(storageFactory: StorageFactory): BucketBackendFactory {
  return {
    name: `sql (${storageFactory.name})`,
    skip: storageFactory.skip,
    async setup(): Promise<BucketBackend> {
      const fixture = await storageFactory.open();
      try {
        await migrate(fixture.value);
      } catch (error) {
        await fixture.cleanup();
        throw error;
      }
      let opened = 0;
      return {
        async open() {
          opened += 1;
          return sqlStore(opened === 1 ? fixture.value : await fixture.peer());
        },
        cleanup: () => fixture.cleanup(),
      };
    },
  };
}


function uniqueRedisPrefix(): string {
  return `anvil-t-rl-${process.pid}-${randomBytes(4).toString('hex')}:`;
}

const redisBackend: BucketBackendFactory = {
  name: 'redis',
  skip: skipUnless('REDIS_URL'),
  async setup(): Promise<BucketBackend> {
    const url = requireService('REDIS_URL');
    const keyPrefix = uniqueRedisPrefix();
    const stores: TokenBucketStore[] = [];
    return {
      async open() {
        const store = await RedisTokenBucketStore.connect(url, { keyPrefix });
        stores.push(store);
        return store;
      },
      async cleanup() {
        await Promise.allSettled(stores.map((store) => store.close()));
        await deleteRedisKeys(url, `${keyPrefix}*`);
      },
    };
  },
};

for (const factory of [redisBackend, sqlBackend(pgliteStorage), sqlBackend(postgresStorage)]) tokenBucketContract(factory);

describe('rate-limit: what each store does on its own', () => {
  it('redis: a bucket key expires once it would be full again', { skip: skipUnless('REDIS_URL') }, async () => {
    const url = requireService('REDIS_URL');
    const keyPrefix = uniqueRedisPrefix();
    const store = await RedisTokenBucketStore.connect(url, { keyPrefix });
    const redis = new Redis(url, { maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
    try {
      await store.take('ttl', 10, 5);
      await store.take('ttl', 10, 5);
      // Two tokens short at 5 per second: full in 400 ms; the TTL is that plus a one-second margin.
      const ttl = await redis.pttl(`${keyPrefix}ttl`);
      assert.ok(ttl > 0 && ttl <= 1_400, `pttl ${ttl}`);
      const state = await redis.hgetall(`${keyPrefix}ttl`);
      assert.ok(Math.abs(Number(state.tokens) - 8) < 0.1, `tokens ${state.tokens}`);
    } finally {
      await store.close();
      await redis.quit().catch(() => redis.disconnect());
      await deleteRedisKeys(url, `${keyPrefix}*`);
    }
  });

  it('sql: the sweep deletes buckets that are full again, and a swept bucket starts full', async () => {
    const fixture = await pgliteStorage.open();
    try {
      await migrate(fixture.value);
      const store = sqlStore(fixture.value);
      await store.take('idle', 1, 20);
      await store.take('busy', 100, NO_REFILL_FOR_SWEEP);
      await sleep(80);
      assert.equal(await store.sweep(), 1, 'only the bucket that refilled (1 token at 20/s: 50 ms) is swept');
      const { rows } = await fixture.value.query<{ key: string }>(`select key from "${pluginSchemaName(PLUGIN_ID)}".buckets order by key`);
      assert.deepEqual(
        rows.map((row) => row.key),
        ['busy'],
      );
      assert.deepEqual(await store.take('idle', 1, 20), { allowed: true, remaining: 0, retryAfterMs: 0 });
    } finally {
      await fixture.cleanup();
    }
  });

  it('matches tools by name and prefix, and keys buckets by project and principal (and tool)', () => {
    assert.equal(appliesTo(undefined, 'training_start'), true);
    assert.equal(appliesTo(undefined, 'anvil_whoami'), false);
    assert.equal(appliesTo(['training_*', 'anvil_whoami'], 'training_start'), true);
    assert.equal(appliesTo(['training_*', 'anvil_whoami'], 'anvil_whoami'), true);
    assert.equal(appliesTo(['training_*'], 'payment_send'), false);
    const principal = { id: 'key:ab/c', kind: 'api-key' as const, project: 'acme', scopes: [] };
    assert.equal(bucketKey('principal', principal, 'training_start'), 'acme/key%3Aab%2Fc');
    assert.equal(bucketKey('principal+tool', principal, 'training_start'), 'acme/key%3Aab%2Fc/training_start');
  });
});

interface ErrorMeta {
  'dev.anvil/error'?: { code: string; details?: { retryAfterMs?: number } };
}

function retryAfterOf(raw: unknown): number | undefined {
  return ((raw as { _meta?: ErrorMeta })._meta?.['dev.anvil/error']?.details?.retryAfterMs);
}

interface EndToEndLeg {
  name: string;
  skip: string | undefined;
  config(): Record<string, unknown>;
  /** Whether the bucket for `key` lives in this leg's store (proves which backend `auto` picked). */
  holds(host: TestHost, key: string): Promise<boolean>;
}

const endToEnd: EndToEndLeg[] = [
  {
    name: 'sql on embedded PGlite',
    skip: undefined,
    config: () => ({}),
    async holds(host, key) {
      const { rows } = await host.server.runtime.services.storage.query(`select 1 from "${pluginSchemaName(PLUGIN_ID)}".buckets where key = $1`, [key]);
      return rows.length === 1;
    },
  },
  {
    // Redis for the buckets only; the queue stays on PGlite so the shared Redis holds nothing else.
    name: 'redis',
    skip: skipUnless('REDIS_URL'),
    config: () => ({ redisUrl: requireService('REDIS_URL'), queue: 'postgres' }),
    async holds(_host, key) {
      const redis = new Redis(requireService('REDIS_URL'), { maxRetriesPerRequest: 1 });
      redis.on('error', () => {});
      try {
        return (await redis.exists(`anvil:rate-limit:${key}`)) === 1;
      } finally {
        await redis.quit().catch(() => redis.disconnect());
      }
    },
  },
];

for (const leg of endToEnd) {
  describe(`rate-limit plugin end to end (${leg.name})`, { skip: leg.skip }, () => {
    let host: TestHost | undefined;
    // Unique principal names: a Redis leg shares its server with other runs.
    const run = randomBytes(4).toString('hex');
    const name = `rl-${run}`;

    before(async () => {
      host = await createTestHost({
        plugins: [],
        principal: { name },
        config: {
          ...leg.config(),
          plugins: [{ id: 'rate-limit', strict: true, config: { capacity: 3, refillPerSecond: 0.5, tools: ['anvil_whoami'] } }],
        },
      });
    });
    after(async () => {
      await host?.close();
      const url = process.env.REDIS_URL;
      if (leg.name === 'redis' && url) await deleteRedisKeys(url, `anvil:rate-limit:*${run}*`);
    });

    it('refuses the 4th call with ANVIL_E_RATE_LIMITED, audits it as denied, and leaves other principals alone', async () => {
      assert.ok(host);
      for (let index = 0; index < 3; index += 1) {
        const ok = await host.call('anvil_whoami');
        assert.equal(ok.isError, false, ok.text);
      }
      const refused = await host.call('anvil_whoami');
      assert.equal(refused.isError, true);
      assert.match(refused.text, new RegExp(`^ANVIL_E_RATE_LIMITED: Rate limit reached for local:${name}: 3 calls at once, then 0.5 per second; retry in [12] s$`));
      const retryAfterMs = retryAfterOf(refused.raw);
      assert.ok(retryAfterMs !== undefined && retryAfterMs > 0 && retryAfterMs <= 2_000, `retryAfterMs ${retryAfterMs}`);

      const key = `default/${encodeURIComponent(`local:${name}`)}`;
      assert.equal(await leg.holds(host, key), true, `the bucket ${key} is in the ${leg.name} store`);

      // Tools outside `tools` are not counted.
      assert.equal((await host.call('anvil_status')).isError, false);

      const other = await host.connect({ name: `other-${run}` });
      const elsewhere = flatten(await other.callTool({ name: 'anvil_whoami', arguments: {} }));
      assert.equal(elsewhere.isError, false, elsewhere.text);
      assert.equal(elsewhere.structured?.principal, `local:other-${run}`);

      await host.server.runtime.audit.flush();
      const { rows } = await host.server.runtime.services.storage.query<{ principal: string; outcome: string; error_code: string | null }>(
        `select principal, outcome, error_code from anvil.audit_log where tool = 'anvil_whoami'`,
      );
      const mine = rows.filter((row) => row.principal === `local:${name}`);
      assert.deepEqual(
        mine.map((row) => `${row.outcome} ${row.error_code ?? '-'}`).sort(),
        ['denied ANVIL_E_RATE_LIMITED', 'ok -', 'ok -', 'ok -'],
      );
      assert.deepEqual(
        rows.filter((row) => row.principal === `local:other-${run}`).map((row) => row.outcome),
        ['ok'],
      );
    });
  });
}
