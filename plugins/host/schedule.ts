import type { Logger } from '../../server/log.ts';

export interface ScheduleOptions {
  name: string;
  intervalMs: number;
  work: (signal: AbortSignal) => Promise<void> | void;
  log: Logger;
}

export interface Schedule {
  start(): void;
  /** Runs the work once now (after a run in progress ends), outside the timer; rejects with what it throws. */
  runNow(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A plugin's periodic work (`ctx.every`): one run at a time, the next one `intervalMs` after the
 * previous ended, errors logged and the schedule kept. `stop` aborts the signal and waits for a
 * run in progress.
 */
export function schedule(options: ScheduleOptions): Schedule {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const runOnce = async (): Promise<void> => {
    while (running) await running;
    const run = Promise.resolve().then(() => options.work(controller.signal));
    running = run.then(
      () => undefined,
      () => undefined,
    );
    try {
      await run;
    } finally {
      running = undefined;
    }
  };
  const tick = () => {
    timer = undefined;
    runOnce()
      .catch((error: unknown) => options.log.warn({ err: error }, 'scheduled work failed'))
      .finally(() => {
        if (!controller.signal.aborted) timer = setTimeout(tick, options.intervalMs).unref();
      });
  };
  return {
    start() {
      // Unref'd: a schedule never keeps a process alive on its own (a server that failed to start).
      if (!controller.signal.aborted && timer === undefined && running === undefined) timer = setTimeout(tick, options.intervalMs).unref();
    },
    runNow: runOnce,
    async stop() {
      controller.abort();
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
