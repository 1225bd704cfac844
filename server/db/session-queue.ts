/**
 * Replaces pglite-socket 0.2.17's query queue, which interleaves single protocol messages from
 * different connections on PGlite's one session (electric-sql/pglite#1046): concurrent
 * parameterised queries then fail with `portal "" does not exist` or read each other's rows.
 *
 * Here a connection owns the session from its first message until the backend answers
 * ReadyForQuery with status 'I' (idle, outside a transaction); only then may another connection's
 * message run, so extended-protocol batches (Parse/Bind/Execute/Sync) and transactions never
 * interleave. The storage contract suite's concurrency tests fail without it.
 */
import type { PGlite } from '@electric-sql/pglite';

interface Pending {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: unknown) => void;
}

const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I'

export class SessionQueue {
  private queue: Pending[] = [];
  private processing = false;
  private owner: number | null = null;
  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      this.process().catch(reject);
    });
  }

  private async process(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        const index = this.owner === null ? 0 : this.queue.findIndex((item) => item.handlerId === this.owner);
        if (index === -1) return; // the owner's next message has not arrived yet
        const [item] = this.queue.splice(index, 1) as [Pending];
        let bytes = 0;
        let tail = new Uint8Array(0);
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(item.message, {
              onRawData: (data) => {
                bytes += data.length;
                const joined = new Uint8Array(tail.length + data.length);
                joined.set(tail);
                joined.set(data, tail.length);
                tail = joined.slice(-6);
                item.onData(data);
              },
            }),
          );
          const idle = tail.length === 6 && tail[0] === READY_FOR_QUERY && tail[4] === 5 && tail[5] === IDLE;
          this.owner = idle ? null : item.handlerId;
          item.resolve(bytes);
        } catch (error) {
          this.owner = this.db.isInTransaction() ? item.handlerId : null;
          item.reject(error);
        }
      }
    } finally {
      this.processing = false;
    }
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  clearQueueForHandler(handlerId: number): void {
    this.queue = this.queue.filter((item) => {
      if (item.handlerId !== handlerId) return true;
      item.reject(new Error('Handler disconnected'));
      return false;
    });
  }

  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    this.owner = null;
    await this.process();
  }
}
