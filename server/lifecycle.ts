import { AnvilError, ErrorCodes } from './errors.ts';

/**
 * Tracks in-flight work so that shutdown can stop taking new calls, wait a bounded time for the
 * running ones, and then abort whatever is left through one signal.
 */
export class Lifecycle {
  private inflight = 0;
  private draining = false;
  private idleWaiters: Array<() => void> = [];
  private readonly abortController = new AbortController();

  /** Aborted when the grace period is over and remaining work must stop. */
  get signal(): AbortSignal {
    return this.abortController.signal;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  get inflightCount(): number {
    return this.inflight;
  }

  /** Marks one unit of work as started; call the returned function exactly once when it ends. */
  enter(): () => void {
    if (this.draining) throw new AnvilError(ErrorCodes.SHUTTING_DOWN, 'The server is shutting down; retry against another instance');
    this.inflight += 1;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.inflight -= 1;
      if (this.inflight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    };
  }

  /** Refuses new work, then resolves `true` once in-flight work ends, or `false` after `graceMs`. */
  async drain(graceMs: number): Promise<boolean> {
    this.draining = true;
    if (this.inflight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true))),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (!finished) this.abortController.abort(new AnvilError(ErrorCodes.SHUTTING_DOWN, 'Shutdown grace period exceeded'));
    return finished;
  }
}
