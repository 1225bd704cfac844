/**
 * The plumbing of a long-lived Server-Sent Events route, shared by the jobs plugin's `GET /events`
 * and the dashboard's `GET /ui/api/events` (two plugins, so it lives here rather than in either).
 * A stream is a serial loop (`SseLoop.run`) that sleeps until woken; `serveSse` runs it with a
 * comment heartbeat (so proxies keep an idle stream open), stops it on a client abort, keeps it in
 * the route's `open` set while it runs (for `closeStreams` at shutdown), and ends a failed run with
 * one last event the route chooses.
 */
import type { Context, Env } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';

/** One open stream: `run` writes events until it is done or stopped; whatever it waits for calls `wakeUp`. */
export abstract class SseLoop {
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(protected readonly stream: SSEStreamingApi) {}

  /** Stopped (shutdown), or the client went away. */
  get isStopped(): boolean {
    return this.stopped || this.stream.aborted || this.stream.closed;
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  abstract run(): Promise<void>;

  /** Ends a `sleep` now (a change to send arrived); a no-op while the loop is busy, which then sees the change itself. */
  protected wakeUp(): void {
    this.wake?.();
  }

  /** Waits for `wakeUp` or `stop`, or `ms` when given. */
  protected async sleep(ms?: number): Promise<void> {
    if (this.isStopped) return;
    await new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(resolve, Math.max(0, ms));
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }

  /** Writes one event, unless the stream has stopped. */
  protected async send(event: string, data: unknown): Promise<void> {
    if (this.isStopped) return;
    await this.stream.writeSSE({ event, data: JSON.stringify(data) });
  }
}

export interface ServeSseOptions<L extends SseLoop> {
  /** Makes the stream's loop once the response has started. */
  loop(stream: SSEStreamingApi): L;
  /** The route's open loops: the loop is in it while it runs. */
  open: Set<L>;
  heartbeatMs: number;
  /** The last event written when `run` throws and the stream is still open. */
  failure(error: unknown): { event: string; data: unknown };
  /** An error of the streaming itself (Hono's `onError`). */
  onError(error: Error): void;
}

export function serveSse<E extends Env, L extends SseLoop>(c: Context<E>, options: ServeSseOptions<L>): Response {
  return streamSSE(
    c,
    async (stream) => {
      const loop = options.loop(stream);
      options.open.add(loop);
      const heartbeat = setInterval(() => {
        if (!loop.isStopped) void stream.write(': heartbeat\n\n').catch(() => loop.stop());
      }, options.heartbeatMs);
      const abort = () => loop.stop();
      stream.onAbort(abort);
      c.req.raw.signal.addEventListener('abort', abort, { once: true });
      try {
        await loop.run();
      } catch (error) {
        const last = options.failure(error);
        if (!loop.isStopped) await stream.writeSSE({ event: last.event, data: JSON.stringify(last.data) }).catch(() => {});
      } finally {
        clearInterval(heartbeat);
        options.open.delete(loop);
        c.req.raw.signal.removeEventListener('abort', abort);
      }
    },
    async (error) => {
      options.onError(error);
    },
  );
}
