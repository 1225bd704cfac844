import type { IQueueBackend, JobProgress, Processor, Queue, Worker, WorkerOptions } from 'bullmq';

export type QueueKind = 'bullmq-redis' | 'bullmq-postgres';

export type AnvilQueue<D = unknown, R = unknown> = Queue<D, R, string, D, R, string, IQueueBackend, unknown>;
export type AnvilWorker<D = unknown, R = unknown> = Worker<D, R, string, IQueueBackend, JobProgress, unknown>;
export type WorkerSettings = Omit<WorkerOptions, 'connection' | 'prefix'>;

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
