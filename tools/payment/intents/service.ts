/**
 * Payment intents: create → confirm (route, authorize at a provider, retry a soft decline on the
 * next connector) → capture / cancel / refund, every money movement booked in the ledger.
 *
 * Whatever reaches Anvil about a payment — the provider's answer, a webhook, a polled event, a
 * lookup after a lost answer — is a snapshot with a sequence number, applied by one path
 * (`applySnapshot`): book it (idempotently) in the ledger, then move the intent, only forward.
 * A call whose answer is lost leaves the intent `processing`; `resume` later asks the provider by
 * the attempt's idempotency key and applies what it says, or sends the same request again.
 */
import { randomUUID } from 'node:crypto';
import { AnvilError, ErrorCodes, isAnvilError, type Logger, type PluginSql } from 'anvil/plugin';
import { decodeCreatedCursor, encodeCreatedCursor } from '../cursor.ts';
import { canonicalJson, requestHash } from '../canonical.ts';
import { parseAmount, parseCurrency } from '../money.ts';
import type { PaymentProvider, ProviderEvent, ProviderPayment } from '../providers/types.ts';
import { loadSql } from '../sql.ts';
import type { Booking } from './booking.ts';
import { type AttemptRow, type Intent, type IntentRow, type IntentStatus, type Refund, type RefundRow, toIntent, toRefund } from './rows.ts';

const sql = (name: string) => loadSql(import.meta.url, `./sql/${name}.sql`);
const SQL = {
  insert: sql('intent-insert'),
  byKey: sql('intent-by-key'),
  get: sql('intent-get'),
  byId: sql('intent-by-id'),
  list: sql('intents-list'),
  startProcessing: sql('intent-start-processing'),
  touch: sql('intent-touch'),
  fail: sql('intent-fail'),
  apply: sql('intent-apply'),
  nextAttempt: sql('intent-next-attempt'),
  requestCapture: sql('intent-request-capture'),
  cancelUnconfirmed: sql('intent-cancel-unconfirmed'),
  attemptInsert: sql('attempt-insert'),
  attemptsOf: sql('attempts-of'),
  attemptByKey: sql('attempt-by-key'),
  attemptUpdate: sql('attempt-update'),
  refundReserve: sql('refund-reserve'),
  refundInsert: sql('refund-insert'),
  refundByKey: sql('refund-by-key'),
  refundsOf: sql('refunds-of'),
  refundSettle: sql('refund-settle'),
  resumable: sql('resumable'),
  eventInsert: sql('event-insert'),
  eventOutcome: sql('event-outcome'),
  cursorGet: sql('cursor-get'),
  cursorSet: sql('cursor-set'),
  refundById: sql('refund-by-id'),
  eventForget: sql('event-forget'),
} as const;

export const MAX_ATTEMPTS = 3;

export interface CreateIntentInput {
  amount: string;
  currency: string;
  payee: string;
  method: { type: 'card'; token: string };
  captureMethod?: 'automatic' | 'manual';
  country?: string;
  merchantCategory?: string;
  mandateId?: string;
  idempotencyKey: string;
  metadata?: Record<string, unknown>;
}

/** One routing decision: where the next attempt goes and with what probability it was chosen. */
export interface RouteChoice {
  provider: string;
  connector: string;
}

export interface Router {
  /** Chooses a connector for `intent`, never one in `exclude`; undefined when none is left. */
  choose(intent: IntentRow, attempt: number, exclude: ReadonlySet<string>): Promise<RouteChoice | undefined>;
  /** Learns the outcome of an attempt (success-rate routing). */
  observe(intent: IntentRow, attempt: AttemptRow, outcome: 'success' | 'soft_decline' | 'hard_decline'): Promise<void>;
}

export interface IntentServiceDeps {
  sql: PluginSql;
  booking: Booking;
  providers: () => ReadonlyMap<string, PaymentProvider>;
  router: Router;
  log: Logger;
}

function conflict(message: string, details: Record<string, unknown>): AnvilError {
  return new AnvilError(ErrorCodes.CONFLICT, message, { details });
}

function isUnknownOutcome(error: unknown): boolean {
  return isAnvilError(error, ErrorCodes.UPSTREAM_FAILED) && (error.details as { reason?: string } | undefined)?.reason === 'provider_outcome_unknown';
}

export function statusFor(intent: IntentRow, payment: ProviderPayment, canRetry: boolean): IntentStatus {
  switch (payment.status) {
    case 'requires_action':
      return 'requires_action';
    case 'authorized':
      return intent.capture_method === 'manual' ? 'requires_capture' : 'processing';
    case 'captured':
    case 'partially_refunded':
    case 'refunded':
      return 'succeeded';
    case 'canceled':
      return 'canceled';
    case 'declined':
      return canRetry ? 'processing' : 'failed';
  }
}

export class IntentService {
  constructor(private readonly deps: IntentServiceDeps) {}

  private provider(name: string): PaymentProvider {
    const provider = this.deps.providers().get(name);
    if (!provider) throw new AnvilError(ErrorCodes.TOOL_UNAVAILABLE, `Payment provider "${name}" is not configured on this server`, { details: { provider: name } });
    return provider;
  }

  async create(project: string, input: CreateIntentInput, by: string): Promise<{ intent: Intent; created: boolean }> {
    const currency = parseCurrency(input.currency);
    const amount = parseAmount(input.amount, currency);
    const body = { ...input, amount: amount.toString(), captureMethod: input.captureMethod ?? 'automatic', metadata: input.metadata ?? {} };
    const hash = requestHash(body);
    const inserted = await this.deps.sql.query<IntentRow>(SQL.insert, [
      randomUUID(), project, amount.toString(), currency, input.payee, JSON.stringify(input.method), body.captureMethod,
      input.country ?? null, input.merchantCategory ?? null, input.mandateId ?? null, input.idempotencyKey, hash, canonicalJson(body.metadata), by,
    ]);
    if (inserted.rows[0]) return { intent: toIntent(inserted.rows[0]), created: true };
    const existing = (await this.deps.sql.query<IntentRow>(SQL.byKey, [project, input.idempotencyKey])).rows[0] as IntentRow;
    if (existing.request_hash !== hash) {
      throw conflict(`Idempotency key "${input.idempotencyKey}" was already used for another payment (${existing.id}); retry with the same body or use a new key`, {
        idempotencyKey: input.idempotencyKey, intentId: existing.id, reason: 'idempotency_key_reused',
      });
    }
    return { intent: toIntent(existing), created: false };
  }

  async row(project: string, id: string): Promise<IntentRow> {
    const row = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id) ? (await this.deps.sql.query<IntentRow>(SQL.get, [project, id])).rows[0] : undefined;
    if (!row) throw new AnvilError(ErrorCodes.NOT_FOUND, `No payment "${id}" in this project`, { details: { field: 'id', reason: 'payment_not_found' } });
    return row;
  }

  async get(project: string, id: string): Promise<{ intent: Intent; refunds: Refund[]; attempts: Array<{ number: number; connector: string; status: string; declineCode: string | null }> }> {
    const row = await this.row(project, id);
    const refunds = (await this.deps.sql.query<RefundRow>(SQL.refundsOf, [row.id])).rows.map(toRefund);
    const attempts = (await this.deps.sql.query<AttemptRow>(SQL.attemptsOf, [row.id])).rows.map((a) => ({ number: a.number, connector: `${a.provider}/${a.connector}`, status: a.status, declineCode: a.decline_code }));
    return { intent: toIntent(row), refunds, attempts };
  }

  async list(project: string, filter: { status?: IntentStatus; payee?: string; cursor?: string; limit: number }): Promise<{ payments: Intent[]; next: string | null }> {
    const { at, id } = filter.cursor ? decodeCreatedCursor(filter.cursor) : { at: null, id: null };
    const rows = (await this.deps.sql.query<IntentRow & { created_text: string }>(SQL.list, [project, filter.status ?? null, filter.payee ?? null, at, id, filter.limit + 1])).rows;
    const page = rows.slice(0, filter.limit);
    const last = rows.length > filter.limit ? page.at(-1) : undefined;
    const next = last ? encodeCreatedCursor(String(last.created_text), last.id) : null;
    return { payments: page.map(toIntent), next };
  }

  /**
   * Confirms an intent: the first confirm moves it to processing and authorizes; a confirm of an
   * intent already past requires_confirmation returns it as it is (a retried confirm pays once).
   */
  async confirm(project: string, id: string, extra: { previewHash?: string; risk?: Record<string, unknown> } = {}): Promise<Intent> {
    const started = (await this.deps.sql.query<IntentRow>(SQL.startProcessing, [project, id, extra.previewHash ?? null, extra.risk ? JSON.stringify(extra.risk) : null])).rows[0];
    if (!started) return toIntent(await this.row(project, id));
    return toIntent(await this.advance(started));
  }

  /**
   * Sends the next attempt of a processing intent and applies the answer; on a soft decline goes on
   * to the next connector (a declined attempt captured nothing, so this cannot capture twice).
   */
  async advance(intent: IntentRow): Promise<IntentRow> {
    let current = intent;
    for (;;) {
      const attempts = (await this.deps.sql.query<AttemptRow>(SQL.attemptsOf, [current.id])).rows;
      const last = attempts.at(-1);
      if (last && last.status === 'sent') return this.send(current, last);
      if (last && !(last.status === 'declined' && last.soft_decline === true)) return current;
      const tried = new Set(attempts.map((attempt) => `${attempt.provider}/${attempt.connector}`));
      const choice = attempts.length < MAX_ATTEMPTS ? await this.deps.router.choose(current, attempts.length + 1, tried) : undefined;
      if (!choice) {
        const failed = (await this.deps.sql.query<IntentRow>(SQL.fail, [current.id, last?.decline_code ?? 'no_route'])).rows[0];
        return failed ?? (await this.byId(current.id));
      }
      const number = attempts.length + 1;
      const inserted = (await this.deps.sql.query<AttemptRow>(SQL.attemptInsert, [randomUUID(), current.id, current.project, number, choice.provider, choice.connector, `${current.id}:a${number}`])).rows[0];
      if (!inserted) continue; // someone else started this attempt: look again
      if (number > 1) current = (await this.deps.sql.query<IntentRow>(SQL.nextAttempt, [current.id, choice.connector, choice.provider])).rows[0] ?? current;
      current = await this.send(current, inserted);
      const after = (await this.deps.sql.query<AttemptRow>(SQL.attemptByKey, [inserted.idempotency_key])).rows[0];
      if (!(after?.status === 'declined' && after.soft_decline === true) || current.status !== 'processing') return current;
    }
  }

  private async byId(id: string): Promise<IntentRow> {
    return (await this.deps.sql.query<IntentRow>(SQL.byId, [id])).rows[0] as IntentRow;
  }

  /** Sends (or re-sends, with the same key) an attempt's authorization and applies the answer. */
  private async send(intent: IntentRow, attempt: AttemptRow): Promise<IntentRow> {
    const provider = this.provider(attempt.provider);
    try {
      const payment = await provider.authorize({
        connector: attempt.connector,
        token: intent.method.token,
        amount: String(intent.amount),
        currency: intent.currency,
        capture: intent.capture_method === 'automatic',
        idempotencyKey: attempt.idempotency_key,
        reference: intent.id,
      });
      return await this.applySnapshot(attempt.provider, payment);
    } catch (error) {
      if (isUnknownOutcome(error)) {
        this.deps.log.warn({ intent: intent.id, attempt: attempt.number }, 'provider outcome unknown; the intent stays processing until resumed');
        await this.deps.sql.query(SQL.touch, [intent.id]);
        return this.byId(intent.id);
      }
      if (isAnvilError(error) && error.code !== ErrorCodes.TOOL_UNAVAILABLE) {
        // The provider refused the request itself (e.g. an unknown token): nothing was authorized.
        const reason = (error.details as { reason?: string } | undefined)?.reason ?? 'provider_refused';
        await this.deps.sql.query(SQL.attemptUpdate, [attempt.id, 'refused', reason, false, null]);
        return (await this.deps.sql.query<IntentRow>(SQL.fail, [intent.id, reason])).rows[0] ?? this.byId(intent.id);
      }
      throw error;
    }
  }

  /**
   * The one way a provider's view of a payment enters Anvil. Finds the attempt by the key the
   * provider echoes, records it, books the ledger, and moves the intent if this attempt is its
   * current one and the sequence is newer. Returns the intent (unchanged when stale).
   */
  async applySnapshot(providerName: string, payment: ProviderPayment): Promise<IntentRow> {
    const attempt = (await this.deps.sql.query<AttemptRow>(SQL.attemptByKey, [payment.idempotencyKey])).rows[0];
    if (!attempt) throw new AnvilError(ErrorCodes.NOT_FOUND, `no attempt with key ${payment.idempotencyKey}`, { details: { reason: 'orphan' } });
    const intent = await this.byId(attempt.intent_id);
    const firstNews = attempt.status === 'sent' || attempt.status !== payment.status;
    await this.deps.sql.query(SQL.attemptUpdate, [attempt.id, payment.status, payment.decline?.code ?? null, payment.decline?.soft ?? null, payment.providerPaymentId]);
    if (firstNews && attempt.status === 'sent') {
      const outcome = payment.status === 'declined' ? (payment.decline?.soft ? 'soft_decline' : 'hard_decline') : 'success';
      await this.deps.router.observe(intent, { ...attempt, connector: payment.connector }, outcome).catch((error: unknown) => this.deps.log.warn({ err: error }, 'routing observation failed'));
    }
    const attempts = (await this.deps.sql.query<AttemptRow>(SQL.attemptsOf, [intent.id])).rows;
    if (attempts.at(-1)?.id !== attempt.id) return intent; // an earlier attempt's late news: it was declined, nothing to apply
    await this.deps.booking.book(intent, providerName, payment);
    const canRetry = payment.status === 'declined' && payment.decline?.soft === true && attempts.length < MAX_ATTEMPTS;
    const status = statusFor(intent, payment, canRetry);
    const moved = (await this.deps.sql.query<IntentRow>(SQL.apply, [
      intent.id, status, providerName, payment.connector, payment.providerPaymentId, payment.sequence,
      payment.amountAuthorized, payment.amountCaptured, payment.fee, payment.decline?.code ?? null,
    ])).rows[0];
    const current = moved ?? intent;
    for (const refund of payment.refunds) {
      if (refund.status === 'succeeded' && /^[0-9a-f-]{36}$/.test(refund.reference)) await this.deps.sql.query(SQL.refundSettle, [refund.reference, 'succeeded', refund.providerRefundId]);
    }
    return current;
  }

  async capture(project: string, id: string, amountText: string | undefined): Promise<Intent> {
    const intent = await this.row(project, id);
    if (intent.status === 'succeeded' && intent.capture_requested !== null) {
      if (amountText !== undefined && amountText !== String(intent.capture_requested)) {
        throw conflict(`Payment ${id} was already captured (${String(intent.capture_requested)}); a payment is captured once`, { reason: 'already_captured', captured: String(intent.capture_requested) });
      }
      return toIntent(intent);
    }
    if (intent.status !== 'requires_capture') {
      throw conflict(`Payment ${id} is ${intent.status}; only a payment in requires_capture (captureMethod "manual", authorized) can be captured`, { status: intent.status, reason: 'invalid_state' });
    }
    const amount = amountText === undefined ? BigInt(intent.amount_authorized) : parseAmount(amountText, intent.currency);
    if (amount > BigInt(intent.amount_authorized)) {
      throw new AnvilError(ErrorCodes.INVALID_INPUT, `amount: at most the authorized ${String(intent.amount_authorized)}`, { details: { field: 'amount', reason: 'exceeds_authorized' } });
    }
    const requested = (await this.deps.sql.query<IntentRow>(SQL.requestCapture, [project, intent.id, amount.toString()])).rows[0];
    if (!requested) {
      const now = await this.row(project, id);
      if (now.status === 'succeeded') return toIntent(now);
      throw conflict(`Payment ${id} already has a capture of ${String(now.capture_requested)} under way; a payment is captured once`, { reason: 'capture_in_progress', captureRequested: now.capture_requested });
    }
    return toIntent(await this.sendCapture(requested));
  }

  private async sendCapture(intent: IntentRow): Promise<IntentRow> {
    try {
      const payment = await this.provider(intent.provider as string).capture(intent.provider_payment_id as string, String(intent.capture_requested), `pi:${intent.id}:capture`);
      return await this.applySnapshot(intent.provider as string, payment);
    } catch (error) {
      if (isUnknownOutcome(error)) return intent;
      throw error;
    }
  }

  async cancel(project: string, id: string): Promise<Intent> {
    const unconfirmed = (await this.deps.sql.query<IntentRow>(SQL.cancelUnconfirmed, [project, id])).rows[0];
    if (unconfirmed) return toIntent(unconfirmed);
    const intent = await this.row(project, id);
    if (intent.status === 'canceled') return toIntent(intent);
    if (intent.status !== 'requires_capture' && intent.status !== 'requires_action') {
      throw conflict(`Payment ${id} is ${intent.status}; it can be canceled before confirmation, or while it requires capture or action (refund a succeeded one)`, { status: intent.status, reason: 'invalid_state' });
    }
    const payment = await this.provider(intent.provider as string).cancel(intent.provider_payment_id as string, `pi:${intent.id}:cancel`);
    return toIntent(await this.applySnapshot(intent.provider as string, payment));
  }

  async refund(project: string, id: string, input: { amount?: string; reason?: string; idempotencyKey: string }, by: string): Promise<{ refund: Refund; intent: Intent; created: boolean }> {
    const intent = await this.row(project, id);
    const amount = input.amount === undefined ? BigInt(intent.amount_captured) - BigInt(intent.amount_refunded) - BigInt(intent.refund_reserved) : parseAmount(input.amount, intent.currency);
    const hash = requestHash({ intent: intent.id, amount: amount.toString(), reason: input.reason ?? null });
    const replay = async (): Promise<{ refund: Refund; intent: Intent; created: boolean } | undefined> => {
      const existing = (await this.deps.sql.query<RefundRow>(SQL.refundByKey, [project, input.idempotencyKey])).rows[0];
      if (!existing) return undefined;
      if (existing.request_hash !== hash) {
        throw conflict(`Idempotency key "${input.idempotencyKey}" was already used for another refund (${existing.id}); use a new key`, { idempotencyKey: input.idempotencyKey, refundId: existing.id, reason: 'idempotency_key_reused' });
      }
      return { refund: toRefund(existing), intent: toIntent(await this.row(project, id)), created: false };
    };
    const first = await replay();
    if (first) return first;
    if (intent.status !== 'succeeded') throw conflict(`Payment ${id} is ${intent.status}; only a succeeded payment can be refunded`, { status: intent.status, reason: 'invalid_state' });
    const refundable = BigInt(intent.amount_captured) - BigInt(intent.amount_refunded) - BigInt(intent.refund_reserved);
    if (amount <= 0n || amount > refundable) {
      throw new AnvilError(ErrorCodes.INVALID_INPUT, `amount: at most ${refundable.toString()} can still be refunded (captured ${String(intent.amount_captured)}, refunded ${String(intent.amount_refunded)}, pending ${String(intent.refund_reserved)})`, {
        details: { field: 'amount', reason: 'refund_exceeds_capture', refundable: refundable.toString() },
      });
    }
    const refundId = randomUUID();
    const created = await this.deps.sql.transaction(async (tx) => {
      const reserved = (await tx.query<IntentRow>(SQL.refundReserve, [project, intent.id, amount.toString()])).rows[0];
      if (!reserved) return undefined;
      return (await tx.query<RefundRow>(SQL.refundInsert, [refundId, intent.id, project, amount.toString(), input.reason ?? null, input.idempotencyKey, hash, by])).rows[0];
    });
    if (!created) {
      const again = await replay();
      if (again) return again;
      throw new AnvilError(ErrorCodes.INVALID_INPUT, 'amount: a concurrent refund took what was left to refund', { details: { field: 'amount', reason: 'refund_exceeds_capture' } });
    }
    const settled = await this.sendRefund(created);
    return { refund: settled, intent: toIntent(await this.row(project, id)), created: true };
  }

  private async sendRefund(refund: RefundRow): Promise<Refund> {
    const intent = await this.byId(refund.intent_id);
    try {
      const payment = await this.provider(intent.provider as string).refund(intent.provider_payment_id as string, String(refund.amount), refund.id, `refund:${refund.id}`);
      await this.applySnapshot(intent.provider as string, payment);
    } catch (error) {
      if (!isUnknownOutcome(error)) {
        if (isAnvilError(error)) await this.deps.sql.query(SQL.refundSettle, [refund.id, 'failed', null]);
        throw error;
      }
    }
    const rows = (await this.deps.sql.query<RefundRow>(SQL.refundsOf, [refund.intent_id])).rows;
    return toRefund(rows.find((row) => row.id === refund.id) as RefundRow);
  }

  /** Picks up what a crash or a lost answer left: processing intents, requested captures, pending refunds. */
  async resume(olderThanSeconds: number): Promise<number> {
    const work = (await this.deps.sql.query<{ kind: string; id: string; project: string }>(SQL.resumable, [olderThanSeconds])).rows;
    for (const item of work) {
      try {
        if (item.kind === 'intent') await this.resumeIntent(await this.byId(item.id));
        else if (item.kind === 'capture') await this.sendCapture(await this.byId(item.id));
        else {
          const refund = (await this.deps.sql.query<RefundRow>(SQL.refundById, [item.id])).rows[0];
          if (refund) await this.sendRefund(refund);
        }
      } catch (error) {
        this.deps.log.warn({ err: error, kind: item.kind, id: item.id }, 'resuming payment work failed; will retry');
      }
    }
    return work.length;
  }

  private async resumeIntent(intent: IntentRow): Promise<void> {
    const attempts = (await this.deps.sql.query<AttemptRow>(SQL.attemptsOf, [intent.id])).rows;
    const last = attempts.at(-1);
    await this.deps.sql.query(SQL.touch, [intent.id]);
    if (last?.status === 'sent') {
      const found = await this.provider(last.provider).findByIdempotencyKey(last.idempotency_key);
      if (found) {
        await this.applySnapshot(last.provider, found);
        const now = await this.byId(intent.id);
        if (now.status === 'processing') await this.advance(now);
        return;
      }
    }
    await this.advance(intent);
  }

  /** A provider event (webhook or poll): recorded once by its id, then applied as a snapshot. */
  async ingest(providerName: string, event: ProviderEvent, via: 'webhook' | 'poll'): Promise<'applied' | 'duplicate' | 'orphan'> {
    const fresh = await this.deps.sql.query(SQL.eventInsert, [providerName, event.id, event.payment.providerPaymentId, event.sequence, event.type, via]);
    if (fresh.rowCount === 0) return 'duplicate';
    try {
      await this.applySnapshot(providerName, event.payment);
    } catch (error) {
      if (isAnvilError(error, ErrorCodes.NOT_FOUND)) {
        await this.deps.sql.query(SQL.eventOutcome, [providerName, event.id, 'orphan']);
        return 'orphan';
      }
      // Not applied: forget the event so that the next delivery tries again.
      await this.deps.sql.query(SQL.eventForget, [providerName, event.id]);
      throw error;
    }
    await this.deps.sql.query(SQL.eventOutcome, [providerName, event.id, 'applied']);
    return 'applied';
  }

  /** Polls each provider's event log from its stored cursor. */
  async pollEvents(): Promise<number> {
    let total = 0;
    for (const [name, provider] of this.deps.providers()) {
      const cursor = (await this.deps.sql.query<{ cursor: string | null }>(SQL.cursorGet, [name])).rows[0]?.cursor ?? null;
      const page = await provider.events(cursor);
      for (const event of page.events) await this.ingest(name, event, 'poll');
      if (page.cursor !== cursor) await this.deps.sql.query(SQL.cursorSet, [name, page.cursor]);
      total += page.events.length;
    }
    return total;
  }
}
