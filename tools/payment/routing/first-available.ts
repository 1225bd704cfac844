/** The simplest router: connectors in the order the providers list them, skipping those tried. */
import type { AttemptRow, IntentRow } from '../intents/rows.ts';
import type { RouteChoice, Router } from '../intents/service.ts';
import type { ConnectorDirectory } from './connectors.ts';

export class FirstAvailableRouter implements Router {
  constructor(private readonly directory: ConnectorDirectory) {}

  async choose(_intent: IntentRow, _attempt: number, exclude: ReadonlySet<string>): Promise<RouteChoice | undefined> {
    const next = (await this.directory.all()).find((connector) => !exclude.has(connector.id));
    return next ? { provider: next.provider, connector: next.name } : undefined;
  }

  async observe(_intent: IntentRow, _attempt: AttemptRow, _outcome: 'success' | 'soft_decline' | 'hard_decline'): Promise<void> {}
}
