/**
 * Every backend Anvil runs on, opened fresh for tests, so one contract suite can run against all
 * of them (the pattern of LangGraph's checkpoint-validation and BullMQ's backend suites).
 *
 * Storage: embedded PGlite (always) and Postgres (DATABASE_URL). Queues: BullMQ on Redis
 * (REDIS_URL), BullMQ's Postgres backend on Postgres (DATABASE_URL) and on embedded PGlite
 * (always). A backend whose service is not configured is skipped with the reason ("DATABASE_URL
 * not set"); with ANVIL_TEST_REQUIRE_SERVICES=1 (CI) it is not skipped but fails instead, so a
 * misconfigured CI cannot turn green by skipping the real services.
 *
 * Each open() gives a fresh, isolated instance (a new data dir, database or key prefix) and a
 * cleanup() that closes what it opened and removes what it created.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach } from 'node:test';
import { Redis } from 'ioredis';
import { openEmbeddedStorage } from '../../server/db/embedded.ts';
import { openPostgresStorage, type Storage, type StorageKind } from '../../server/db/storage.ts';
import type { QueueBackend, QueueKind } from '../../server/queue/backend.ts';
import { openPostgresQueue } from '../../server/queue/postgres.ts';
import { openRedisQueue } from '../../server/queue/redis.ts';
import { createPgliteHome, makeShortTempDir } from '../../plugins/testing/temp-home.ts';
import { createTempDatabase } from './temp-db.ts';

/** Something a test opened, with the one call that undoes it. */
export interface Opened<T> {
  readonly value: T;
  cleanup(): Promise<void>;
}

export interface BackendFactory<T, O extends Opened<T> = Opened<T>> {
  /** Shown in test names: `pglite`, `postgres`, `bullmq-postgres (pglite)`, … */
  readonly name: string;
  /** Why this backend cannot run here (node:test prints it as the skip reason); undefined when it runs. */
  readonly skip: string | undefined;
  open(): Promise<O>;
}

// ---------------------------------------------------------------------------------------------
// Which services are configured

export type ServiceVar = 'DATABASE_URL' | 'REDIS_URL';

/** CI sets ANVIL_TEST_REQUIRE_SERVICES=1: the Postgres and Redis legs must run, never skip. */
export const servicesRequired = process.env.ANVIL_TEST_REQUIRE_SERVICES === '1';

/** The skip reason for a backend that needs `envVar`, or undefined when it must run. */
export function skipUnless(envVar: ServiceVar): string | undefined {
  if (process.env[envVar] || servicesRequired) return undefined;
  return `skipped: ${envVar} not set`;
}

/** The service URL, or a loud failure when it is missing (only reachable when it is required). */
export function requireService(envVar: ServiceVar): string {
  const value = process.env[envVar];
  if (value) return value;
  throw new Error(`${envVar} is not set but ANVIL_TEST_REQUIRE_SERVICES=1 requires the ${envVar === 'DATABASE_URL' ? 'Postgres' : 'Redis'} backend to be tested`);
}

// ---------------------------------------------------------------------------------------------
// Embedded PGlite homes

export { createPgliteHome, makeShortTempDir };

// ---------------------------------------------------------------------------------------------
// Storage backends

export interface StorageFixture extends Opened<Storage> {
  readonly kind: StorageKind;
  /** The embedded home (PGlite only). */
  readonly home: string | undefined;
  /**
   * How the backend runs concurrent transactions: Postgres runs them side by side; PGlite is one
   * session, so its socket server runs one transaction at a time and queues the others.
   */
  readonly transactions: 'concurrent' | 'serialized';
  /**
   * Another Storage on the same database, as a second process would open it: a new pool on the
   * same URL (Postgres) or a 'command' attached through the owner's socket (PGlite).
   */
  peer(): Promise<Storage>;
  /** Closes `value` (and peers), then opens the same database again as the original owner would. */
  reopen(): Promise<Storage>;
}

export type StorageFactory = BackendFactory<Storage, StorageFixture> & { readonly kind: StorageKind };

class Closer {
  private readonly items: Array<{ close(): Promise<void> }> = [];
  track<T extends { close(): Promise<void> }>(item: T): T {
    this.items.push(item);
    return item;
  }
  async closeAll(): Promise<void> {
    // Peers first (reverse order of opening), so an embedded owner outlives its attached commands.
    const items = this.items.splice(0).reverse();
    for (const item of items) await item.close().catch(() => {});
  }
}

export const pgliteStorage: StorageFactory = {
  name: 'pglite',
  kind: 'pglite',
  skip: undefined,
  async open() {
    const { home, remove } = await createPgliteHome();
    const closer = new Closer();
    let current = closer.track(await openEmbeddedStorage({ home, role: 'server' }));
    return {
      kind: 'pglite',
      home,
      transactions: 'serialized',
      get value() {
        return current;
      },
      peer: async () => closer.track(await openEmbeddedStorage({ home, role: 'command' })),
      async reopen() {
        await closer.closeAll();
        current = closer.track(await openEmbeddedStorage({ home, role: 'server' }));
        return current;
      },
      async cleanup() {
        await closer.closeAll();
        remove();
      },
    };
  },
};

export const postgresStorage: StorageFactory = {
  name: 'postgres',
  kind: 'postgres',
  skip: skipUnless('DATABASE_URL'),
  async open() {
    requireService('DATABASE_URL');
    const db = await createTempDatabase();
    const closer = new Closer();
    let current = closer.track(openPostgresStorage(db.url));
    return {
      kind: 'postgres',
      home: undefined,
      transactions: 'concurrent',
      get value() {
        return current;
      },
      peer: async () => closer.track(openPostgresStorage(db.url)),
      async reopen() {
        await closer.closeAll();
        current = closer.track(openPostgresStorage(db.url));
        return current;
      },
      async cleanup() {
        await closer.closeAll();
        await db.drop();
      },
    };
  },
};

export const storageBackends: StorageFactory[] = [pgliteStorage, postgresStorage];

// ---------------------------------------------------------------------------------------------
// Queue backends

export interface QueueFixture extends Opened<QueueBackend> {
  readonly kind: QueueKind;
  /** Key prefix (Redis) / BullMQ prefix this fixture runs under; unique per open(). */
  readonly prefix: string;
}

export type QueueFactory = BackendFactory<QueueBackend, QueueFixture> & { readonly kind: QueueKind };

/** Unique per open() so runs sharing one Redis or database never collide. No ':' (BullMQ joins keys with it). */
function uniquePrefix(): string {
  return `anvil-t-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every Redis key matching `pattern` (what a Redis leg wrote). */
export async function deleteRedisKeys(redisUrl: string, pattern: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

export const redisQueue: QueueFactory = {
  name: 'bullmq-redis',
  kind: 'bullmq-redis',
  skip: skipUnless('REDIS_URL'),
  async open() {
    const url = requireService('REDIS_URL');
    const prefix = uniquePrefix();
    const backend = await openRedisQueue(url, { prefix });
    return {
      kind: 'bullmq-redis',
      prefix,
      value: backend,
      async cleanup() {
        await backend.close();
        await deleteRedisKeys(url, `${prefix}:*`);
      },
    };
  },
};

export const postgresQueue: QueueFactory = {
  name: 'bullmq-postgres (postgres)',
  kind: 'bullmq-postgres',
  skip: skipUnless('DATABASE_URL'),
  async open() {
    requireService('DATABASE_URL');
    const db = await createTempDatabase();
    const prefix = uniquePrefix();
    try {
      const backend = await openPostgresQueue({ connectionString: db.url }, { prefix });
      return {
        kind: 'bullmq-postgres',
        prefix,
        value: backend,
        async cleanup() {
          await backend.close();
          await db.drop();
        },
      };
    } catch (error) {
      await db.drop();
      throw error;
    }
  },
};

export const pgliteQueue: QueueFactory = {
  name: 'bullmq-postgres (pglite)',
  kind: 'bullmq-postgres',
  skip: undefined,
  async open() {
    const { home, remove } = await createPgliteHome();
    const storage = await openEmbeddedStorage({ home, role: 'server' });
    const prefix = uniquePrefix();
    try {
      // As the server opens it on embedded storage (server/queue/open.ts).
      const backend = await openPostgresQueue(storage.connection, { prefix, relayNotifications: true });
      return {
        kind: 'bullmq-postgres',
        prefix,
        value: backend,
        async cleanup() {
          await backend.close();
          await storage.close();
          remove();
        },
      };
    } catch (error) {
      await storage.close();
      remove();
      throw error;
    }
  },
};

export const queueBackends: QueueFactory[] = [redisQueue, postgresQueue, pgliteQueue];

/**
 * Opens a fresh fixture from `factory` before each test of the enclosing `describe` and cleans it
 * up after; returns an accessor for the running test's fixture.
 */
export function useFixturePerTest<T, O extends Opened<T>>(factory: BackendFactory<T, O>, afterCleanup?: () => void): () => O {
  let opened: O | undefined;
  beforeEach(async () => {
    opened = await factory.open();
  });
  afterEach(async () => {
    const done = opened;
    opened = undefined;
    await done?.cleanup();
    afterCleanup?.();
  });
  return () => {
    assert.ok(opened, 'the backend opened');
    return opened;
  };
}
