/**
 * Dynamic batching for one deployment variant: rows from concurrent requests wait in one bounded
 * queue and run together, at most `maxBatchSize` rows per model run. A run starts as soon as a full
 * batch is waiting, or when the oldest row has waited `maxQueueDelayMicros` (under 1 ms: at the end
 * of the current turn of the event loop, which gathers every request that arrived with it); while a
 * run is in flight the queue fills and the next run takes all it can. A full queue refuses new rows
 * at once (RATE_LIMITED → 429 with Retry-After); a request not served within its timeout is
 * answered with an error and its rows leave the queue. Results are always in input order.
 */
import { AnvilError, ErrorCodes } from 'anvil/plugin';
import type { FeatureRow } from './model.ts';

export interface BatcherSettings {
  enabled: boolean;
  maxBatchSize: number;
  maxQueueDelayMicros: number;
  maxQueueSize: number;
}

/** Runs rows through the model: probabilities [rows × classes]. */
export type RunRows = (rows: readonly FeatureRow[]) => Promise<Float32Array>;

export interface BatchResult {
  /** One probability row per input, in input order. */
  probabilities: Float32Array[];
  /** The size of the model run each input went through (the largest when split). */
  batchSize: number;
}

interface Pending {
  readonly rows: readonly FeatureRow[];
  readonly out: Float32Array[];
  /** Rows of this request already handed to a run. */
  taken: number;
  /** Rows answered so far. */
  done: number;
  batchSize: number;
  settled: boolean;
  resolve(result: BatchResult): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout | undefined;
}

export interface BatcherStats {
  queued: number;
  inFlight: number;
  rejected: number;
  timedOut: number;
  runs: number;
  rows: number;
}

export class Batcher {
  private readonly queue: Pending[] = [];
  private queuedRows = 0;
  private inFlight = 0;
  private scheduled: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private readonly counters = { rejected: 0, timedOut: 0, runs: 0, rows: 0 };
  /** Mean seconds per run, for Retry-After. */
  private meanRunSeconds = 0.005;

  constructor(
    private readonly settings: BatcherSettings,
    private readonly classes: number,
    private readonly runRows: RunRows,
    /** Runs in flight at once (concurrent sessions on CPU). */
    private readonly concurrency = 1,
  ) {}

  submit(rows: readonly FeatureRow[], timeoutMs: number): Promise<BatchResult> {
    if (rows.length === 0) return Promise.resolve({ probabilities: [], batchSize: 0 });
    if (this.queuedRows + rows.length > this.settings.maxQueueSize) {
      this.counters.rejected++;
      const retryAfter = Math.max(1, Math.ceil(((this.queuedRows / this.settings.maxBatchSize) * this.meanRunSeconds) / this.concurrency));
      return Promise.reject(
        new AnvilError(ErrorCodes.RATE_LIMITED, `the deployment's queue is full (${this.queuedRows} rows waiting, maxQueueSize ${this.settings.maxQueueSize}); retry after ${retryAfter} s`, {
          details: { retryAfterSeconds: retryAfter, queued: this.queuedRows, maxQueueSize: this.settings.maxQueueSize },
        }),
      );
    }
    return new Promise<BatchResult>((resolve, reject) => {
      const pending: Pending = { rows, out: new Array<Float32Array>(rows.length), taken: 0, done: 0, batchSize: 0, settled: false, resolve, reject, timer: undefined };
      pending.timer = setTimeout(() => this.expire(pending, timeoutMs), timeoutMs);
      this.queue.push(pending);
      this.queuedRows += rows.length;
      this.schedule();
    });
  }

  private expire(pending: Pending, timeoutMs: number): void {
    if (pending.settled) return;
    this.counters.timedOut++;
    this.settle(pending, new AnvilError(ErrorCodes.TOOL_UNAVAILABLE, `the prediction was not served within ${timeoutMs} ms (timeoutMs); the server is overloaded, retry later`, { details: { reason: 'timeout', timeoutMs } }));
  }

  private settle(pending: Pending, error?: unknown): void {
    if (pending.settled) return;
    pending.settled = true;
    clearTimeout(pending.timer);
    const index = this.queue.indexOf(pending);
    if (index >= 0) {
      this.queue.splice(index, 1);
      this.queuedRows -= pending.rows.length - pending.taken;
    }
    if (error === undefined) pending.resolve({ probabilities: pending.out, batchSize: pending.batchSize });
    else pending.reject(error);
  }

  private schedule(): void {
    if (this.queue.length === 0 || this.inFlight >= this.concurrency) return;
    const batchSize = this.settings.enabled ? this.settings.maxBatchSize : 1;
    if (!this.settings.enabled || this.queuedRows >= batchSize) {
      this.clearScheduled();
      this.startRun();
      return;
    }
    if (this.scheduled) return;
    const fire = () => {
      this.scheduled = undefined;
      if (this.inFlight < this.concurrency) this.startRun();
    };
    const micros = this.settings.maxQueueDelayMicros;
    this.scheduled = micros < 1000 ? setImmediate(fire) : setTimeout(fire, micros / 1000);
  }

  private clearScheduled(): void {
    if (this.scheduled === undefined) return;
    clearTimeout(this.scheduled as NodeJS.Timeout);
    clearImmediate(this.scheduled as NodeJS.Immediate);
    this.scheduled = undefined;
  }

  private startRun(): void {
    // Unbatched: one request's rows per run (a request of several inputs is still one run).
    const limit = this.settings.enabled ? this.settings.maxBatchSize : Math.max(1, this.queue[0]?.rows.length ?? 1);
    const parts: Array<{ pending: Pending; from: number; count: number }> = [];
    let size = 0;
    while (size < limit && this.queue.length > 0) {
      const pending = this.queue[0] as Pending;
      const count = Math.min(limit - size, pending.rows.length - pending.taken);
      parts.push({ pending, from: pending.taken, count });
      pending.taken += count;
      size += count;
      this.queuedRows -= count;
      if (pending.taken === pending.rows.length) this.queue.shift();
    }
    if (size === 0) return;
    const rows = parts.flatMap((part) => part.pending.rows.slice(part.from, part.from + part.count));
    this.inFlight++;
    this.counters.runs++;
    this.counters.rows += size;
    const started = performance.now();
    void this.runRows(rows).then(
      (probabilities) => {
        this.meanRunSeconds = this.meanRunSeconds * 0.9 + ((performance.now() - started) / 1000) * 0.1;
        let at = 0;
        for (const part of parts) {
          for (let k = 0; k < part.count; k++) {
            part.pending.out[part.from + k] = probabilities.slice((at + k) * this.classes, (at + k + 1) * this.classes);
          }
          at += part.count;
          part.pending.done += part.count;
          part.pending.batchSize = Math.max(part.pending.batchSize, size);
          if (part.pending.done === part.pending.rows.length) this.settle(part.pending);
        }
        this.finishRun();
      },
      (error: unknown) => {
        for (const part of parts) this.settle(part.pending, error);
        this.finishRun();
      },
    );
    if (this.inFlight < this.concurrency) this.schedule();
  }

  private finishRun(): void {
    this.inFlight--;
    this.schedule();
  }

  stats(): BatcherStats {
    return { queued: this.queuedRows, inFlight: this.inFlight, ...this.counters };
  }

  /** Refuses what is still waiting (the server is stopping or the settings changed). */
  close(reason: AnvilError): void {
    this.clearScheduled();
    for (const pending of [...this.queue]) this.settle(pending, reason);
  }
}
