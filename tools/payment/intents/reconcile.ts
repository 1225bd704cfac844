/**
 * Reconciliation: the provider's report of every payment against Anvil's intents and its ledger.
 * For each provider payment made for this project: captured, refunded and fee as the provider
 * says, as the intent says, and as the ledger booked them; any disagreement is listed. A capture on
 * an attempt that is not the intent's current one would be a double charge and is listed too.
 */
import type { PluginSql } from 'anvil/plugin';
import type { Ledger } from '../ledger/ledger.ts';
import type { PaymentProvider } from '../providers/types.ts';
import { loadSql } from '../sql.ts';
import type { AttemptRow, IntentRow } from './rows.ts';

const SQL = {
  attemptByKey: loadSql(import.meta.url, './sql/attempt-by-key.sql'),
  attemptsOf: loadSql(import.meta.url, './sql/attempts-of.sql'),
  intentById: loadSql(import.meta.url, './sql/intent-by-id.sql'),
};

export interface Difference {
  paymentId: string;
  providerPaymentId: string;
  field: 'captured' | 'refunded' | 'fee' | 'captured_on_superseded_attempt';
  provider: string;
  intent: string;
  ledger: string;
}

export interface ReconcileReport {
  provider: string;
  checked: number;
  matched: number;
  differences: Difference[];
}

export async function reconcile(sql: PluginSql, ledger: Ledger, project: string, name: string, provider: PaymentProvider): Promise<ReconcileReport> {
  const report: ReconcileReport = { provider: name, checked: 0, matched: 0, differences: [] };
  for (const payment of await provider.report()) {
    const attempt = (await sql.query<AttemptRow>(SQL.attemptByKey, [payment.idempotencyKey])).rows[0];
    // Only this project's payments: another tenant's are not even counted.
    if (!attempt || attempt.project !== project) continue;
    report.checked += 1;
    const intent = (await sql.query<IntentRow>(SQL.intentById, [attempt.intent_id])).rows[0] as IntentRow;
    const latest = (await sql.query<AttemptRow>(SQL.attemptsOf, [intent.id])).rows.at(-1);
    const before = report.differences.length;
    if (latest?.id !== attempt.id) {
      if (BigInt(payment.amountCaptured) > 0n) {
        report.differences.push({ paymentId: intent.id, providerPaymentId: payment.providerPaymentId, field: 'captured_on_superseded_attempt', provider: payment.amountCaptured, intent: '0', ledger: '0' });
      } else report.matched += 1;
      continue;
    }
    const capture = await ledger.findByKey(project, `pi:${intent.id}:capture`);
    const fee = await ledger.findByKey(project, `pi:${intent.id}:fee`);
    const refunds = await ledger.listTransfers(project, { metadata: { intent: intent.id, kind: 'refund' }, limit: 500 });
    const ledgerRefunded = refunds.transfers.reduce((sum, transfer) => sum + BigInt(transfer.amount), 0n);
    const compare = (field: Difference['field'], providerValue: string, intentValue: string, ledgerValue: string) => {
      if (providerValue !== intentValue || providerValue !== ledgerValue) {
        report.differences.push({ paymentId: intent.id, providerPaymentId: payment.providerPaymentId, field, provider: providerValue, intent: intentValue, ledger: ledgerValue });
      }
    };
    compare('captured', payment.amountCaptured, String(intent.amount_captured), capture?.amount ?? '0');
    compare('refunded', payment.amountRefunded, String(intent.amount_refunded), ledgerRefunded.toString());
    compare('fee', payment.fee, String(intent.fee), fee?.amount ?? '0');
    if (report.differences.length === before) report.matched += 1;
  }
  return report;
}
