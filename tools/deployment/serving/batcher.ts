/**
 * Dynamic batching for one deployment variant: rows from concurrent requests wait in one bounded
 * queue and run together, at most `maxBatchSize` rows per model run. An idle variant (nothing
 * queued, no run in flight, and the last run ended at least `maxQueueDelayMicros` ago) runs a
 * request at once: a lone caller never pays the batching delay. Under load a run starts as soon as
 * a full batch is waiting, or once `maxQueueDelayMicros` have passed since the last run ended (or
 * the oldest row arrived); while a run is in flight the queue fills and the next run takes all it
 * can. (onnxruntime-node runs on the event loop's thread, so requests that arrive during a run are
 * read right after it: the short wait lets them join the next run.) A full queue refuses new rows
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
  /** From submit until the (last) run of its rows started, ms. */
  queuedMs: number;
  /** The model run (the longest when split), ms. */
  runMs: number;
}

interface Pending {
  readonly rows: readonly FeatureRow[];
  readonly out: Float32Array[];
  /** Rows of this request already handed to a run. */
  taken: number;
  /** Rows answered so far. */
  done: number;
  batchSize: number;
  readonly submittedAt: number;
  queuedMs: number;
  runMs: number;
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
  private inFlightRows = 0;
  private scheduled: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private readonly counters = { rejected: 0, timedOut: 0, runs: 0, rows: 0 };
  private lastRunEndedAt = Number.NEGATIVE_INFINITY;
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
    if (rows.length === 0) return Promise.resolve({ probabilities: [], batchSize: 0, queuedMs: 0, runMs: 0 });
    // Unbatched requests start at once and wait inside onnxruntime instead: they count against the bound too.
    const waiting = this.queuedRows + (this.settings.enabled ? 0 : this.inFlightRows);
    if (waiting + rows.length > this.settings.maxQueueSize) {
      this.counters.rejected++;
      const retryAfter = Math.max(1, Math.ceil(((waiting / this.settings.maxBatchSize) * this.meanRunSeconds) / this.concurrency));
      return Promise.reject(
        new AnvilError(ErrorCodes.RATE_LIMITED, `the deployment's queue is full (${waiting} rows waiting, maxQueueSize ${this.settings.maxQueueSize}); retry after ${retryAfter} s`, {
          details: { retryAfterSeconds: retryAfter, queued: waiting, maxQueueSize: this.settings.maxQueueSize },
        }),
      );
    }
    return new Promise<BatchResult>((resolve, reject) => {
      const pending: Pending = { rows, out: new Array<Float32Array>(rows.length), taken: 0, done: 0, batchSize: 0, submittedAt: performance.now(), queuedMs: 0, runMs: 0, settled: false, resolve, reject, timer: undefined };
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
    if (error === undefined) pending.resolve({ probabilities: pending.out, batchSize: pending.batchSize, queuedMs: pending.queuedMs, runMs: pending.runMs });
    else pending.reject(error);
  }

  /** Unbatched, every request runs at once on its own (the queue bound still holds): serialising them would only add event-loop turns. */
  private get runLimit(): number {
    return this.settings.enabled ? this.concurrency : this.settings.maxQueueSize;
  }

  private schedule(): void {
    if (this.queue.length === 0 || this.inFlight >= this.runLimit) return;
    const batchSize = this.settings.enabled ? this.settings.maxBatchSize : 1;
    const delayMs = this.settings.maxQueueDelayMicros / 1000;
    const now = performance.now();
    // Idle: the only request, no run in flight, none just ended: nobody to wait for.
    const idle = this.inFlight === 0 && this.queue.length === 1 && now - this.lastRunEndedAt >= delayMs;
    if (!this.settings.enabled || this.queuedRows >= batchSize || idle) {
      this.clearScheduled();
      this.startRun();
      return;
    }
    if (this.scheduled) return;
    const fire = () => {
      this.scheduled = undefined;
      if (this.inFlight < this.runLimit) this.startRun();
    };
    // Wait out the delay from whichever is later: the oldest row's arrival or the last run's end.
    const oldest = (this.queue[0] as Pending).submittedAt;
    const waitMs = Math.max(0, Math.max(oldest, this.lastRunEndedAt) + delayMs - now);
    // Timers are whole milliseconds: a wait under 1 ms ends with the current turn of the event loop.
    this.scheduled = waitMs < 1 ? setImmediate(fire) : setTimeout(fire, waitMs);
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
    this.inFlightRows += size;
    this.counters.runs++;
    this.counters.rows += size;
    const started = performance.now();
    for (const part of parts) part.pending.queuedMs = started - part.pending.submittedAt;
    void this.runRows(rows).then(
      (probabilities) => {
        const ran = performance.now() - started;
        this.lastRunEndedAt = performance.now();
        this.meanRunSeconds = this.meanRunSeconds * 0.9 + (ran / 1000) * 0.1;
        this.inFlightRows -= size;
        let at = 0;
        for (const part of parts) {
          part.pending.runMs = Math.max(part.pending.runMs, ran);
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
        this.lastRunEndedAt = performance.now();
        this.inFlightRows -= size;
        for (const part of parts) this.settle(part.pending, error);
        this.finishRun();
      },
    );
    if (this.inFlight < this.runLimit) this.schedule();
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
