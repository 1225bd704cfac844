/**
 * Payment intents end to end: a real embedded server with the payments plugin, the sandbox
 * provider plugin, and the sandbox provider network as a separate process (`anvil sandbox-psp`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestHost } from 'anvil/testing';
import { eventually, type SandboxPspProcess } from './support.ts';
import { callAs, fails, ok, type SandboxPayments, startSandboxPayments } from '../support/payments-host.ts';

type Payment = Record<string, string> & { id: string; providerPaymentId: string; status: string };

let payments: SandboxPayments | undefined;
let psp: SandboxPspProcess;
let host: TestHost;
let key = 0;

before(async () => {
  payments = await startSandboxPayments();
  ({ psp, host } = payments);
  // Alpha first (all volume), so that which connector a payment takes is known here; routing has its own tests.
  ok(await host.call('routing_configure', { rules: [{ name: 'alpha-first', connectors: ['sandbox/alpha', 'sandbox/beta'], split: { 'sandbox/alpha': 100, 'sandbox/beta': 0 } }] }));
});
after(async () => {
  await payments?.close();
});

async function pay(number: string, extra: Record<string, unknown> = {}): Promise<Payment> {
  const token = await psp.tokenize(number);
  key += 1;
  const created = ok(await host.call('payments_create', { amount: '10000', currency: 'EUR', payee: 'shop-1', method: { type: 'card', token }, idempotencyKey: `pay-${key}`, ...extra }));
  const payment = created.payment as Payment;
  return ok(await host.call('payments_confirm', { id: payment.id })).payment as Payment;
}

async function get(id: string): Promise<Record<string, unknown>> {
  return ok(await host.call('payments_get', { id }));
}

async function assertBalanced(): Promise<void> {
  const { currencies } = ok(await host.call('ledger_balances')) as { currencies: Array<Record<string, unknown>> };
  for (const row of currencies) assert.equal(row.balanced, true, JSON.stringify(row));
}

describe('payment intents through the sandbox provider network', () => {
  it('captures, books the capture and the fee, and confirming again pays once', async () => {
    const payment = await pay('4242424242424242');
    assert.equal(payment.status, 'succeeded');
    assert.equal(payment.amountCaptured, '10000');
    assert.equal(payment.connector, 'alpha');
    assert.equal(payment.fee, String(25 + Math.floor((10000 * 140) / 10000)));
    const again = ok(await host.call('payments_confirm', { id: payment.id })).payment as Payment;
    assert.equal(again.status, 'succeeded');
    const psp_ = (await get(payment.id)).attempts as unknown[];
    assert.equal(psp_.length, 1);
    const transfers = ok(await host.call('ledger_transfers_list', { metadata: { intent: payment.id } })).transfers as Payment[];
    assert.deepEqual(transfers.map((t) => `${t.kind}:${t.amount}`).sort(), ['pending:10000', 'post:10000', 'single:165'].sort());
    const psp = ok(await host.call('ledger_accounts_get', { account: 'payments.psp.sandbox.EUR' })).account as Payment;
    assert.equal(psp.balance, String(10000 - 165));
    await assertBalanced();
  });

  it('returns the first intent for a repeated key and 409s naming the key on another body', async () => {
    const token = await psp.tokenize('4242424242424242');
    const body = { amount: '500', currency: 'EUR', payee: 'shop-1', method: { type: 'card', token }, idempotencyKey: 'same-key' };
    const first = ok(await host.call('payments_create', body));
    const second = ok(await host.call('payments_create', body));
    assert.equal((second.payment as Payment).id, (first.payment as Payment).id);
    assert.equal(second.created, false);
    fails(await host.call('payments_create', { ...body, amount: '501' }), 'ANVIL_E_CONFLICT', /"same-key"/);
  });

  it('captures a manual payment in part, once', async () => {
    const payment = await pay('4242424242424242', { captureMethod: 'manual' });
    assert.equal(payment.status, 'requires_capture');
    assert.equal((ok(await host.call('ledger_accounts_get', { account: 'payments.payees.EUR' })).account as Payment).creditsPending !== '0', true);
    const captured = ok(await host.call('payments_capture', { id: payment.id, amount: '6000' })).payment as Payment;
    assert.equal(captured.status, 'succeeded');
    assert.equal(captured.amountCaptured, '6000');
    const retried = ok(await host.call('payments_capture', { id: payment.id, amount: '6000' })).payment as Payment;
    assert.equal(retried.amountCaptured, '6000');
    fails(await host.call('payments_capture', { id: payment.id, amount: '7000' }), 'ANVIL_E_CONFLICT');
    await assertBalanced();
  });

  it('refunds in part and never above the capture, even concurrently', async () => {
    const payment = await pay('4242424242424242');
    const first = ok(await host.call('payments_refund', { id: payment.id, amount: '3000', idempotencyKey: `r-${payment.id}-1` }));
    assert.equal((first.refund as Payment).status, 'succeeded');
    fails(await host.call('payments_refund', { id: payment.id, amount: '7001', idempotencyKey: `r-${payment.id}-2` }), 'ANVIL_E_INVALID_INPUT', /at most 7000/);
    const racing = await Promise.all(Array.from({ length: 10 }, (_, i) => host.call('payments_refund', { id: payment.id, amount: '1000', idempotencyKey: `r-${payment.id}-race-${i}` })));
    assert.equal(racing.filter((outcome) => !outcome.isError).length, 7);
    const after = (await get(payment.id)).payment as Payment;
    assert.equal(after.amountRefunded, '10000');
    const refunds = ok(await host.call('ledger_transfers_list', { metadata: { intent: payment.id, kind: 'refund' } })).transfers as Payment[];
    assert.equal(refunds.reduce((sum, t) => sum + Number(t.amount), 0), 10000);
    await assertBalanced();
  });

  it('fails a hard decline and retries a soft decline on the next connector without capturing twice', async () => {
    const declined = await pay('4000000000000002');
    assert.equal(declined.status, 'failed');
    assert.equal(declined.declineCode, 'card_declined');
    const retried = await pay('4000000000000101');
    assert.equal(retried.status, 'succeeded');
    assert.equal(retried.connector, 'beta');
    const attempts = (await get(retried.id)).attempts as Payment[];
    assert.deepEqual(attempts.map((a) => `${a.connector}:${a.status}`), ['sandbox/alpha:declined', 'sandbox/beta:captured']);
    const posts = (ok(await host.call('ledger_transfers_list', { metadata: { intent: retried.id, kind: 'capture' } })).transfers as unknown[]).length;
    assert.equal(posts, 1);
  });

  it('waits in requires_action until the person authenticates, then applies the provider event', async () => {
    const payment = await pay('4000000000003063');
    assert.equal(payment.status, 'requires_action');
    const { status } = await psp.request('POST', `/v1/payments/${payment.providerPaymentId}/authenticate`, { outcome: 'pass' });
    assert.equal(status, 200);
    const done = await eventually(async () => (await get(payment.id)).payment as Payment, (p) => p.status === 'succeeded');
    assert.equal(done.amountCaptured, '10000');
  });

  it('reconciles the provider report with the ledger: no differences', async () => {
    const { reports } = ok(await host.call('payments_reconcile')) as { reports: Array<Record<string, unknown>> };
    assert.equal(reports.length, 1);
    assert.deepEqual(reports[0]?.differences, []);
    assert.ok(Number(reports[0]?.checked) >= 6);
  });

  it('refuses card numbers anywhere and bad amounts, changing nothing, echoing nothing', async () => {
    const token = await psp.tokenize('4242424242424242');
    const base = { amount: '100', currency: 'EUR', payee: 'shop-1', method: { type: 'card', token }, idempotencyKey: 'bad' };
    const before = ok(await host.call('payments_list', { limit: 500 }));
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...base, payee: 'pay 4242-4242-4242-4242 now' }, /payee: looks like a card number/],
      [{ ...base, method: { type: 'card', token: '4242424242424242' } }, /method\.token/],
      [{ ...base, metadata: { card: { number: '5555555555554444' } } }, /metadata\.card\.number: looks like a card number/],
      [{ ...base, amount: '0' }, /greater than zero/],
      [{ ...base, amount: '-100' }, /positive/],
      [{ ...base, amount: '1.5' }, /decimals/],
      [{ ...base, currency: 'ABC' }, /ISO 4217/],
    ];
    for (const [args, pattern] of cases) {
      const outcome = await host.call('payments_create', args);
      assert.equal(outcome.isError, true, JSON.stringify(args));
      assert.match(outcome.text, pattern);
      assert.doesNotMatch(outcome.text, /4242.?4242.?4242|5555555555554444/);
    }
    assert.deepEqual(ok(await host.call('payments_list', { limit: 500 })), before);
  });

  it('keeps another project out of every payment', async () => {
    const payment = await pay('4242424242424242');
    const mallory = await host.connect({ project: 'mallory', name: 'mallory' });
    const as = callAs(mallory);
    fails(await as('payments_get', { id: payment.id }), 'ANVIL_E_NOT_FOUND');
    fails(await as('payments_refund', { id: payment.id, idempotencyKey: 'steal' }), 'ANVIL_E_NOT_FOUND');
    fails(await as('payments_capture', { id: payment.id }), 'ANVIL_E_NOT_FOUND');
    fails(await as('payments_cancel', { id: payment.id }), 'ANVIL_E_NOT_FOUND');
    assert.deepEqual((ok(await as('payments_list', {})).payments as unknown[]).length, 0);
    const { reports } = ok(await as('payments_reconcile', {})) as { reports: Array<Record<string, unknown>> };
    assert.equal(reports[0]?.checked, 0);
    const reader = await host.connect({ scopes: ['payments:read'], name: 'reader' });
    fails(await callAs(reader)('payments_refund', { id: payment.id, idempotencyKey: 'x' }), 'ANVIL_E_FORBIDDEN');
  });

  it('routes by success rate where no rule decides, stores each decision, explains and evaluates', async () => {
    const router = await host.connect({ project: 'router', name: 'router' });
    const as = callAs(router);
    for (let i = 0; i < 6; i++) {
      const token = await psp.tokenize('4242424242424242');
      const created = ok(await as('payments_create', { amount: '2500', currency: 'EUR', payee: 'shop-2', method: { type: 'card', token }, idempotencyKey: `route-${i}` })).payment as Payment;
      assert.equal((ok(await as('payments_confirm', { id: created.id })).payment as Payment).status, 'succeeded');
    }
    const explained = ok(await as('routing_explain', { amount: '2500', currency: 'EUR', method: 'card' }));
    assert.equal(explained.rule, null);
    assert.equal(explained.strategy, 'success_rate');
    const candidates = explained.candidates as Array<Record<string, unknown>>;
    assert.deepEqual(candidates.map((c) => c.connector).sort(), ['sandbox/alpha', 'sandbox/beta', 'sandbox/gamma']);
    assert.equal(candidates.reduce((sum, c) => sum + Number(c.observations), 0), 6);
    assert.ok(Math.abs(candidates.reduce((sum, c) => sum + Number(c.probability), 0) - 1) < 1e-6);
    const evaluated = ok(await as('routing_evaluate', { policy: { type: 'uniform' } }));
    assert.equal(evaluated.decisions, 6);
    assert.equal(evaluated.loggedSuccessRate, 1);
    assert.ok(Number(evaluated.snips) > 0.99);
    fails(await as('routing_configure', { rules: [{ name: 'x', connectors: ['nope/none'] }] }), 'ANVIL_E_INVALID_INPUT', /unknown connector "nope\/none"/);
  });
});
