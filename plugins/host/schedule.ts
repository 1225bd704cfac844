import type { Logger } from '../../server/log.ts';

export interface ScheduleOptions {
  name: string;
  intervalMs: number;
  work: (signal: AbortSignal) => Promise<void> | void;
  log: Logger;
}

/**
 * A plugin's periodic work (`ctx.every`): one run at a time, the next one `intervalMs` after the
 * previous ended, errors logged and the schedule kept. `stop` aborts the signal and waits for a
 * run in progress.
 */
export function schedule(options: ScheduleOptions): { start(): void; stop(): Promise<void> } {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const tick = () => {
    running = Promise.resolve()
      .then(() => options.work(controller.signal))
      .catch((error: unknown) => options.log.warn({ err: error }, 'scheduled work failed'))
      .finally(() => {
        running = undefined;
        if (!controller.signal.aborted) timer = setTimeout(tick, options.intervalMs);
      });
  };
  return {
    start() {
      if (!controller.signal.aborted && timer === undefined && running === undefined) timer = setTimeout(tick, options.intervalMs);
    },
    async stop() {
      controller.abort();
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
