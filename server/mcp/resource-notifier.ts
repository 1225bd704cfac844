/**
 * Fans "resource changed" out to the transports: stdio sends `notifications/resources/updated` to a
 * client that subscribed to the URI; HTTP publishes it to `subscriptions/listen` streams. Plugins
 * call `resourceUpdated(uri)`; transports attach listeners while they run.
 */
export type ResourceListener = (uri: string) => void;

export class ResourceNotifier {
  private readonly listeners = new Set<ResourceListener>();

  /** Returns the detach function. */
  attach(listener: ResourceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  resourceUpdated(uri: string): void {
    for (const listener of this.listeners) {
      try {
        listener(uri);
      } catch {
        // A transport that cannot deliver must not break the caller's write path.
      }
    }
  }
}
