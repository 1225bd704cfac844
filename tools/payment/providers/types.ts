/**
 * What a payment provider plugin gives the payments plugin through the `paymentProviders`
 * extension point (narrowed here by declaration merging). Providers speak in snapshots: every
 * answer and every event carries the provider's whole view of one payment with its sequence
 * number, so applying them in sequence order never moves a payment backwards.
 */
export interface ProviderRefund {
  providerRefundId: string;
  /** The refund id Anvil gave. */
  reference: string;
  amount: string;
  status: 'succeeded' | 'failed';
}

export interface ProviderPayment {
  providerPaymentId: string;
  /** The connector (acquirer) that handled it. */
  connector: string;
  status: 'requires_action' | 'authorized' | 'declined' | 'captured' | 'partially_refunded' | 'refunded' | 'canceled';
  decline: { code: string; soft: boolean } | null;
  amount: string;
  currency: string;
  amountAuthorized: string;
  amountCaptured: string;
  amountRefunded: string;
  fee: string;
  refunds: ProviderRefund[];
  sequence: number;
  /** The idempotency key the authorization was sent with (Anvil's attempt key). */
  idempotencyKey: string;
}

export interface ProviderEvent {
  id: string;
  type: string;
  sequence: number;
  payment: ProviderPayment;
}

export interface ConnectorInfo {
  name: string;
  fee: { fixed: number; bps: number };
}

/**
 * Thrown (as `cause` of an UPSTREAM_FAILED error) when the provider's answer is unknown: a timeout
 * or a 5xx. The payment may or may not have happened; it is resolved later by key, never retried
 * elsewhere.
 */
export interface AuthorizeRequest {
  connector: string;
  token: string;
  amount: string;
  currency: string;
  capture: boolean;
  idempotencyKey: string;
  reference: string;
}

export interface PaymentProvider {
  readonly description?: string;
  connectors(): Promise<ConnectorInfo[]>;
  authorize(request: AuthorizeRequest): Promise<ProviderPayment>;
  capture(providerPaymentId: string, amount: string, idempotencyKey: string): Promise<ProviderPayment>;
  refund(providerPaymentId: string, amount: string, reference: string, idempotencyKey: string): Promise<ProviderPayment>;
  cancel(providerPaymentId: string, idempotencyKey: string): Promise<ProviderPayment>;
  retrieve(providerPaymentId: string): Promise<ProviderPayment>;
  /** The payment an authorization with this idempotency key made, or null if none was made. */
  findByIdempotencyKey(idempotencyKey: string): Promise<ProviderPayment | null>;
  /** Events after a cursor (polling; webhooks are the push side of the same events). */
  events(after: string | null): Promise<{ events: ProviderEvent[]; cursor: string | null }>;
  /** Verifies a webhook's signature and parses it; throws ANVIL_E_INVALID_INPUT when it is not genuine. */
  verifyWebhook(headers: Headers, rawBody: string): ProviderEvent;
  /** Everything the provider holds, for reconciliation. */
  report(): Promise<ProviderPayment[]>;
}

declare module '../../../plugins/sdk/types.ts' {
  // Narrows the extension point: every `paymentProviders` entry is a PaymentProvider.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface PaymentProviderExtension extends PaymentProvider {}
}
