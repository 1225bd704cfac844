/** Ledger rows as SQL returns them, and their public shapes (amounts as strings of minor units). */

export const ACCOUNT_KINDS = ['asset', 'liability', 'revenue', 'expense'] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];
export const ACCOUNT_FLAGS = ['debits_must_not_exceed_credits', 'credits_must_not_exceed_debits'] as const;
export type AccountFlag = (typeof ACCOUNT_FLAGS)[number];
export const TRANSFER_STATES = ['posted', 'pending', 'voided', 'expired'] as const;
export const TRANSFER_KINDS = ['single', 'pending', 'post', 'void'] as const;

export function flagBits(flags: readonly AccountFlag[]): number {
  return flags.reduce((bits, flag) => bits | (flag === 'debits_must_not_exceed_credits' ? 1 : 2), 0);
}

export interface AccountRow extends Record<string, unknown> {
  id: string;
  project: string;
  code: string;
  kind: AccountKind;
  currency: string;
  flags: number;
  debits_pending: string;
  debits_posted: string;
  credits_pending: string;
  credits_posted: string;
  metadata: Record<string, unknown>;
  request_hash: string;
  created_at: Date | string;
}

export interface Account {
  id: string;
  code: string;
  kind: AccountKind;
  currency: string;
  flags: AccountFlag[];
  debitsPending: string;
  debitsPosted: string;
  creditsPending: string;
  creditsPosted: string;
  /** Posted balance in the account's normal direction: debits − credits for assets and expenses, credits − debits otherwise. */
  balance: string;
  metadata: Record<string, unknown>;
  createdAt: string;
}

function iso(value: Date | string): string {
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}

export function toAccount(row: AccountRow): Account {
  const debitNormal = row.kind === 'asset' || row.kind === 'expense';
  const net = BigInt(row.debits_posted) - BigInt(row.credits_posted);
  return {
    id: row.id,
    code: row.code,
    kind: row.kind,
    currency: row.currency,
    flags: ACCOUNT_FLAGS.filter((_flag, index) => (row.flags & (1 << index)) !== 0),
    debitsPending: String(row.debits_pending),
    debitsPosted: String(row.debits_posted),
    creditsPending: String(row.credits_pending),
    creditsPosted: String(row.credits_posted),
    balance: (debitNormal ? net : -net).toString(),
    metadata: row.metadata,
    createdAt: iso(row.created_at),
  };
}

export interface TransferRow extends Record<string, unknown> {
  id: string;
  kind: (typeof TRANSFER_KINDS)[number];
  debit_account_id: string;
  credit_account_id: string;
  debit_code: string;
  credit_code: string;
  amount: string;
  currency: string;
  state: (typeof TRANSFER_STATES)[number];
  pending_id: string | null;
  timeout_at: Date | string | null;
  idempotency_key: string;
  request_hash: string;
  metadata: Record<string, unknown>;
  created_by: string;
  created_at: Date | string;
  created_at_text?: string;
  resolved_at: Date | string | null;
}

export interface Transfer {
  id: string;
  kind: (typeof TRANSFER_KINDS)[number];
  debit: string;
  credit: string;
  amount: string;
  currency: string;
  state: (typeof TRANSFER_STATES)[number];
  pendingId: string | null;
  timeoutAt: string | null;
  idempotencyKey: string;
  metadata: Record<string, unknown>;
  createdBy: string;
  createdAt: string;
  resolvedAt: string | null;
}

export function toTransfer(row: TransferRow): Transfer {
  return {
    id: row.id,
    kind: row.kind,
    debit: row.debit_code,
    credit: row.credit_code,
    amount: String(row.amount),
    currency: row.currency,
    state: row.state,
    pendingId: row.pending_id,
    timeoutAt: row.timeout_at === null ? null : iso(row.timeout_at),
    idempotencyKey: row.idempotency_key,
    metadata: row.metadata,
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
    resolvedAt: row.resolved_at === null ? null : iso(row.resolved_at),
  };
}
