/**
 * `POST /api/payments/webhooks/:provider`: provider events pushed to Anvil. No bearer key (the
 * provider has none): the provider's signature is the credential, checked before anything is read
 * or stored. A verified event is recorded once by its id and applied in sequence order.
 */
import { AnvilError, ErrorCodes, type PluginRoute } from 'anvil/plugin';
import type { IntentService } from './intents/service.ts';
import type { PaymentProvider } from './providers/types.ts';

const MAX_BODY_BYTES = 256 * 1024;

export function webhookRoute(providers: () => ReadonlyMap<string, PaymentProvider>, intents: () => IntentService): PluginRoute {
  return {
    method: 'POST',
    path: '/api/payments/webhooks/:provider',
    public: true,
    async handler(c) {
      const name = c.req.param('provider') ?? '';
      const provider = providers().get(name);
      if (!provider) throw new AnvilError(ErrorCodes.NOT_FOUND, `No payment provider "${name.slice(0, 60)}" is configured`);
      const length = Number(c.req.header('content-length') ?? '0');
      if (length > MAX_BODY_BYTES) throw new AnvilError(ErrorCodes.INVALID_INPUT, `webhook body over ${MAX_BODY_BYTES} bytes`);
      const raw = await c.req.text();
      if (Buffer.byteLength(raw) > MAX_BODY_BYTES) throw new AnvilError(ErrorCodes.INVALID_INPUT, `webhook body over ${MAX_BODY_BYTES} bytes`);
      const event = provider.verifyWebhook(c.req.raw.headers, raw);
      const outcome = await intents().ingest(name, event, 'webhook');
      return c.json({ received: true, outcome });
    },
  };
}
