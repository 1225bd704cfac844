/** The sandbox provider network's wire format, shared by the simulator and Anvil's sandbox provider. */

export interface PspRefund {
  id: string;
  /** The caller's refund id. */
  reference: string;
  amount: string;
  status: 'succeeded';
}

/** A payment as the provider sees it: every answer and every event carries the whole of it. */
export interface PspPayment {
  id: string;
  object: 'payment';
  reference: string;
  idempotency_key: string;
  acquirer: string;
  amount: string;
  currency: string;
  status: 'requires_action' | 'authorized' | 'declined' | 'captured' | 'partially_refunded' | 'refunded' | 'canceled';
  decline: { code: string; soft: boolean } | null;
  amount_authorized: string;
  amount_captured: string;
  amount_refunded: string;
  fee: string;
  refunds: PspRefund[];
  /** Increases by one with every change of this payment; events carry the value after the change. */
  sequence: number;
  last4: string;
  capture: boolean;
}

export interface PspEvent {
  id: string;
  /** Position in the provider's global event log (for `GET /v1/events?after=`). */
  number: number;
  type: string;
  /** The payment's sequence after this event. */
  sequence: number;
  created: number;
  data: PspPayment;
}
