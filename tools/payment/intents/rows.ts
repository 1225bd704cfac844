/** Intent, attempt and refund rows as SQL returns them, and the public intent shape. */

export const INTENT_STATUSES = ['requires_confirmation', 'processing', 'requires_action', 'requires_capture', 'succeeded', 'failed', 'canceled'] as const;
export type IntentStatus = (typeof INTENT_STATUSES)[number];

export interface IntentRow extends Record<string, unknown> {
  id: string;
  project: string;
  amount: string;
  currency: string;
  payee: string;
  method: { type: 'card'; token: string };
  capture_method: 'automatic' | 'manual';
  country: string | null;
  merchant_category: string | null;
  mandate_id: string | null;
  status: IntentStatus;
  provider: string | null;
  connector: string | null;
  provider_payment_id: string | null;
  provider_sequence: number;
  amount_authorized: string;
  amount_captured: string;
  amount_refunded: string;
  refund_reserved: string;
  capture_requested: string | null;
  fee: string;
  decline_code: string | null;
  risk: Record<string, unknown> | null;
  preview_hash: string | null;
  idempotency_key: string;
  request_hash: string;
  metadata: Record<string, unknown>;
  created_by: string;
  created_at: Date | string;
  updated_at: Date | string;
}

export interface AttemptRow extends Record<string, unknown> {
  id: string;
  intent_id: string;
  project: string;
  number: number;
  provider: string;
  connector: string;
  idempotency_key: string;
  status: string;
  decline_code: string | null;
  soft_decline: boolean | null;
  provider_payment_id: string | null;
}

export interface RefundRow extends Record<string, unknown> {
  id: string;
  intent_id: string;
  project: string;
  amount: string;
  status: 'pending' | 'succeeded' | 'failed';
  provider_refund_id: string | null;
  reason: string | null;
  idempotency_key: string;
  request_hash: string;
  created_at: Date | string;
}

function iso(value: Date | string): string {
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}

export interface Intent {
  id: string;
  status: IntentStatus;
  amount: string;
  currency: string;
  payee: string;
  method: { type: 'card'; token: string };
  captureMethod: 'automatic' | 'manual';
  country: string | null;
  merchantCategory: string | null;
  mandateId: string | null;
  provider: string | null;
  connector: string | null;
  providerPaymentId: string | null;
  amountAuthorized: string;
  amountCaptured: string;
  amountRefunded: string;
  fee: string;
  declineCode: string | null;
  risk: Record<string, unknown> | null;
  idempotencyKey: string;
  metadata: Record<string, unknown>;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export function toIntent(row: IntentRow): Intent {
  return {
    id: row.id,
    status: row.status,
    amount: String(row.amount),
    currency: row.currency,
    payee: row.payee,
    method: row.method,
    captureMethod: row.capture_method,
    country: row.country,
    merchantCategory: row.merchant_category,
    mandateId: row.mandate_id,
    provider: row.provider,
    connector: row.connector,
    providerPaymentId: row.provider_payment_id,
    amountAuthorized: String(row.amount_authorized),
    amountCaptured: String(row.amount_captured),
    amountRefunded: String(row.amount_refunded),
    fee: String(row.fee),
    declineCode: row.decline_code,
    risk: row.risk,
    idempotencyKey: row.idempotency_key,
    metadata: row.metadata,
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export interface Refund {
  id: string;
  intentId: string;
  amount: string;
  status: RefundRow['status'];
  providerRefundId: string | null;
  reason: string | null;
  idempotencyKey: string;
  createdAt: string;
}

export function toRefund(row: RefundRow): Refund {
  return {
    id: row.id,
    intentId: row.intent_id,
    amount: String(row.amount),
    status: row.status,
    providerRefundId: row.provider_refund_id,
    reason: row.reason,
    idempotencyKey: row.idempotency_key,
    createdAt: iso(row.created_at),
  };
}
