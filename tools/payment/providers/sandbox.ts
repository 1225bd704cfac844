/**
 * Anvil's client for the sandbox provider network (`anvil sandbox-psp`): HTTP with a bearer key,
 * idempotency keys on every write, a timeout on every call, HMAC-verified webhooks.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AnvilError, ErrorCodes } from 'anvil/plugin';
import type { PspEvent, PspPayment } from '../sandbox/wire.ts';
import type { AuthorizeRequest, ConnectorInfo, PaymentProvider, ProviderEvent, ProviderPayment } from './types.ts';

export interface SandboxProviderConfig {
  url: string;
  apiKey: string;
  webhookSecret: string;
  /** Per call (default 3000 ms); an answer later than this is an unknown outcome. */
  timeoutMs?: number;
  /** Webhooks older than this are refused as replays (default 300 s). */
  toleranceSeconds?: number;
}

/** The provider's answer never came (timeout, network) or was a 5xx: the outcome is unknown. */
export function unknownOutcome(message: string, cause?: unknown): AnvilError {
  return new AnvilError(ErrorCodes.UPSTREAM_FAILED, message, { details: { reason: 'provider_outcome_unknown' }, ...(cause === undefined ? {} : { cause }) });
}

function toPayment(payment: PspPayment): ProviderPayment {
  return {
    providerPaymentId: payment.id,
    connector: payment.acquirer,
    status: payment.status,
    decline: payment.decline,
    amount: payment.amount,
    currency: payment.currency,
    amountAuthorized: payment.amount_authorized,
    amountCaptured: payment.amount_captured,
    amountRefunded: payment.amount_refunded,
    fee: payment.fee,
    refunds: payment.refunds.map((refund) => ({ providerRefundId: refund.id, reference: refund.reference, amount: refund.amount, status: refund.status })),
    sequence: payment.sequence,
    idempotencyKey: payment.idempotency_key,
  };
}

function toEvent(event: PspEvent): ProviderEvent {
  return { id: event.id, type: event.type, sequence: event.sequence, payment: toPayment(event.data) };
}

export class SandboxProvider implements PaymentProvider {
  readonly description = 'Sandbox provider network (anvil sandbox-psp): simulated acquirers with seeded faults';
  constructor(private readonly config: SandboxProviderConfig) {}

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown, idempotencyKey?: string): Promise<{ status: number; json: T }> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.config.url), {
        method,
        headers: {
          authorization: `Bearer ${this.config.apiKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.config.timeoutMs ?? 3_000),
      });
    } catch (error) {
      throw unknownOutcome(`The sandbox provider did not answer ${method} ${path} in time`, error);
    }
    if (response.status >= 500) throw unknownOutcome(`The sandbox provider answered ${response.status} to ${method} ${path}`);
    const json = (await response.json().catch(() => ({}))) as T;
    return { status: response.status, json };
  }

  private async expectPayment(method: 'GET' | 'POST', path: string, body?: unknown, key?: string): Promise<ProviderPayment> {
    const { status, json } = await this.call<PspPayment & { error?: { code: string; message: string } }>(method, path, body, key);
    if (status !== 200) {
      const code = status === 404 ? ErrorCodes.NOT_FOUND : status === 409 ? ErrorCodes.CONFLICT : ErrorCodes.UPSTREAM_FAILED;
      throw new AnvilError(code, `The sandbox provider refused ${method} ${path}: ${json.error?.message ?? status}`, { details: { reason: json.error?.code ?? `http_${status}` } });
    }
    return toPayment(json);
  }

  async connectors(): Promise<ConnectorInfo[]> {
    const { json } = await this.call<{ acquirers: ConnectorInfo[] }>('GET', '/v1/acquirers');
    return json.acquirers;
  }

  authorize(request: AuthorizeRequest): Promise<ProviderPayment> {
    return this.expectPayment(
      'POST',
      '/v1/payments',
      { token: request.token, amount: request.amount, currency: request.currency, acquirer: request.connector, capture: request.capture, reference: request.reference },
      request.idempotencyKey,
    );
  }

  capture(id: string, amount: string, key: string): Promise<ProviderPayment> {
    return this.expectPayment('POST', `/v1/payments/${encodeURIComponent(id)}/capture`, { amount }, key);
  }

  refund(id: string, amount: string, reference: string, key: string): Promise<ProviderPayment> {
    return this.expectPayment('POST', `/v1/payments/${encodeURIComponent(id)}/refunds`, { amount, reference }, key);
  }

  cancel(id: string, key: string): Promise<ProviderPayment> {
    return this.expectPayment('POST', `/v1/payments/${encodeURIComponent(id)}/cancel`, {}, key);
  }

  retrieve(id: string): Promise<ProviderPayment> {
    return this.expectPayment('GET', `/v1/payments/${encodeURIComponent(id)}`);
  }

  async findByIdempotencyKey(key: string): Promise<ProviderPayment | null> {
    const { status, json } = await this.call<PspPayment>('GET', `/v1/payments?idempotency_key=${encodeURIComponent(key)}`);
    return status === 200 ? toPayment(json) : null;
  }

  async events(after: string | null): Promise<{ events: ProviderEvent[]; cursor: string | null }> {
    const { json } = await this.call<{ events: PspEvent[]; last: number }>('GET', `/v1/events?after=${encodeURIComponent(after ?? '0')}&limit=200`);
    return { events: json.events.map(toEvent), cursor: String(json.last) };
  }

  verifyWebhook(headers: Headers, rawBody: string): ProviderEvent {
    const header = headers.get('psp-signature') ?? '';
    const parts = new Map(header.split(',').map((part) => part.split('=', 2) as [string, string]));
    const timestamp = Number(parts.get('t'));
    const given = parts.get('v1') ?? '';
    const refuse = (why: string) => new AnvilError(ErrorCodes.INVALID_INPUT, `webhook refused: ${why}`, { details: { reason: 'webhook_signature_invalid' } });
    if (!Number.isInteger(timestamp) || !/^[0-9a-f]{64}$/.test(given)) throw refuse('missing or malformed psp-signature header');
    if (Math.abs(Date.now() / 1000 - timestamp) > (this.config.toleranceSeconds ?? 300)) throw refuse('timestamp outside the tolerance (a replay?)');
    const expected = createHmac('sha256', this.config.webhookSecret).update(`${timestamp}.${rawBody}`).digest();
    if (!timingSafeEqual(expected, Buffer.from(given, 'hex'))) throw refuse('signature does not match');
    let event: PspEvent;
    try {
      event = JSON.parse(rawBody) as PspEvent;
    } catch {
      throw refuse('body is not JSON');
    }
    return toEvent(event);
  }

  async report(): Promise<ProviderPayment[]> {
    const { json } = await this.call<{ payments: PspPayment[] }>('GET', '/v1/report');
    return json.payments.map(toPayment);
  }
}
