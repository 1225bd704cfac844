/**
 * Books what a provider snapshot says happened to a payment into the ledger. Every booking has a
 * key derived from the intent (`pi:<id>:auth|capture|fee|void|refund:<ref>`) and a body that
 * depends only on facts the provider never changes (the authorized amount, the one capture, its
 * fee, each refund), so booking the same snapshot twice, or two snapshots at once, books once.
 *
 * Accounts per project and currency: `payments.psp.<provider>.<CUR>` (asset: what the provider
 * holds for us), `payments.payees.<CUR>` (liability: what we owe payees), `payments.fees.<CUR>`
 * (expense: provider fees).
 */
import type { Ledger } from '../ledger/ledger.ts';
import type { ProviderPayment } from '../providers/types.ts';
import type { IntentRow } from './rows.ts';

/** Authorizations hold for a week, as card networks let them. */
const AUTHORIZATION_SECONDS = 7 * 86_400;

export function accountCodes(provider: string, currency: string): { psp: string; payees: string; fees: string } {
  return { psp: `payments.psp.${provider}.${currency}`, payees: `payments.payees.${currency}`, fees: `payments.fees.${currency}` };
}

export class Booking {
  private readonly ensured = new Set<string>();
  constructor(private readonly ledger: Ledger) {}

  private async accounts(project: string, provider: string, currency: string) {
    const codes = accountCodes(provider, currency);
    const cacheKey = `${project}|${provider}|${currency}`;
    if (!this.ensured.has(cacheKey)) {
      await this.ledger.ensureAccounts(project, [
        { code: codes.psp, kind: 'asset', currency },
        { code: codes.payees, kind: 'liability', currency },
        { code: codes.fees, kind: 'expense', currency },
      ]);
      this.ensured.add(cacheKey);
    }
    return codes;
  }

  async book(intent: IntentRow, provider: string, payment: ProviderPayment): Promise<void> {
    const project = intent.project;
    const currency = intent.currency;
    const by = `provider:${provider}`;
    const everAuthorized = BigInt(payment.amountAuthorized) > 0n || BigInt(payment.amountCaptured) > 0n;
    if (!everAuthorized) return;
    const codes = await this.accounts(project, provider, currency);
    const meta = (kind: string) => ({ intent: intent.id, kind });
    const [auth] = await this.ledger.createTransfers(
      project,
      [{ debit: codes.psp, credit: codes.payees, amount: String(intent.amount), currency, idempotencyKey: `pi:${intent.id}:auth`, metadata: meta('authorization'), pending: { timeoutSeconds: AUTHORIZATION_SECONDS } }],
      by,
    );
    const pendingId = auth?.transfer.id as string;
    if (BigInt(payment.amountCaptured) > 0n) {
      await this.ledger.resolvePending(project, { pendingId, action: 'post', amount: payment.amountCaptured, idempotencyKey: `pi:${intent.id}:capture`, metadata: meta('capture') }, by);
    } else if (payment.status === 'canceled') {
      await this.ledger.resolvePending(project, { pendingId, action: 'void', idempotencyKey: `pi:${intent.id}:void`, metadata: meta('cancel') }, by);
    }
    const later: Array<{ debit: string; credit: string; amount: string; currency: string; idempotencyKey: string; metadata: Record<string, unknown> }> = [];
    if (BigInt(payment.fee) > 0n) later.push({ debit: codes.fees, credit: codes.psp, amount: payment.fee, currency, idempotencyKey: `pi:${intent.id}:fee`, metadata: meta('fee') });
    for (const refund of payment.refunds) {
      if (refund.status !== 'succeeded') continue;
      const reference = refund.reference || refund.providerRefundId;
      later.push({ debit: codes.payees, credit: codes.psp, amount: refund.amount, currency, idempotencyKey: `pi:${intent.id}:refund:${reference}`, metadata: { ...meta('refund'), refund: reference } });
    }
    if (later.length > 0) await this.ledger.createTransfers(project, later, by);
  }
}
