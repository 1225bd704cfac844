/** The BullMQ shapes the control plane's queue backend and the workers' consumers share. */
import type { IQueueBackend, JobProgress, Queue, Worker, WorkerOptions } from 'bullmq';

export type AnvilQueue<D = unknown, R = unknown> = Queue<D, R, string, D, R, string, IQueueBackend, unknown>;
export type AnvilWorker<D = unknown, R = unknown> = Worker<D, R, string, IQueueBackend, JobProgress, unknown>;
export type WorkerSettings = Omit<WorkerOptions, 'connection' | 'prefix'>;
