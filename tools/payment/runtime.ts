/**
 * Everything the payments tools share, built once at register: ledger, intents, providers,
 * mandates, approvals. The confirm path lives here because it joins them: preview hash → approval
 * above the mandate's threshold → atomic cap reservation → provider → release if it failed.
 */
import { AnvilError, ErrorCodes, type CallerPrincipal, type Logger, type PluginSql } from 'anvil/plugin';
import { canonicalJson, sha256Hex } from './canonical.ts';
import type { Ledger } from './ledger/ledger.ts';
import type { CreateIntentInput, IntentService } from './intents/service.ts';
import { type Intent, type IntentRow, toIntent } from './intents/rows.ts';
import { reconcile, type ReconcileReport } from './intents/reconcile.ts';
import type { Approval, Approvals } from '../approvals/index.ts';
import type { MandateService } from './mandates/service.ts';
import { parseAmount, parseCurrency } from './money.ts';
import type { PaymentProvider } from './providers/types.ts';
import type { ConnectorDirectory } from './routing/connectors.ts';
import type { RiskAssessment, RiskService, RiskSignals } from './risk/service.ts';
import type { RoutingService } from './routing/service.ts';
import { loadSql } from './sql.ts';

const SQL = { setPreview: loadSql(import.meta.url, './mandates/sql/intent-set-preview.sql') };

export interface PaymentsRuntimeDeps {
  sql: PluginSql;
  ledger: Ledger;
  intents: IntentService;
  mandates: MandateService;
  approvals: Approvals;
  routing: RoutingService;
  directory: ConnectorDirectory;
  risk: RiskService;
  providers: () => ReadonlyMap<string, PaymentProvider>;
  log: Logger;
}

export interface ConfirmContext {
  project: string;
  principal: CallerPrincipal;
  /**
   * Asks the person at the caller's client to approve this exact preview (MCP elicitation), when the
   * client can be asked; undefined when it cannot, or nobody answered: the approval then waits for
   * approvals_decide by another principal.
   */
  ask?: (approval: Approval, preview: PreviewSummary | null) => Promise<'approve' | 'deny' | undefined>;
}

export interface PreviewSummary extends Record<string, unknown> {
  paymentId: string;
  payee: string;
  amount: string;
  currency: string;
  captureMethod: string;
  route: { provider: string; connector: string } | null;
  fees: { estimated: string; connector: string | null };
  mandate: { id: string; maxPerPayment: string; maxPerPeriod: string; period: string; expiresAt: string } | null;
  risk: Record<string, unknown> | null;
}

function approvalRequired(approval: Approval): AnvilError {
  return new AnvilError(
    ErrorCodes.APPROVAL_REQUIRED,
    `This payment is above its mandate's approval threshold: approval ${approval.id} waits for a person (approvals_decide, scope approvals:write); confirm again with the same previewHash once approved`,
    { details: { approvalId: approval.id, state: approval.state, reason: 'approval_required' } },
  );
}

function riskDeclined(paymentId: string, risk: RiskAssessment): AnvilError {
  const why = risk.score !== null && risk.thresholds ? ` (score ${risk.score} at or above the decline threshold ${risk.thresholds.decline.toFixed(4)})` : '';
  return new AnvilError(ErrorCodes.POLICY_DENIED, `Payment ${paymentId} was declined by risk scoring${why}; nothing was charged`, {
    details: { paymentId, reason: 'risk_declined', score: risk.score, model: risk.model },
  });
}

export class PaymentsRuntime {
  readonly ledger: Ledger;
  readonly intents: IntentService;
  readonly mandates: MandateService;
  readonly approvals: Approvals;
  readonly routing: RoutingService;
  readonly risk: RiskService;
  constructor(private readonly deps: PaymentsRuntimeDeps) {
    this.risk = deps.risk;
    this.ledger = deps.ledger;
    this.intents = deps.intents;
    this.mandates = deps.mandates;
    this.approvals = deps.approvals;
    this.routing = deps.routing;
  }

  async createPayment(project: string, principal: CallerPrincipal, input: CreateIntentInput, signals: RiskSignals = {}): Promise<{ intent: Intent; created: boolean }> {
    const currency = parseCurrency(input.currency);
    const amount = parseAmount(input.amount, currency);
    if (input.mandateId) {
      await this.mandates.check(project, principal.id, input.mandateId, { amount, currency, payee: input.payee, ...(input.merchantCategory ? { merchantCategory: input.merchantCategory } : {}) });
    } else {
      const held = await this.mandates.activeFor(project, principal.id);
      if (held.length > 0) {
        throw new AnvilError(ErrorCodes.FORBIDDEN, `mandate: ${principal.id} acts under mandate ${held.join(', ')} and can only pay under one; name it in "mandate"`, {
          details: { field: 'mandate', reason: 'mandate_required', mandates: held },
        });
      }
    }
    const made = await this.intents.create(project, input, principal.id);
    // The risk decision is stored with the intent when it is made; a replay of the key meets the same one.
    let row = await this.intents.row(project, made.intent.id);
    if (made.created || (row.risk === null && row.status === 'requires_confirmation')) row = await this.assessRisk(project, row, signals);
    const risk = row.risk as RiskAssessment | null;
    if (risk?.decision === 'decline') throw riskDeclined(row.id, risk);
    return { intent: toIntent(row), created: made.created };
  }

  /** Scores a payment awaiting confirmation and stores the assessment with it (a decline fails it); returns the row as it is now. */
  private async assessRisk(project: string, row: IntentRow, signals: RiskSignals = {}): Promise<IntentRow> {
    const assessment = await this.risk.assessIntent(project, row, signals);
    return (await this.risk.storeOnIntent(project, row.id, assessment)) ?? (await this.intents.row(project, row.id));
  }

  /** The canonical summary of what confirming would do, and its SHA-256; fixes the route it names. */
  async preview(context: ConfirmContext, id: string): Promise<{ summary: PreviewSummary; hash: string }> {
    const row = await this.intents.row(context.project, id);
    if (row.status !== 'requires_confirmation') {
      throw new AnvilError(ErrorCodes.CONFLICT, `Payment ${id} is ${row.status}; only a payment awaiting confirmation can be previewed`, { details: { status: row.status, reason: 'invalid_state' } });
    }
    const choice = await this.routing.preview(row);
    const connector = choice ? (await this.deps.directory.all()).find((each) => each.provider === choice.provider && each.name === choice.connector) : undefined;
    const estimated = connector ? BigInt(connector.fee.fixed) + (BigInt(row.amount) * BigInt(connector.fee.bps)) / 10_000n : 0n;
    const mandate = row.mandate_id ? await this.mandates.get(context.project, row.mandate_id) : null;
    const summary: PreviewSummary = {
      paymentId: row.id,
      payee: row.payee,
      amount: String(row.amount),
      currency: row.currency,
      captureMethod: row.capture_method,
      route: choice ?? null,
      fees: { estimated: estimated.toString(), connector: choice ? `${choice.provider}/${choice.connector}` : null },
      mandate: mandate ? { id: mandate.id, maxPerPayment: mandate.maxPerPayment, maxPerPeriod: mandate.maxPerPeriod, period: mandate.period, expiresAt: mandate.expiresAt } : null,
      risk: row.risk ?? (await this.assessRisk(context.project, row)).risk,
    };
    if ((summary.risk as RiskAssessment | null)?.decision === 'decline') throw riskDeclined(row.id, summary.risk as RiskAssessment);
    const hash = sha256Hex(canonicalJson(summary));
    const stored = (await this.deps.sql.query<IntentRow>(SQL.setPreview, [context.project, row.id, JSON.stringify(summary), hash])).rows[0];
    if (!stored) throw new AnvilError(ErrorCodes.CONFLICT, `Payment ${id} was confirmed or canceled meanwhile`, { details: { reason: 'invalid_state' } });
    return { summary, hash };
  }

  async confirmPayment(context: ConfirmContext, id: string, previewHash: string | undefined): Promise<Intent> {
    const row = await this.intents.row(context.project, id);
    if (row.status !== 'requires_confirmation') {
      if (previewHash !== undefined && row.preview_hash !== previewHash) throw this.hashMismatch();
      return toIntent(row);
    }
    const preview = (row as IntentRow & { preview: PreviewSummary | null }).preview;
    const riskReview = (row.risk as RiskAssessment | null)?.decision === 'review';
    if ((row.mandate_id || riskReview) && previewHash === undefined) {
      const why = row.mandate_id ? 'a payment under a mandate' : 'a payment risk scoring sent to review';
      throw new AnvilError(ErrorCodes.INVALID_INPUT, `previewHash: ${why} is confirmed by the hash payments_preview returned`, { details: { field: 'previewHash', reason: 'preview_required' } });
    }
    if (previewHash !== undefined) {
      if (!row.preview_hash || !preview) throw new AnvilError(ErrorCodes.INVALID_INPUT, 'previewHash: no preview was made for this payment; call payments_preview first', { details: { field: 'previewHash', reason: 'preview_missing' } });
      if (row.preview_hash !== previewHash) throw this.hashMismatch();
    }
    if (riskReview) await this.requireRiskApproval(context, row, preview);
    if (row.mandate_id) {
      const mandate = await this.mandates.check(context.project, context.principal.id, row.mandate_id, {
        amount: BigInt(row.amount), currency: row.currency, payee: row.payee, ...(row.merchant_category ? { merchantCategory: row.merchant_category } : {}),
      });
      if (mandate.approvalAbove !== null && BigInt(row.amount) > BigInt(mandate.approvalAbove)) {
        const approval = await this.approvalOf(context, row, preview);
        if (approval.state !== 'approved') throw approvalRequired(approval);
      }
      await this.mandates.reserve(context.project, row.mandate_id, row.id, BigInt(row.amount));
    }
    const risk = preview?.risk ?? null;
    const confirmed = await this.intents.confirm(context.project, id, { ...(previewHash ? { previewHash } : {}), ...(risk ? { risk } : {}) });
    if (row.mandate_id && (confirmed.status === 'failed' || confirmed.status === 'canceled')) await this.mandates.release(row.id);
    return confirmed;
  }

  /** A payment in review waits for a person's approval of exactly its preview (the same approval record a mandate uses). */
  private async requireRiskApproval(context: ConfirmContext, row: IntentRow, preview: PreviewSummary | null): Promise<void> {
    const approval = await this.approvalOf(context, row, preview);
    if (approval.state !== 'approved') {
      throw new AnvilError(
        ErrorCodes.APPROVAL_REQUIRED,
        `Risk scoring sent this payment to review: approval ${approval.id} waits for a person (approvals_decide, scope approvals:write); confirm again with the same previewHash once approved`,
        { details: { approvalId: approval.id, state: approval.state, reason: 'risk_review' } },
      );
    }
  }

  /**
   * The approval of exactly this preview: asked of the person at the caller's client when it can be
   * asked and none is decided yet (recorded as decided by `elicitation:<principal>`); a denial stops
   * the payment here.
   */
  private async approvalOf(context: ConfirmContext, row: IntentRow, preview: PreviewSummary | null): Promise<Approval> {
    let approval = await this.approvals.request({ project: context.project, kind: 'payment', subjectId: row.id, argsHash: row.preview_hash as string, summary: preview ?? {}, requestedBy: context.principal.id });
    if (approval.state === 'pending' && context.ask) {
      const decision = await context.ask(approval, preview);
      if (decision) approval = await this.approvals.decide(context.project, approval.id, decision, `elicitation:${context.principal.id}`, 'decided in the chat');
    }
    if (approval.state === 'denied') {
      throw new AnvilError(ErrorCodes.POLICY_DENIED, `Approval ${approval.id} was denied by ${approval.decidedBy ?? 'a person'}; the payment will not be made`, { details: { approvalId: approval.id, reason: 'approval_denied' } });
    }
    return approval;
  }

  private hashMismatch(): AnvilError {
    return new AnvilError(ErrorCodes.INVALID_INPUT, 'previewHash: does not match the latest preview of this payment; preview again and confirm what it shows', {
      details: { field: 'previewHash', reason: 'preview_hash_mismatch' },
    });
  }

  async reconcile(project: string, only?: string): Promise<ReconcileReport[]> {
    const providers = this.deps.providers();
    if (only !== undefined && !providers.has(only)) throw new AnvilError(ErrorCodes.NOT_FOUND, `provider: no payment provider "${only}" is configured`, { details: { field: 'provider' } });
    const reports: ReconcileReport[] = [];
    for (const [name, provider] of providers) if (only === undefined || only === name) reports.push(await reconcile(this.deps.sql, this.ledger, project, name, provider));
    return reports;
  }
}
