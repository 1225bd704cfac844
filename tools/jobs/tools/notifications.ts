/**
 * Resource-updated notifications for the job resources: every job change on the control bus becomes
 * `resourceUpdated(uri)` on the runtime's ResourceNotifier (which the transports deliver to clients
 * that subscribed), throttled per URI: the first change goes out at once, later ones within 250 ms
 * are folded into one sent when the window ends.
 */
import type { ControlMessage } from '../../../contracts/wire.ts';
import type { JobsRuntime } from '../runtime.ts';
import { jobLogsUri, jobMetricsUri, jobUri } from './resources.ts';

export const NOTIFY_THROTTLE_MS = 250;

/** URIs a bus message changes. */
export function urisFor(message: ControlMessage): string[] {
  if (message.type !== 'job') return [];
  switch (message.kind) {
    case 'logs':
      return [jobLogsUri(message.jobId)];
    case 'metrics':
      return [jobMetricsUri(message.jobId)];
    default:
      return [jobUri(message.jobId)];
  }
}

/** Calls `emit` at most once per `windowMs` per key, never dropping the last call of a burst. */
export function perKeyThrottle(emit: (key: string) => void, windowMs: number): { push(key: string): void; stop(): void } {
  const windows = new Map<string, { timer: NodeJS.Timeout; pending: boolean }>();
  const open = (key: string) => {
    const timer = setTimeout(() => {
      const entry = windows.get(key);
      windows.delete(key);
      if (entry?.pending) {
        emit(key);
        open(key);
      }
    }, windowMs);
    timer.unref();
    windows.set(key, { timer, pending: false });
  };
  return {
    push(key) {
      const entry = windows.get(key);
      if (entry) {
        entry.pending = true;
        return;
      }
      emit(key);
      open(key);
    },
    stop() {
      for (const entry of windows.values()) clearTimeout(entry.timer);
      windows.clear();
    },
  };
}

const started = new WeakMap<JobsRuntime, () => void>();

/**
 * Starts turning bus messages into resource-updated notifications; returns the stop function.
 * Idempotent per runtime: a second call returns the first call's stop function.
 */
export function startNotifications(jobs: JobsRuntime, windowMs = NOTIFY_THROTTLE_MS): () => void {
  const existing = started.get(jobs);
  if (existing) return existing;
  const throttle = perKeyThrottle((uri) => jobs.resources.resourceUpdated(uri), windowMs);
  const unsubscribe = jobs.bus.subscribe((message) => {
    for (const uri of urisFor(message)) throttle.push(uri);
  });
  const stop = () => {
    unsubscribe();
    throttle.stop();
    started.delete(jobs);
  };
  started.set(jobs, stop);
  return stop;
}

/** The host event a job change becomes: `jobs.changed` in the job's project (see docs/jobs.md). */
export const JOB_CHANGED_EVENT = 'changed';

/**
 * Re-emits job changes from the control bus as `jobs.changed` host events ({jobId, kind}) in the
 * job's project, so other plugins (the dashboard's live log stream) can follow jobs through the
 * public event API. Throttled per job and kind like the resource notifications: a chatty log is at
 * most one event per window. Returns the stop function.
 */
export function startHostEvents(jobs: JobsRuntime, emit: (name: string, payload: Record<string, unknown>, project: string) => void, windowMs = NOTIFY_THROTTLE_MS): () => void {
  const throttle = perKeyThrottle((key) => {
    const [project, jobId, kind] = key.split('\n') as [string, string, string];
    emit(JOB_CHANGED_EVENT, { jobId, kind }, project);
  }, windowMs);
  const unsubscribe = jobs.bus.subscribe((message) => {
    if (message.type !== 'job') return;
    const kind = message.kind === 'artifact' ? 'state' : message.kind;
    throttle.push(`${message.project}\n${message.jobId}\n${kind}`);
  });
  return () => {
    unsubscribe();
    throttle.stop();
  };
}
