/**
 * The control channel: cancel and preemption requests reach the worker running a job on any node,
 * and job changes reach every control plane (SSE streams, MCP resource subscriptions). Redis pub/sub
 * when Redis is configured; in-process in embedded mode, where the only worker is in the process.
 * Delivery is best effort: workers also learn of stop requests from their heartbeat answers.
 */
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { ControlMessage } from '../contracts/wire.ts';

/** The channel for a cluster's queue prefix. */
export const controlChannel = (prefix: string): string => `${prefix}:jobs:control`;

export interface ControlBus {
  readonly kind: 'local' | 'redis';
  publish(message: ControlMessage): Promise<void>;
  /** Returns the unsubscribe function. */
  subscribe(listener: (message: ControlMessage) => void): () => void;
  close(): Promise<void>;
}

export function localBus(): ControlBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    kind: 'local',
    async publish(message) {
      emitter.emit('message', message);
    },
    subscribe(listener) {
      emitter.on('message', listener);
      return () => emitter.off('message', listener);
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}

function isControlMessage(value: unknown): value is ControlMessage {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return (type === 'stop' || type === 'job') && typeof (value as { jobId?: unknown }).jobId === 'string';
}

export async function redisBus(redisUrl: string, prefix: string, onError: (error: Error) => void = () => {}): Promise<ControlBus> {
  const channel = controlChannel(prefix);
  const publisher = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3, connectTimeout: 5_000 });
  const subscriber = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: null, connectTimeout: 5_000 });
  publisher.on('error', onError);
  subscriber.on('error', onError);
  await Promise.all([publisher.connect(), subscriber.connect()]);
  await subscriber.subscribe(channel);
  const local = localBus();
  subscriber.on('message', (_channel: string, raw: string) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return;
    }
    if (isControlMessage(parsed)) void local.publish(parsed);
  });
  return {
    kind: 'redis',
    async publish(message) {
      await publisher.publish(channel, JSON.stringify(message));
    },
    subscribe: (listener) => local.subscribe(listener),
    async close() {
      await local.close();
      await Promise.all([subscriber.quit().catch(() => subscriber.disconnect()), publisher.quit().catch(() => publisher.disconnect())]);
    },
  };
}
