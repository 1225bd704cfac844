import type { Processor } from 'bullmq';
import type { AnvilQueue, AnvilWorker, WorkerSettings } from '../../contracts/queue.ts';

export type { AnvilQueue, AnvilWorker, WorkerSettings } from '../../contracts/queue.ts';

export type QueueKind = 'bullmq-redis' | 'bullmq-postgres';

/**
 * The queue port. BullMQ is the transport on both backends (Redis, or its Postgres backend on the
 * same database as everything else); this port only decides which one and owns the connections,
 * so every queue and worker opened through it is closed with it.
 */
export interface QueueBackend {
  readonly kind: QueueKind;
  openQueue<D = unknown, R = unknown>(name: string): AnvilQueue<D, R>;
  openWorker<D = unknown, R = unknown>(name: string, processor: Processor<D, R, string>, settings?: WorkerSettings): AnvilWorker<D, R>;
  /** Round trip through the backend; throws ANVIL_E_QUEUE_UNAVAILABLE when it does not answer. */
  health(): Promise<{ latencyMs: number }>;
  close(): Promise<void>;
}
