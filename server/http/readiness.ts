import type { Runtime } from '../runtime.ts';

type Check = 'ok' | 'fail';

/** Ready when storage and queue both answer and the server is not draining. */
export async function readiness(runtime: Runtime): Promise<{ status: 'ready' | 'unready' | 'draining'; checks: { storage: Check; queue: Check } }> {
  const health = await runtime.services.health.snapshot();
  for (const [check, result] of [['storage', health.storage], ['queue', health.queue]] as const) {
    // The reason goes to the log, not to this unauthenticated endpoint.
    if (!result.ok) runtime.log.warn({ check, err: result.error }, 'readiness check failed');
  }
  const storage: Check = health.storage.ok ? 'ok' : 'fail';
  const queue: Check = health.queue.ok ? 'ok' : 'fail';
  const status = runtime.lifecycle.isDraining ? 'draining' : storage === 'ok' && queue === 'ok' ? 'ready' : 'unready';
  return { status, checks: { storage, queue } };
}
