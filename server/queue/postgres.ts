import { createPostgresBackend, runMigrations, withBackend } from 'bullmq';
import pg from 'pg';
import { AnvilError, ErrorCodes, errorMessage } from '../errors.ts';
import { BullmqBackend, type BoundClasses } from './bullmq-backend.ts';
import type { QueueBackend } from './backend.ts';

export const BULLMQ_SCHEMA = 'bullmq';

/**
 * PGlite runs every connection in one backend, so a NOTIFY comes back to the connection that sent
 * it and never reaches the one that LISTENs: BullMQ's blocked workers then sleep out their whole
 * `drainDelay` before seeing a new job or a retry whose backoff has passed. Relaying each
 * notification a pooled client receives to the pool's other clients (BullMQ's LISTEN client is one
 * of them) delivers it as Postgres would. Each message is relayed once (relaying emits it again).
 */
function relayNotifications(pool: pg.Pool): void {
  const clients = new Set<pg.PoolClient>();
  const relayed = new WeakSet<pg.Notification>();
  pool.on('connect', (client) => {
    clients.add(client);
    client.on('notification', (message) => {
      if (relayed.has(message)) return;
      relayed.add(message);
      for (const other of clients) if (other !== client) other.emit('notification', message);
    });
  });
  pool.on('remove', (client) => clients.delete(client));
}

/**
 * BullMQ's Postgres backend on Anvil's own database. Anvil hands BullMQ a pool that pins
 * `search_path` when each connection opens, instead of BullMQ's startup option, because PGlite's
 * socket server ignores startup options. BullMQ's schema is migrated once here, under its own
 * advisory lock. Each BullMQ worker holds one pooled connection for LISTEN, hence the pool size.
 * `relayNotifications`: set on embedded PGlite (see relayNotifications).
 */
export async function openPostgresQueue(
  connection: pg.PoolConfig,
  options: { prefix?: string; poolSize?: number; relayNotifications?: boolean } = {},
): Promise<QueueBackend> {
  const pool = new pg.Pool({
    ...connection,
    max: options.poolSize ?? 16,
    // pg-pool awaits this before handing the client out, so BullMQ never sees an unpinned one.
    onConnect: async (client: pg.ClientBase) => {
      await client.query(`set search_path to ${BULLMQ_SCHEMA}, public`);
    },
  });
  pool.on('error', () => {});
  if (options.relayNotifications) relayNotifications(pool);
  try {
    const client = await pool.connect();
    try {
      await runMigrations(client, BULLMQ_SCHEMA);
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => {});
    throw new AnvilError(ErrorCodes.QUEUE_UNAVAILABLE, `Cannot prepare BullMQ's Postgres backend: ${errorMessage(error)}`, { cause: error });
  }
  const classes = withBackend(createPostgresBackend) as unknown as BoundClasses;
  return new BullmqBackend('bullmq-postgres', classes, pool, options.prefix ?? 'anvil', async () => {
    await pool.end().catch(() => {});
  });
}
