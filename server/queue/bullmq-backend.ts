import type { Processor, WorkerOptions } from 'bullmq';
import { AnvilError, ErrorCodes, errorMessage } from '../errors.ts';
import type { AnvilQueue, AnvilWorker, QueueBackend, QueueKind, WorkerSettings } from './backend.ts';

interface Closable {
  close(): Promise<void>;
}

/** The constructors `withBackend` returns, seen through the backend-neutral port types. */
export interface BoundClasses {
  Queue: new (name: string, opts: { connection: unknown; prefix?: string }) => AnvilQueue<never, never>;
  Worker: new (name: string, processor: Processor<never, never, string>, opts: WorkerOptions<unknown>) => AnvilWorker<never, never>;
}

/**
 * Shared implementation of the port for both BullMQ backends: they differ only in the bound
 * classes, the connection value and what else must be closed last.
 */
export class BullmqBackend implements QueueBackend {
  private readonly open = new Set<Closable>();
  private readonly queues = new Map<string, AnvilQueue>();
  private healthQueue: AnvilQueue | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    readonly kind: QueueKind,
    private readonly classes: BoundClasses,
    private readonly connection: unknown,
    private readonly prefix: string,
    private readonly closeConnection: () => Promise<void>,
  ) {}

  openQueue<D = unknown, R = unknown>(name: string): AnvilQueue<D, R> {
    this.assertOpen();
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new this.classes.Queue(name, { connection: this.connection, prefix: this.prefix }) as unknown as AnvilQueue;
      queue.on('error', () => {});
      this.queues.set(name, queue);
      this.open.add(queue);
    }
    return queue as unknown as AnvilQueue<D, R>;
  }

  openWorker<D = unknown, R = unknown>(name: string, processor: Processor<D, R, string>, settings: WorkerSettings = {}): AnvilWorker<D, R> {
    this.assertOpen();
    const worker = new this.classes.Worker(name, processor as unknown as Processor<never, never, string>, {
      ...settings,
      connection: this.connection,
      prefix: this.prefix,
    }) as unknown as AnvilWorker<D, R>;
    worker.on('error', () => {});
    const tracked: Closable = { close: () => worker.close() };
    this.open.add(tracked);
    return worker;
  }

  async health(): Promise<{ latencyMs: number }> {
    this.healthQueue ??= this.openQueue('anvil-health');
    const started = performance.now();
    try {
      await this.healthQueue.getJobCounts('waiting');
      return { latencyMs: performance.now() - started };
    } catch (error) {
      throw new AnvilError(ErrorCodes.QUEUE_UNAVAILABLE, `Queue (${this.kind}) did not answer: ${errorMessage(error)}`, { cause: error });
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.open].map((item) => item.close()));
      this.open.clear();
      this.queues.clear();
      await this.closeConnection();
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing) throw new AnvilError(ErrorCodes.SHUTTING_DOWN, 'The queue backend is closed');
  }
}
