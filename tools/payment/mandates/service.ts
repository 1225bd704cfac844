/**
 * Mandates: a person (payments:admin) lets a grantee principal pay within limits — per payment,
 * per period, payees, merchant categories, until an expiry, with approval above an amount. A
 * principal that holds an active mandate can only pay under one. The period cap is reserved
 * atomically when a payment is confirmed and released if the payment fails or is canceled.
 */
import { randomUUID } from 'node:crypto';
import { AnvilError, ErrorCodes, type PluginSql } from 'anvil/plugin';
import { decodeCreatedCursor, encodeCreatedCursor } from '../cursor.ts';
import { requestHash } from '../canonical.ts';
import { parseAmount, parseCurrency } from '../money.ts';
import { loadSql } from '../sql.ts';

const sql = (name: string) => loadSql(import.meta.url, `./sql/${name}.sql`);
const SQL = {
  insert: sql('mandate-insert'),
  byKey: sql('mandate-by-key'),
  get: sql('mandate-get'),
  list: sql('mandates-list'),
  ofGrantee: sql('mandates-of-grantee'),
  revoke: sql('mandate-revoke'),
  usageEnsure: sql('usage-ensure'),
  usageReserve: sql('usage-reserve'),
  chargeInsert: sql('charge-insert'),
  chargeRelease: sql('charge-release'),
  chargesToRelease: sql('charges-to-release'),
} as const;

export const PERIODS = ['day', 'week', 'month', 'total'] as const;

export interface MandateInput {
  grantee: string;
  currency: string;
  maxPerPayment: string;
  maxPerPeriod: string;
  period: (typeof PERIODS)[number];
  payees?: string[];
  categories?: string[];
  expiresAt: string;
  approvalAbove?: string;
  idempotencyKey: string;
}

interface MandateRow extends Record<string, unknown> {
  id: string;
  project: string;
  grantee: string;
  currency: string;
  max_per_payment: string;
  max_per_period: string;
  period: (typeof PERIODS)[number];
  payees: string[] | null;
  categories: string[] | null;
  approval_above: string | null;
  expires_at: Date | string;
  state: 'active' | 'revoked';
  request_hash: string;
  created_by: string;
  created_at: Date | string;
  used_this_period?: string;
  expired?: boolean;
  current_period?: Date | string;
}

export interface Mandate {
  id: string;
  grantee: string;
  currency: string;
  maxPerPayment: string;
  maxPerPeriod: string;
  period: (typeof PERIODS)[number];
  payees: string[] | null;
  categories: string[] | null;
  approvalAbove: string | null;
  expiresAt: string;
  state: 'active' | 'revoked' | 'expired';
  usedThisPeriod: string;
  createdBy: string;
  createdAt: string;
}

const iso = (value: Date | string) => (value instanceof Date ? value.toISOString() : new Date(value).toISOString());

function toMandate(row: MandateRow): Mandate {
  return {
    id: row.id,
    grantee: row.grantee,
    currency: row.currency,
    maxPerPayment: String(row.max_per_payment),
    maxPerPeriod: String(row.max_per_period),
    period: row.period,
    payees: row.payees,
    categories: row.categories,
    approvalAbove: row.approval_above === null ? null : String(row.approval_above),
    expiresAt: iso(row.expires_at),
    state: row.state === 'active' && row.expired ? 'expired' : row.state,
    usedThisPeriod: row.used_this_period ?? '0',
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
  };
}

function refused(message: string, reason: string, field = 'mandate'): AnvilError {
  return new AnvilError(ErrorCodes.FORBIDDEN, `${field}: ${message}`, { details: { field, reason } });
}

export class MandateService {
  constructor(private readonly sql: PluginSql) {}

  async create(project: string, input: MandateInput, by: string): Promise<{ mandate: Mandate; created: boolean }> {
    const currency = parseCurrency(input.currency);
    const perPayment = parseAmount(input.maxPerPayment, currency, 'maxPerPayment');
    const perPeriod = parseAmount(input.maxPerPeriod, currency, 'maxPerPeriod');
    const approvalAbove = input.approvalAbove === undefined ? null : parseAmount(input.approvalAbove, currency, 'approvalAbove', { allowZero: true });
    if (perPayment > perPeriod) throw new AnvilError(ErrorCodes.INVALID_INPUT, 'maxPerPayment: cannot exceed maxPerPeriod', { details: { field: 'maxPerPayment' } });
    const expires = Date.parse(input.expiresAt);
    if (Number.isNaN(expires) || expires <= Date.now()) throw new AnvilError(ErrorCodes.INVALID_INPUT, 'expiresAt: expected an ISO 8601 time in the future', { details: { field: 'expiresAt' } });
    const hash = requestHash({ ...input });
    const inserted = await this.sql.query<MandateRow>(SQL.insert, [
      randomUUID(), project, input.grantee, currency, perPayment.toString(), perPeriod.toString(), input.period,
      input.payees ?? null, input.categories ?? null, approvalAbove?.toString() ?? null, new Date(expires).toISOString(), input.idempotencyKey, hash, by,
    ]);
    const row = inserted.rows[0] ?? (await this.sql.query<MandateRow>(SQL.byKey, [project, input.idempotencyKey])).rows[0];
    if (!row) throw new AnvilError(ErrorCodes.INTERNAL, 'mandate neither created nor found');
    if (row.request_hash !== hash) {
      throw new AnvilError(ErrorCodes.CONFLICT, `Idempotency key "${input.idempotencyKey}" was already used for another mandate (${row.id})`, { details: { idempotencyKey: input.idempotencyKey, reason: 'idempotency_key_reused' } });
    }
    return { mandate: await this.get(project, row.id), created: inserted.rows.length > 0 };
  }

  private async row(project: string, id: string): Promise<MandateRow> {
    const row = /^[0-9a-f-]{36}$/i.test(id) ? (await this.sql.query<MandateRow>(SQL.get, [project, id])).rows[0] : undefined;
    if (!row) throw new AnvilError(ErrorCodes.NOT_FOUND, `mandate: no mandate "${id}" in this project`, { details: { field: 'mandate', reason: 'mandate_not_found' } });
    return row;
  }

  async get(project: string, id: string): Promise<Mandate> {
    return toMandate(await this.row(project, id));
  }

  /** A page of mandates, newest first; `next` resumes after its last one (null on the last page). */
  async list(project: string, filter: { grantee?: string; cursor?: string; limit: number }): Promise<{ mandates: Mandate[]; next: string | null }> {
    const { at, id } = filter.cursor ? decodeCreatedCursor(filter.cursor) : { at: null, id: null };
    const rows = (await this.sql.query<MandateRow & { created_text: string }>(SQL.list, [project, filter.grantee ?? null, at, id, filter.limit + 1])).rows;
    const page = rows.slice(0, filter.limit);
    const last = rows.length > filter.limit ? page.at(-1) : undefined;
    return { mandates: page.map(toMandate), next: last ? encodeCreatedCursor(last.created_text, last.id) : null };
  }

  async revoke(project: string, id: string): Promise<Mandate> {
    await this.row(project, id);
    await this.sql.query(SQL.revoke, [project, id]);
    return this.get(project, id);
  }

  /** The mandates a principal acts under (a principal holding any can only pay under one). */
  async activeFor(project: string, grantee: string): Promise<string[]> {
    return (await this.sql.query<{ id: string }>(SQL.ofGrantee, [project, grantee])).rows.map((row) => row.id);
  }

  /** Checks a payment against its mandate's terms (not the period cap, which confirm reserves). */
  async check(project: string, principalId: string, mandateId: string, payment: { amount: bigint; currency: string; payee: string; merchantCategory?: string }): Promise<Mandate> {
    let row: MandateRow;
    try {
      row = await this.row(project, mandateId);
    } catch {
      // Another project's mandate is reported exactly like a missing one.
      throw refused(`no mandate "${mandateId}" in this project`, 'mandate_not_found');
    }
    if (row.grantee !== principalId) throw refused(`mandate ${mandateId} was granted to another principal, not to ${principalId}`, 'mandate_foreign');
    if (row.state !== 'active') throw refused(`mandate ${mandateId} is revoked`, 'mandate_revoked');
    if (row.expired) throw refused(`mandate ${mandateId} expired at ${iso(row.expires_at)}`, 'mandate_expired');
    if (row.currency !== payment.currency) throw refused(`mandate ${mandateId} is for ${row.currency}, the payment is in ${payment.currency}`, 'mandate_currency', 'currency');
    if (payment.amount > BigInt(row.max_per_payment)) throw refused(`mandate ${mandateId} allows at most ${String(row.max_per_payment)} per payment`, 'mandate_max_per_payment', 'amount');
    if (row.payees && !row.payees.includes(payment.payee)) throw refused(`mandate ${mandateId} does not allow payee "${payment.payee}"`, 'mandate_payee', 'payee');
    if (row.categories && (!payment.merchantCategory || !row.categories.includes(payment.merchantCategory))) {
      throw refused(`mandate ${mandateId} allows merchant categories ${row.categories.join(', ')} only`, 'mandate_category', 'merchantCategory');
    }
    return toMandate(row);
  }

  /** Reserves the payment's amount against the period cap, atomically and once per payment. */
  async reserve(project: string, mandateId: string, intentId: string, amount: bigint): Promise<void> {
    const row = await this.row(project, mandateId);
    if (row.state !== 'active' || row.expired) throw refused(`mandate ${mandateId} is no longer active`, row.expired ? 'mandate_expired' : 'mandate_revoked');
    const period = iso(row.current_period as Date | string);
    await this.sql.transaction(async (tx) => {
      const charged = await tx.query(SQL.chargeInsert, [intentId, mandateId, period, amount.toString()]);
      if (charged.rowCount === 0) return; // already reserved by an earlier confirm of this payment
      await tx.query(SQL.usageEnsure, [mandateId, period]);
      const reserved = await tx.query(SQL.usageReserve, [mandateId, period, amount.toString(), String(row.max_per_period)]);
      if (reserved.rowCount === 0) {
        throw refused(`mandate ${mandateId} allows ${String(row.max_per_period)} per ${row.period}; this payment would exceed it`, 'mandate_cap_exceeded', 'amount');
      }
    });
  }

  async release(intentId: string): Promise<boolean> {
    return ((await this.sql.query(SQL.chargeRelease, [intentId])).rowCount ?? 0) > 0;
  }

  /** Releases the reservations of payments that failed or were canceled (after a crash too). */
  async releaseSettled(): Promise<number> {
    const rows = (await this.sql.query<{ intent_id: string }>(SQL.chargesToRelease)).rows;
    for (const row of rows) await this.release(row.intent_id);
    return rows.length;
  }
}
