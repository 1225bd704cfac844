/**
 * Payment risk end to end on embedded PGlite: payments_risk_train imports the sandbox's seeded,
 * labelled history, trains a tabular-classifier with Anvil's own training (a real job on the
 * embedded worker), deploys it with the deployments plugin and chooses the thresholds on held-out
 * rows; then risk_score, payments_create / preview / confirm use it (decline refuses, review waits
 * for a person's approval), an unconfigured project records "not-scored" and honours its unscored
 * limit, and another project can neither use this project's deployment nor see its payments.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import type { CallOutcome, TestHost } from 'anvil/testing';
import { decide } from '../../tools/payment/risk/evaluate.ts';
import type { SandboxPspProcess } from './support.ts';
import { callAs, fails, ok, type SandboxPayments, startSandboxPayments } from '../support/payments-host.ts';

interface Assessment {
  decision: string;
  score: number | null;
  thresholds: { review: number; decline: number } | null;
  model: { deployment: string; name: string; version: number } | null;
  reason: string | null;
  features: Record<string, number | string>;
}
type Payment = { id: string; status: string; risk: Assessment | null; declineCode: string | null };


let payments: SandboxPayments | undefined;
let psp: SandboxPspProcess;
let host: TestHost;
let person: Client;
let stranger: Client;
let key = 0;

before(async () => {
  payments = await startSandboxPayments();
  ({ psp, host } = payments);
  person = await host.connect({ name: 'person', scopes: ['approvals:write', 'approvals:read'] });
  stranger = await host.connect({ project: 'mallory', name: 'mallory', scopes: ['*'] });
});
after(async () => {
  await payments?.close();
});

const normal = { amount: '3000', currency: 'EUR', merchantCategory: '5411', localHour: 14, cardAgeDays: 900, attemptsLastHour: 0, newDevice: false, countryMismatch: false };
const takeover = { amount: '90000', currency: 'EUR', merchantCategory: '5311', localHour: 3, cardAgeDays: 700, attemptsLastHour: 0, newDevice: true, countryMismatch: true };
const cardTesting = { amount: '150', currency: 'EUR', merchantCategory: '5999', localHour: 13, cardAgeDays: 4, attemptsLastHour: 11, newDevice: false, countryMismatch: false };

async function score(transaction: Record<string, unknown>, call = host.call.bind(host)): Promise<Assessment> {
  return ok(await call('risk_score', { transaction })).assessment as Assessment;
}

async function create(amount: string, extra: Record<string, unknown> = {}): Promise<CallOutcome> {
  key += 1;
  const token = await psp.tokenize('4242424242424242');
  return host.call('payments_create', { amount, currency: 'EUR', payee: 'shop-1', method: { type: 'card', token }, merchantCategory: '5411', idempotencyKey: `risk-${key}`, ...extra });
}

describe('payment risk', () => {
  it('without a risk model: payments are recorded not-scored, and the unscored limit sends larger ones to review', async () => {
    const created = ok(await create('2000')).payment as Payment;
    assert.equal(created.risk?.decision, 'not-scored');
    assert.equal(created.risk?.reason, 'not_configured');
    const preview = ok(await host.call('payments_preview', { id: created.id })) as { summary: { risk: Assessment } };
    assert.equal(preview.summary.risk.decision, 'not-scored', 'the canonical summary carries the risk decision');

    ok(await host.call('payments_risk_configure', { unscoredReviewAbove: { EUR: '50000' } }));
    const small = ok(await create('50000')).payment as Payment;
    assert.equal(small.risk?.decision, 'not-scored');
    const large = ok(await create('50001')).payment as Payment;
    assert.equal(large.risk?.decision, 'review', 'never approved silently above the configured amount');
    assert.match(String(large.risk?.reason), /not_configured; above the unscored limit 50000 EUR/);
    fails(await host.call('payments_confirm', { id: large.id }), 'ANVIL_E_INVALID_INPUT', /previewHash: a payment risk scoring sent to review/);
    const { previewHash } = ok(await host.call('payments_preview', { id: large.id })) as { previewHash: string };
    fails(await host.call('payments_confirm', { id: large.id, previewHash }), 'ANVIL_E_APPROVAL_REQUIRED', /review/);
    fails(await host.call('payments_risk_configure', { unscoredReviewAbove: { EUR: '10.5' } }), 'ANVIL_E_INVALID_INPUT', /unscoredReviewAbove\.EUR/);
    ok(await host.call('payments_risk_configure', { unscoredReviewAbove: {} }));
  });

  let trained: { model: { name: string; version: number }; deployment: string; evaluation: { prAuc: number; thresholds: { review: number; decline: number }; frauds: number; rows: number; fraudStopped: number } };

  it('trains on the seeded history with the training plugin, deploys it, and chooses thresholds on held-out rows', async (context) => {
    trained = ok(await host.call('payments_risk_train', { seed: 1, rows: 4000, evaluationRows: 4000, epochs: 30, waitSeconds: 240 })) as typeof trained;
    context.diagnostic(`held-out evaluation: ${JSON.stringify(trained.evaluation)}`);
    assert.equal(trained.deployment, 'payments-risk');
    assert.deepEqual(trained.model.name, 'payments-risk');
    const { review, decline } = trained.evaluation.thresholds;
    assert.ok(review > 0 && review <= decline && decline <= 1.000001, JSON.stringify(trained.evaluation));
    assert.ok(trained.evaluation.frauds > 50 && trained.evaluation.rows === 4000);
    // Fraud is ~4 % of rows: a PR-AUC far above that base rate means the patterns were learnt.
    assert.ok(trained.evaluation.prAuc > 0.5, `PR-AUC ${trained.evaluation.prAuc}`);
    assert.ok(trained.evaluation.fraudStopped > 0.6, JSON.stringify(trained.evaluation));
    const deployment = ok(await host.call('deployments_get', { name: 'payments-risk' })) as { model: string; variants: Array<{ version: number; weight: number }> };
    assert.equal(deployment.model, 'payments-risk');
    assert.deepEqual(deployment.variants.map((v) => [v.version, v.weight]), [[trained.model.version, 100]]);
    const again = ok(await host.call('payments_risk_train', { seed: 1, rows: 4000, evaluationRows: 4000, epochs: 30, waitSeconds: 240 })) as typeof trained;
    assert.equal(again.model.version, trained.model.version, 'the same arguments return the same model');
  });

  it('scores fraud patterns high and a normal payment low, by the stored thresholds', async (context) => {
    const low = await score(normal);
    const high = await score(takeover);
    const testing = await score(cardTesting);
    for (const each of [low, high, testing]) {
      assert.deepEqual(each.model, { deployment: 'payments-risk', name: 'payments-risk', version: trained.model.version });
      assert.deepEqual(each.thresholds, trained.evaluation.thresholds);
      assert.equal(each.decision, decide(each.score as number, trained.evaluation.thresholds));
    }
    context.diagnostic(`scores: normal ${low.score}, takeover ${high.score}, card testing ${testing.score}`);
    assert.equal(low.decision, 'approve', JSON.stringify(low));
    assert.equal(high.decision, 'decline', JSON.stringify(high));
    assert.notEqual(testing.decision, 'approve', JSON.stringify(testing));
    assert.ok((high.score as number) > 0.5 && (low.score as number) < 0.2 && (testing.score as number) > (low.score as number) * 3, JSON.stringify({ low, high, testing }));
  });

  it('payments_create stores the decision; decline refuses with a stable code, approve pays, review waits for a person', async () => {
    const declined = await create('90000', { merchantCategory: '5311', riskSignals: { localHour: 3, newDevice: true, countryMismatch: true, cardAgeDays: 700 } });
    fails(declined, 'ANVIL_E_POLICY_DENIED', /declined by risk scoring \(score 0\.\d+ at or above the decline threshold/);
    const declinedId = (declined.raw as { _meta?: Record<string, { details?: { paymentId?: string; reason?: string } }> })._meta?.['dev.anvil/error']?.details;
    assert.equal(declinedId?.reason, 'risk_declined');
    const stored = ok(await host.call('payments_get', { id: declinedId?.paymentId })) as { payment: Payment } | Payment;
    const declinedPayment = 'payment' in stored ? stored.payment : stored;
    assert.equal(declinedPayment.status, 'failed');
    assert.equal(declinedPayment.risk?.decision, 'decline');
    assert.equal((ok(await host.call('payments_confirm', { id: declinedPayment.id })).payment as Payment).status, 'failed', 'confirming a declined payment moves nothing');

    const approved = ok(await create('3000', { riskSignals: { localHour: 14, cardAgeDays: 900 } })).payment as Payment;
    assert.equal(approved.risk?.decision, 'approve');
    const preview = ok(await host.call('payments_preview', { id: approved.id })) as { summary: { risk: Assessment }; previewHash: string };
    assert.deepEqual(preview.summary.risk, approved.risk, 'the preview summarises the stored decision');
    const paid = ok(await host.call('payments_confirm', { id: approved.id, previewHash: preview.previewHash })).payment as Payment;
    assert.equal(paid.status, 'succeeded');

    // A payment in the review band: found among ones a checkout could send, by the model itself.
    const candidates = [
      { merchantCategory: '7995', amount: '20000', riskSignals: { localHour: 15, cardAgeDays: 500, countryMismatch: true } },
      { merchantCategory: '5967', amount: '8000', riskSignals: { localHour: 12, cardAgeDays: 800, countryMismatch: true } },
      { merchantCategory: '5411', amount: '40000', riskSignals: { localHour: 4, cardAgeDays: 900, newDevice: true } },
      { merchantCategory: '5411', amount: '12000', riskSignals: { localHour: 5, cardAgeDays: 300, newDevice: true, countryMismatch: true } },
      { merchantCategory: '7995', amount: '6000', riskSignals: { localHour: 10, cardAgeDays: 1500 } },
      { merchantCategory: '5999', amount: '2000', riskSignals: { localHour: 2, cardAgeDays: 30, newDevice: true } },
    ];
    let review: (typeof candidates)[number] | undefined;
    for (const candidate of candidates) {
      const assessment = await score({ ...candidate.riskSignals, amount: candidate.amount, currency: 'EUR', merchantCategory: candidate.merchantCategory });
      if (assessment.decision === 'review') review = candidate;
    }
    assert.ok(review, 'one candidate falls in the review band');
    const pending = ok(await create(review.amount, { merchantCategory: review.merchantCategory, riskSignals: review.riskSignals })).payment as Payment;
    assert.equal(pending.risk?.decision, 'review');
    const reviewPreview = ok(await host.call('payments_preview', { id: pending.id })) as { previewHash: string };
    const waiting = await host.call('payments_confirm', { id: pending.id, previewHash: reviewPreview.previewHash });
    fails(waiting, 'ANVIL_E_APPROVAL_REQUIRED', /Risk scoring sent this payment to review/);
    const approvalId = (waiting.raw as { _meta?: Record<string, { details?: { approvalId?: string } }> })._meta?.['dev.anvil/error']?.details?.approvalId;
    ok(await callAs(person)('approvals_decide', { id: approvalId, decision: 'approve' }));
    const reviewed = ok(await host.call('payments_confirm', { id: pending.id, previewHash: reviewPreview.previewHash })).payment as Payment;
    assert.equal(reviewed.status, 'succeeded');
  });

  it('another project cannot use this deployment or see these payments', async () => {
    const call = callAs(stranger);
    const unconfigured = await score(takeover, call);
    assert.deepEqual([unconfigured.decision, unconfigured.reason], ['not-scored', 'not_configured']);
    ok(await call('payments_risk_configure', { deployment: 'payments-risk' }));
    const borrowed = await score(takeover, call);
    assert.deepEqual([borrowed.decision, borrowed.score, borrowed.reason], ['not-scored', null, 'deployment_not_found']);
    const list = ok(await host.call('payments_list', {})) as { payments: Payment[] };
    const mine = list.payments[0] as Payment;
    fails(await call('risk_score', { intentId: mine.id }), 'ANVIL_E_NOT_FOUND');
    fails(await call('payments_risk_train', { seed: 1, deployment: 'BAD NAME' }), 'ANVIL_E_INVALID_INPUT');
  });

  it('refuses malformed input naming the field', async () => {
    fails(await host.call('risk_score', {}), 'ANVIL_E_INVALID_INPUT', /intentId: give either intentId or transaction/);
    fails(await host.call('risk_score', { transaction: { ...normal, amount: '10.50' } }), 'ANVIL_E_INVALID_INPUT', /transaction\.amount/);
    fails(await host.call('risk_score', { transaction: { ...normal, currency: 'XXY' } }), 'ANVIL_E_INVALID_INPUT', /transaction\.currency/);
    fails(await host.call('risk_score', { transaction: { ...normal, merchantCategory: '4242424242424242' } }), 'ANVIL_E_INVALID_INPUT');
    fails(await host.call('payments_risk_train', { rows: 10 }), 'ANVIL_E_INVALID_INPUT', /rows/);
  });
});
