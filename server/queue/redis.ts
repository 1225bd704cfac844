import { createRedisBackend, withBackend } from 'bullmq';
import { Redis } from 'ioredis';
import { AnvilError, ErrorCodes, errorMessage } from '../errors.ts';
import { BullmqBackend, type BoundClasses } from './bullmq-backend.ts';
import type { QueueBackend } from './backend.ts';

/** BullMQ on Redis: one shared connection; BullMQ duplicates it for blocking worker reads. */
export async function openRedisQueue(redisUrl: string, options: { prefix?: string } = {}): Promise<QueueBackend> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: true, connectTimeout: 5_000 });
  connection.on('error', () => {});
  try {
    await connection.connect();
    await connection.ping();
  } catch (error) {
    connection.disconnect();
    throw new AnvilError(ErrorCodes.QUEUE_UNAVAILABLE, `Cannot reach Redis for BullMQ: ${errorMessage(error)}`, { cause: error });
  }
  const classes = withBackend(createRedisBackend) as unknown as BoundClasses;
  return new BullmqBackend('bullmq-redis', classes, connection, options.prefix ?? 'anvil', async () => {
    await connection.quit().catch(() => connection.disconnect());
  });
}
