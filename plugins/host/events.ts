import { randomUUID } from 'node:crypto';
import type { Logger } from '../../server/log.ts';
import type { AnvilEvent, EventPattern } from '../sdk/types.ts';

interface Subscription {
  pattern: EventPattern;
  pluginId: string;
  listener: (event: AnvilEvent) => void | Promise<void>;
}

export function matchesPattern(pattern: EventPattern, type: string): boolean {
  if (pattern === '*' || pattern === type) return true;
  return pattern.endsWith('*') && type.startsWith(pattern.slice(0, -1));
}

/**
 * In-process event bus between plugins. Listeners run after the emitter has moved on, one failing
 * listener never affects another or the emitter, and every failure is logged with its plugin.
 */
export class EventBus {
  private readonly subscriptions: Subscription[] = [];

  constructor(private readonly log: Logger) {}

  subscribe(pluginId: string, pattern: EventPattern, listener: Subscription['listener']): void {
    this.subscriptions.push({ pluginId, pattern, listener });
  }

  emit(type: string, payload: Record<string, unknown>, project?: string): AnvilEvent {
    const event: AnvilEvent = { type, id: randomUUID(), at: new Date().toISOString(), ...(project ? { project } : {}), payload };
    for (const subscription of this.subscriptions) {
      if (!matchesPattern(subscription.pattern, type)) continue;
      queueMicrotask(() => {
        Promise.resolve()
          .then(() => subscription.listener(event))
          .catch((error: unknown) => this.log.error({ err: error, plugin: subscription.pluginId, event: type }, 'event listener failed'));
      });
    }
    return event;
  }

  /** Drops the listeners of plugins that are being left out. */
  remove(pluginId: string): void {
    for (let index = this.subscriptions.length - 1; index >= 0; index -= 1) {
      if (this.subscriptions[index]?.pluginId === pluginId) this.subscriptions.splice(index, 1);
    }
  }
}
