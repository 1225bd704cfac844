import type { AnvilConfig } from '../config/schema.ts';
import type { Storage } from '../db/storage.ts';
import { AnvilError, ErrorCodes } from '../errors.ts';
import type { QueueBackend } from './backend.ts';
import { openPostgresQueue } from './postgres.ts';
import { openRedisQueue } from './redis.ts';

/** BullMQ on Redis when asked for (or `auto` with a REDIS_URL), else BullMQ's Postgres backend on the storage. */
export async function openQueueBackend(config: AnvilConfig, storage: Storage): Promise<QueueBackend> {
  const useRedis = config.queue === 'redis' || (config.queue === 'auto' && config.redisUrl !== undefined);
  if (useRedis) {
    if (!config.redisUrl) {
      throw new AnvilError(ErrorCodes.CONFIG_INVALID, 'queue is "redis" but REDIS_URL (redisUrl) is not set; set it, or use ANVIL_QUEUE=postgres');
    }
    return openRedisQueue(config.redisUrl, { prefix: config.queuePrefix });
  }
  return openPostgresQueue(storage.connection, { prefix: config.queuePrefix, relayNotifications: storage.kind === 'pglite' });
}
