/**
 * Spending mandates for agents: limits enforced on the server (50 concurrent payments never exceed
 * a cap), preview hash → confirm executes exactly that, approval above a threshold by a person.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import type { CallOutcome, TestHost } from 'anvil/testing';
import { eventually, type SandboxPspProcess } from './support.ts';
import { callAs, fails, ok, type SandboxPayments, startSandboxPayments } from '../support/payments-host.ts';

type Row = Record<string, string> & { id: string };

let payments: SandboxPayments | undefined;
let psp: SandboxPspProcess;
let host: TestHost;
let agent: Client;
let person: Client;
let seq = 0;
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

before(async () => {
  payments = await startSandboxPayments();
  ({ psp, host } = payments);
  agent = await host.connect({ name: 'agent', scopes: ['payments:write', 'payments:read'] });
  person = await host.connect({ name: 'person', scopes: ['approvals:write', 'approvals:read'] });
});
after(async () => {
  await payments?.close();
});

async function mandate(args: Record<string, unknown>): Promise<Row> {
  seq += 1;
  const body = { grantee: 'local:agent', currency: 'EUR', maxPerPayment: '1000', maxPerPeriod: '10000', period: 'day', expiresAt: inAnHour(), idempotencyKey: `m-${seq}`, ...args };
  return ok(await host.call('mandates_create', body)).mandate as Row;
}

async function create(call: (tool: string, args?: Record<string, unknown>) => Promise<CallOutcome>, mandateId: string | undefined, extra: Record<string, unknown> = {}, card = '4242424242424242'): Promise<CallOutcome> {
  seq += 1;
  const key = `p-${seq}`;
  const token = await psp.tokenize(card);
  return call('payments_create', { amount: '1000', currency: 'EUR', payee: 'grocer', method: { type: 'card', token }, idempotencyKey: key, ...(mandateId ? { mandate: mandateId } : {}), ...extra });
}

async function previewAndConfirm(call: (tool: string, args?: Record<string, unknown>) => Promise<CallOutcome>, id: string): Promise<CallOutcome> {
  const preview = await call('payments_preview', { id });
  if (preview.isError) return preview;
  return call('payments_confirm', { id, previewHash: (preview.structured as Row).previewHash });
}

describe('mandates', () => {
  it('needs payments:admin to grant, and a principal holding one pays only under it', async () => {
    fails(await callAs(agent)('mandates_create', { grantee: 'local:agent', currency: 'EUR', maxPerPayment: '1', maxPerPeriod: '1', period: 'day', expiresAt: inAnHour(), idempotencyKey: 'self' }), 'ANVIL_E_FORBIDDEN');
    const granted = await mandate({});
    fails(await create(callAs(agent), undefined), 'ANVIL_E_FORBIDDEN', /acts under mandate/);
    fails(await create(callAs(agent), granted.id, { amount: '1001' }), 'ANVIL_E_FORBIDDEN', /at most 1000 per payment/);
    fails(await create(callAs(agent), granted.id, { currency: 'USD' }), 'ANVIL_E_FORBIDDEN', /for EUR/);
    const narrow = await mandate({ payees: ['bakery'] });
    fails(await create(callAs(agent), narrow.id), 'ANVIL_E_FORBIDDEN', /payee "grocer"/);
    fails(await create(callAs(host.client as unknown as Client), granted.id), 'ANVIL_E_FORBIDDEN', /granted to another principal/);
  });

  it('lets 50 concurrent payments spend exactly the cap, never more', async () => {
    const capped = await mandate({ maxPerPeriod: '10000' });
    const created = await Promise.all(Array.from({ length: 50 }, () => create(callAs(agent), capped.id)));
    const ids = created.map((outcome) => ((ok(outcome).payment as Row).id));
    const confirmed = await Promise.all(ids.map((id) => previewAndConfirm(callAs(agent), id)));
    // Ten reserved the cap; on a loaded machine one may still be processing (a late provider answer,
    // finished by the resume loop), so success is awaited rather than required at once.
    const reserved = confirmed.filter((outcome) => !outcome.isError).map((outcome) => (outcome.structured?.payment as Row).id);
    assert.equal(reserved.length, 10);
    for (const id of reserved) await eventually(async () => (ok(await host.call('payments_get', { id })).payment as Row).status, (status) => status === 'succeeded');
    for (const outcome of confirmed.filter((each) => each.isError)) assert.match(outcome.text, /^ANVIL_E_FORBIDDEN: amount: .*would exceed it/);
    const after = ok(await host.call('mandates_get', { id: capped.id })).mandate as Row;
    assert.equal(after.usedThisPeriod, '10000');
  });

  it('confirms exactly the preview: no hash, a wrong hash or a stale one are refused', async () => {
    const granted = await mandate({});
    const id = (ok(await create(callAs(agent), granted.id)).payment as Row).id;
    fails(await callAs(agent)('payments_confirm', { id }), 'ANVIL_E_INVALID_INPUT', /previewHash/);
    fails(await callAs(agent)('payments_confirm', { id, previewHash: 'a'.repeat(64) }), 'ANVIL_E_INVALID_INPUT', /previewHash/);
    const first = ok(await callAs(agent)('payments_preview', { id }));
    const summary = first.summary as Record<string, unknown>;
    assert.equal(summary.amount, '1000');
    assert.equal((summary.mandate as Row).id, granted.id);
    assert.match(String(first.previewHash), /^[0-9a-f]{64}$/);
    const confirmed = ok(await callAs(agent)('payments_confirm', { id, previewHash: first.previewHash })).payment as Row;
    assert.equal(confirmed.status, 'succeeded');
    assert.equal(confirmed.connector, (summary.route as Row).connector);
  });

  it('waits for a person above approvalAbove, and a denied payment is never made', async () => {
    const guarded = await mandate({ approvalAbove: '500' });
    const id = (ok(await create(callAs(agent), guarded.id)).payment as Row).id;
    const preview = ok(await callAs(agent)('payments_preview', { id }));
    const waiting = await callAs(agent)('payments_confirm', { id, previewHash: preview.previewHash });
    fails(waiting, 'ANVIL_E_APPROVAL_REQUIRED', /approval [0-9a-f-]{36}/);
    const approvalId = /approval ([0-9a-f-]{36})/.exec(waiting.text)?.[1] as string;
    fails(await callAs(agent)('approvals_decide', { id: approvalId, decision: 'approve' }), 'ANVIL_E_FORBIDDEN');
    const pending = ok(await callAs(person)('approvals_list', { state: 'pending' })).approvals as Row[];
    assert.ok(pending.some((each) => each.id === approvalId && each.kind === 'payment' && each.subject === id && each.hash === preview.previewHash));
    ok(await callAs(person)('approvals_decide', { id: approvalId, decision: 'approve' }));
    const paid = ok(await callAs(agent)('payments_confirm', { id, previewHash: preview.previewHash })).payment as Row;
    assert.equal(paid.status, 'succeeded');

    const other = (ok(await create(callAs(agent), guarded.id)).payment as Row).id;
    const otherPreview = ok(await callAs(agent)('payments_preview', { id: other }));
    const otherWaiting = await callAs(agent)('payments_confirm', { id: other, previewHash: otherPreview.previewHash });
    const otherApproval = /approval ([0-9a-f-]{36})/.exec(otherWaiting.text)?.[1] as string;
    ok(await callAs(person)('approvals_decide', { id: otherApproval, decision: 'deny', reason: 'not needed' }));
    fails(await callAs(agent)('payments_confirm', { id: other, previewHash: otherPreview.previewHash }), 'ANVIL_E_POLICY_DENIED');
    assert.equal((ok(await host.call('payments_get', { id: other })).payment as Row).status, 'requires_confirmation');
  });

  it('asks the person in the chat (MCP elicitation) when the client can be asked: approve pays, deny never does', async () => {
    const guarded = await mandate({ approvalAbove: '500' });
    const questions: string[] = [];
    let answer: 'approve' | 'deny' = 'approve';
    const chat = await host.connect({ name: 'agent', scopes: ['payments:write', 'payments:read'] }, {
      onElicit: (request) => {
        questions.push(request.message);
        return { action: 'accept', content: { decision: answer } };
      },
    });
    const id = (ok(await create(callAs(chat), guarded.id)).payment as Row).id;
    const paid = ok(await previewAndConfirm(callAs(chat), id)).payment as Row;
    assert.equal(paid.status, 'succeeded');
    assert.equal(questions.length, 1);
    assert.match(questions[0] as string, /Approve paying 1000 EUR .* to grocer\? Approval [0-9a-f-]{36} binds preview hash [0-9a-f]{64}/);
    const decided = (ok(await callAs(person)('approvals_list', { state: 'approved' })).approvals as Row[]).find((each) => each.subject === id);
    assert.equal(decided?.decidedBy, 'elicitation:local:agent');

    answer = 'deny';
    const other = (ok(await create(callAs(chat), guarded.id)).payment as Row).id;
    fails(await previewAndConfirm(callAs(chat), other), 'ANVIL_E_POLICY_DENIED');
    assert.equal((ok(await host.call('payments_get', { id: other })).payment as Row).status, 'requires_confirmation');
  });

  it('refuses expired, revoked and foreign mandates, and gives a failed payment back to the cap', async () => {
    const shortLived = await mandate({ expiresAt: new Date(Date.now() + 1_500).toISOString() });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    fails(await create(callAs(agent), shortLived.id), 'ANVIL_E_FORBIDDEN', /expired/);
    const revoked = await mandate({});
    ok(await host.call('mandates_revoke', { id: revoked.id }));
    fails(await create(callAs(agent), revoked.id), 'ANVIL_E_FORBIDDEN', /revoked/);
    const mallory = await host.connect({ project: 'mallory', name: 'agent', scopes: ['payments:write', 'payments:read'] });
    fails(await create(callAs(mallory), revoked.id), 'ANVIL_E_FORBIDDEN', /no mandate/);

    const refundable = await mandate({});
    const declined = (ok(await create(callAs(agent), refundable.id, {}, '4000000000000002')).payment as Row).id;
    const result = ok(await previewAndConfirm(callAs(agent), declined)).payment as Row;
    assert.equal(result.status, 'failed');
    assert.equal((ok(await host.call('mandates_get', { id: refundable.id })).mandate as Row).usedThisPeriod, '0');
  });

  it('pages mandates newest first by cursor, each exactly once; another project sees none', async () => {
    const made: string[] = [];
    for (let index = 0; index < 60; index += 1) made.push((await mandate({ grantee: 'local:pager' })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = ok(await host.call('mandates_list', { grantee: 'local:pager', limit: 25, ...(cursor ? { cursor } : {}) })) as { mandates: Row[]; next: string | null };
      seen.push(...page.mandates.map((row) => row.id));
      cursor = page.next;
      pages += 1;
    } while (cursor && pages < 10);
    assert.equal(pages, 3, '60 mandates: 25, 25 and 10');
    assert.deepEqual(seen, [...made].reverse(), 'newest first, each once');
    assert.equal((ok(await host.call('mandates_list', { grantee: 'local:pager' })) as { mandates: Row[] }).mandates.length, 60, 'without limit: up to 200, as before');
    const mallory = await host.connect({ project: 'mallory', name: 'auditor', scopes: ['payments:read'] });
    assert.deepEqual(ok(await callAs(mallory)('mandates_list', { grantee: 'local:pager' })), { mandates: [], next: null });
    fails(await callAs(agent)('mandates_list', { cursor: 'not-a-cursor' }), 'ANVIL_E_INVALID_INPUT', /cursor/);
  });
});
