/** Every connector (provider/acquirer) the configured providers offer, cached briefly. */
import type { Logger } from 'anvil/plugin';
import type { ConnectorInfo, PaymentProvider } from '../providers/types.ts';

export interface Connector extends ConnectorInfo {
  provider: string;
  /** `provider/connector`, the name routing rules and decisions use. */
  id: string;
}

export class ConnectorDirectory {
  private cached: { at: number; connectors: Connector[] } | undefined;
  constructor(
    private readonly providers: () => ReadonlyMap<string, PaymentProvider>,
    private readonly log: Logger,
    private readonly ttlMs = 30_000,
  ) {}

  async all(): Promise<Connector[]> {
    if (this.cached && Date.now() - this.cached.at < this.ttlMs) return this.cached.connectors;
    const connectors: Connector[] = [];
    for (const [provider, client] of this.providers()) {
      try {
        for (const info of await client.connectors()) connectors.push({ ...info, provider, id: `${provider}/${info.name}` });
      } catch (error) {
        this.log.warn({ err: error, provider }, 'could not list the connectors of a payment provider');
      }
    }
    if (connectors.length > 0) this.cached = { at: Date.now(), connectors };
    return connectors;
  }
}
