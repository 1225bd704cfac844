import { createPostgresBackend, runMigrations, withBackend } from 'bullmq';
import pg from 'pg';
import { AnvilError, ErrorCodes, errorMessage } from '../errors.ts';
import { BullmqBackend, type BoundClasses } from './bullmq-backend.ts';
import type { QueueBackend } from './backend.ts';

export const BULLMQ_SCHEMA = 'bullmq';

/**
 * BullMQ's Postgres backend on Anvil's own database. Anvil hands BullMQ a pool that pins
 * `search_path` when each connection opens, instead of BullMQ's startup option, because PGlite's
 * socket server ignores startup options. BullMQ's schema is migrated once here, under its own
 * advisory lock. Each BullMQ worker holds one pooled connection for LISTEN, hence the pool size.
 */
export async function openPostgresQueue(connection: pg.PoolConfig, options: { prefix?: string; poolSize?: number } = {}): Promise<QueueBackend> {
  const pool = new pg.Pool({
    ...connection,
    max: options.poolSize ?? 16,
    // pg-pool awaits this before handing the client out, so BullMQ never sees an unpinned one.
    onConnect: async (client: pg.ClientBase) => {
      await client.query(`set search_path to ${BULLMQ_SCHEMA}, public`);
    },
  });
  pool.on('error', () => {});
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
