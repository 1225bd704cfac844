import { errorMessage } from '../errors.ts';
import type { Runtime } from '../runtime.ts';

type Check = 'ok' | 'fail';

async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function check(name: string, runtime: Runtime, work: () => Promise<unknown>): Promise<Check> {
  try {
    await within(work(), 2_000);
    return 'ok';
  } catch (error) {
    // The reason goes to the log, not to this unauthenticated endpoint.
    runtime.log.warn({ check: name, err: errorMessage(error) }, 'readiness check failed');
    return 'fail';
  }
}

/** Ready when storage and queue both answer and the server is not draining. */
export async function readiness(runtime: Runtime): Promise<{ status: 'ready' | 'unready' | 'draining'; checks: { storage: Check; queue: Check } }> {
  const [storage, queue] = await Promise.all([
    check('storage', runtime, () => runtime.services.storage.ping()),
    check('queue', runtime, () => runtime.services.queue.health()),
  ]);
  const status = runtime.lifecycle.isDraining ? 'draining' : storage === 'ok' && queue === 'ok' ? 'ready' : 'unready';
  return { status, checks: { storage, queue } };
}
