/**
 * The ledger through its MCP tools on a real server: embedded PGlite always, Postgres when
 * DATABASE_URL is set (where concurrent transactions really run side by side).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestHost, flatten, type TestHost } from 'anvil/testing';
import { skipUnless, requireService } from '../support/backends.ts';
import { fails, ok } from '../support/payments-host.ts';
import { createTempDatabase, type TempDatabase } from '../support/temp-db.ts';
import { paymentsPlugin } from '../../tools/payment/index.ts';
import type { TransferInput } from '../../tools/payment/ledger/ledger.ts';

type Call = (tool: string, args?: Record<string, unknown>) => Promise<ReturnType<typeof flatten>>;

async function account(call: Call, code: string): Promise<Record<string, string>> {
  return ok(await call('ledger_accounts_get', { account: code })).account as Record<string, string>;
}

async function balanced(call: Call): Promise<void> {
  const { currencies } = ok(await call('ledger_balances')) as { currencies: Array<Record<string, unknown>> };
  for (const row of currencies) {
    assert.equal(row.debitsPosted, row.creditsPosted, `posted ${String(row.currency)}`);
    assert.equal(row.debitsPending, row.creditsPending, `pending ${String(row.currency)}`);
    assert.equal(row.balanced, true);
  }
}

function ledgerSuite(name: string, skip: string | undefined, env: () => Promise<{ env: Record<string, string>; cleanup(): Promise<void> }>): void {
  describe(`ledger on ${name}`, { skip }, () => {
    let host: TestHost;
    let cleanup: () => Promise<void> = async () => {};
    let call: Call;
    before(async () => {
      const opened = await env();
      cleanup = opened.cleanup;
      host = await createTestHost({ plugins: [], env: opened.env });
      call = host.call;
      ok(await call('ledger_accounts_create', { code: 'cash', kind: 'asset', currency: 'EUR' }));
      ok(await call('ledger_accounts_create', { code: 'wallet', kind: 'liability', currency: 'EUR', flags: ['debits_must_not_exceed_credits'] }));
      ok(await call('ledger_accounts_create', { code: 'shop', kind: 'liability', currency: 'EUR' }));
      ok(await call('ledger_accounts_create', { code: 'cash-jpy', kind: 'asset', currency: 'JPY' }));
    });
    after(async () => {
      await host?.close();
      await cleanup();
    });

    it('creates accounts idempotently by code and refuses another spec under the same code', async () => {
      const again = ok(await call('ledger_accounts_create', { code: 'cash', kind: 'asset', currency: 'EUR' }));
      assert.equal(again.created, false);
      fails(await call('ledger_accounts_create', { code: 'cash', kind: 'asset', currency: 'USD' }), 'ANVIL_E_CONFLICT', /"cash"/);
      fails(await call('ledger_accounts_create', { code: 'both', kind: 'asset', currency: 'EUR', flags: ['debits_must_not_exceed_credits', 'credits_must_not_exceed_debits'] }), 'ANVIL_E_INVALID_INPUT', /flags/);
    });

    it('moves money, returns the first result for a repeated key and 409s on another body naming the key', async () => {
      const first = ok(await call('ledger_transfers_create', { transfer: { debit: 'cash', credit: 'wallet', amount: '10000', currency: 'EUR', idempotencyKey: 'topup-1' } }));
      const [created] = first.transfers as Array<Record<string, unknown>>;
      assert.equal(created?.created, true);
      const replay = ok(await call('ledger_transfers_create', { transfer: { debit: 'cash', credit: 'wallet', amount: '10000', currency: 'EUR', idempotencyKey: 'topup-1' } }));
      const [replayed] = replay.transfers as Array<Record<string, unknown>>;
      assert.equal(replayed?.created, false);
      assert.equal(replayed?.id, created?.id);
      // The first answer is built from the request (create_transfers answers for the rows it inserts
      // with one header row: their count and created_at); the replay is read back whole: they must
      // be the same transfer.
      assert.deepEqual({ ...replayed, created: true }, created);
      fails(await call('ledger_transfers_create', { transfer: { debit: 'cash', credit: 'wallet', amount: '10001', currency: 'EUR', idempotencyKey: 'topup-1' } }), 'ANVIL_E_CONFLICT', /"topup-1"/);
      assert.equal((await account(call, 'wallet')).creditsPosted, '10000');
      assert.equal((await account(call, 'cash')).balance, '10000');
      await balanced(call);
    });

    it('fails a transfer whole when it would break a flag, and a batch all or nothing', async () => {
      const before = await account(call, 'wallet');
      fails(await call('ledger_transfers_create', { transfer: { debit: 'wallet', credit: 'shop', amount: '999999', currency: 'EUR', idempotencyKey: 'too-much' } }), 'ANVIL_E_CONFLICT', /debits exceed credits on "wallet"/);
      fails(
        await call('ledger_transfers_create', {
          transfers: [
            { debit: 'wallet', credit: 'shop', amount: '100', currency: 'EUR', idempotencyKey: 'batch-ok' },
            { debit: 'wallet', credit: 'shop', amount: '999999', currency: 'EUR', idempotencyKey: 'batch-bad' },
          ],
        }),
        'ANVIL_E_CONFLICT',
      );
      assert.deepEqual(await account(call, 'wallet'), before);
      fails(await call('ledger_transfers_get', { id: '00000000-0000-0000-0000-000000000000' }), 'ANVIL_E_NOT_FOUND');
      const listed = ok(await call('ledger_transfers_list', { account: 'shop' }));
      assert.equal((listed.transfers as unknown[]).length, 0, 'nothing of the failed batch was kept');
    });

    it('runs two-phase transfers: post part, void, and expiry by timeout release the reservation', async () => {
      const pending = ok(await call('ledger_transfers_create', { transfer: { debit: 'wallet', credit: 'shop', amount: '3000', currency: 'EUR', idempotencyKey: 'hold-1', pending: {} } }));
      const hold = (pending.transfers as Array<Record<string, string>>)[0] as Record<string, string>;
      assert.equal(hold.state, 'pending');
      assert.equal((await account(call, 'wallet')).debitsPending, '3000');
      const posted = ok(await call('ledger_transfers_create', { post: { pendingId: hold.id, amount: '2500', idempotencyKey: 'hold-1-post' } }));
      assert.equal((posted.transfers as Array<Record<string, string>>)[0]?.amount, '2500');
      fails(await call('ledger_transfers_create', { void: { pendingId: hold.id, idempotencyKey: 'hold-1-void' } }), 'ANVIL_E_CONFLICT', /already posted/);
      const wallet = await account(call, 'wallet');
      assert.equal(wallet.debitsPending, '0');
      assert.equal(wallet.debitsPosted, '2500');

      const second = ok(await call('ledger_transfers_create', { transfer: { debit: 'wallet', credit: 'shop', amount: '100', currency: 'EUR', idempotencyKey: 'hold-2', pending: {} } }));
      const secondId = (second.transfers as Array<Record<string, string>>)[0]?.id;
      fails(await call('ledger_transfers_create', { post: { pendingId: secondId, amount: '101', idempotencyKey: 'hold-2-post' } }), 'ANVIL_E_INVALID_INPUT', /at most the pending amount/);
      ok(await call('ledger_transfers_create', { void: { pendingId: secondId, idempotencyKey: 'hold-2-void' } }));

      const third = ok(await call('ledger_transfers_create', { transfer: { debit: 'wallet', credit: 'shop', amount: '700', currency: 'EUR', idempotencyKey: 'hold-3', pending: { timeoutSeconds: 1 } } }));
      const thirdId = (third.transfers as Array<Record<string, string>>)[0]?.id as string;
      const deadline = Date.now() + 30_000;
      let state = 'pending';
      while (state === 'pending' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        state = ((ok(await call('ledger_transfers_get', { id: thirdId })).transfer as Record<string, string>).state) as string;
      }
      assert.equal(state, 'expired');
      assert.equal((await account(call, 'wallet')).debitsPending, '0');
      fails(await call('ledger_transfers_create', { post: { pendingId: thirdId, idempotencyKey: 'hold-3-post' } }), 'ANVIL_E_CONFLICT', /expired/);
      await balanced(call);
    });

    it('resolves concurrent duplicates to one effect and never lets a flagged account go below zero', async () => {
      ok(await call('ledger_accounts_create', { code: 'capped', kind: 'liability', currency: 'EUR', flags: ['debits_must_not_exceed_credits'] }));
      ok(await call('ledger_transfers_create', { transfer: { debit: 'cash', credit: 'capped', amount: '1000', currency: 'EUR', idempotencyKey: 'fund-capped' } }));
      const same = await Promise.all(
        Array.from({ length: 20 }, () => call('ledger_transfers_create', { transfer: { debit: 'capped', credit: 'shop', amount: '10', currency: 'EUR', idempotencyKey: 'dup-race' } })),
      );
      const ids = new Set(same.map((outcome) => ((ok(outcome).transfers as Array<Record<string, string>>)[0] as Record<string, string>).id));
      assert.equal(ids.size, 1);
      assert.equal((await account(call, 'capped')).debitsPosted, '10');

      const spend = await Promise.all(
        Array.from({ length: 50 }, (_, i) => call('ledger_transfers_create', { transfer: { debit: 'capped', credit: 'shop', amount: '100', currency: 'EUR', idempotencyKey: `spend-${i}` } })),
      );
      const succeeded = spend.filter((outcome) => !outcome.isError).length;
      assert.equal(succeeded, 9, 'exactly 990 of 1000 could be spent in 100s');
      for (const outcome of spend.filter((each) => each.isError)) assert.match(outcome.text, /^ANVIL_E_CONFLICT/);
      const capped = await account(call, 'capped');
      assert.equal(capped.debitsPosted, '910');
      assert.equal(capped.balance, '90');
      await balanced(call);
    });

    it('posts a pending transfer once under concurrent posts: one key → one effect, other keys refused, a reused key with another body named', async () => {
      const held = ok(await call('ledger_transfers_create', { transfer: { debit: 'wallet', credit: 'shop', amount: '400', currency: 'EUR', idempotencyKey: 'race-hold', pending: {} } }));
      const holdId = ((held.transfers as Array<Record<string, string>>)[0] as Record<string, string>).id;
      const before = await account(call, 'wallet');
      const same = await Promise.all(Array.from({ length: 8 }, () => call('ledger_transfers_create', { post: { pendingId: holdId, amount: '300', idempotencyKey: 'race-post' } })));
      const ids = new Set(same.map((outcome) => ((ok(outcome).transfers as Array<Record<string, string>>)[0] as Record<string, string>).id));
      assert.equal(ids.size, 1, 'concurrent posts with one key resolve to one transfer');
      const others = await Promise.all(Array.from({ length: 4 }, (_, i) => call('ledger_transfers_create', { void: { pendingId: holdId, idempotencyKey: `race-void-${i}` } })));
      for (const outcome of others) fails(outcome, 'ANVIL_E_CONFLICT', /already posted/);
      fails(await call('ledger_transfers_create', { post: { pendingId: holdId, amount: '200', idempotencyKey: 'race-post' } }), 'ANVIL_E_CONFLICT', /"race-post"/);
      fails(await call('ledger_transfers_create', { post: { pendingId: holdId, amount: '3.5', idempotencyKey: 'race-post-bad' } }), 'ANVIL_E_INVALID_INPUT', /amount: amounts are integers in minor units/);
      const after = await account(call, 'wallet');
      assert.equal(BigInt(after.debitsPosted as string) - BigInt(before.debitsPosted as string), 300n);
      assert.equal(BigInt(before.debitsPending as string) - BigInt(after.debitsPending as string), 400n);
      await balanced(call);
    });

    it('concurrent batches sharing a key with different bodies: one wins whole, the others change nothing and name the key', async () => {
      const before = await account(call, 'shop');
      const batches = await Promise.all(
        Array.from({ length: 6 }, (_, b) =>
          call('ledger_transfers_create', {
            transfers: [
              { debit: 'cash', credit: 'shop', amount: String(10 + b), currency: 'EUR', idempotencyKey: 'race-shared' },
              { debit: 'cash', credit: 'shop', amount: '1', currency: 'EUR', idempotencyKey: `race-own-${b}` },
            ],
          }),
        ),
      );
      const won = batches.filter((outcome) => !outcome.isError);
      assert.equal(won.length, 1, 'exactly one batch bound the shared key');
      for (const outcome of batches.filter((each) => each.isError)) assert.match(outcome.text, /^ANVIL_E_CONFLICT.*"race-shared"/);
      const shared = ((ok(won[0] as ReturnType<typeof flatten>).transfers as Array<Record<string, string>>)[0] as Record<string, string>).amount;
      assert.equal(BigInt((await account(call, 'shop')).creditsPosted as string) - BigInt(before.creditsPosted as string), BigInt(shared as string) + 1n, 'the losers left nothing behind');
      await balanced(call);
    });

    it('group commit: concurrent batches and transfers of one caller, sharing calls, each get their own all-or-nothing answer', async () => {
      ok(await call('ledger_accounts_create', { code: 'capped-group', kind: 'liability', currency: 'EUR', flags: ['debits_must_not_exceed_credits'] }));
      ok(await call('ledger_transfers_create', { transfer: { debit: 'cash', credit: 'capped-group', amount: '500', currency: 'EUR', idempotencyKey: 'fund-capped-group' } }));
      const before = await account(call, 'shop');
      // Straight to the ledger, all in one tick: the first call runs at once, the rest queue and go
      // together in one statement (which, when one of them fails, fails whole: each then runs alone).
      const ledger = host.server.plugins.exportsOf(paymentsPlugin)?.ledger();
      assert.ok(ledger);
      const project = 'default';
      const good = (b: number): TransferInput[] => [
        { debit: 'cash', credit: 'shop', amount: '1', currency: 'EUR', idempotencyKey: `group-${b}-a` },
        { debit: 'capped-group', credit: 'shop', amount: '2', currency: 'EUR', idempotencyKey: `group-${b}-b`, metadata: { b } },
      ];
      const single = (key: string): TransferInput[] => [{ debit: 'cash', credit: 'shop', amount: '3', currency: 'EUR', idempotencyKey: key }];
      const overdraw = (key: string): TransferInput[] => [
        { debit: 'cash', credit: 'shop', amount: '1', currency: 'EUR', idempotencyKey: `${key}-a` },
        { debit: 'capped-group', credit: 'shop', amount: '99999', currency: 'EUR', idempotencyKey: `${key}-b` },
      ];
      const unknown = (key: string): TransferInput[] => [
        { debit: 'cash', credit: 'shop', amount: '1', currency: 'EUR', idempotencyKey: `${key}-a` },
        { debit: 'cash', credit: 'nope', amount: '1', currency: 'EUR', idempotencyKey: `${key}-b` },
      ];
      const wave = async (requests: TransferInput[][]) => {
        const settled = await Promise.allSettled(requests.map((request) => ledger.createTransfers(project, request, 'test-group')));
        return settled.map((outcome, index) => {
          const request = requests[index] as TransferInput[];
          if (request.some((each) => each.amount === '99999' || each.credit === 'nope')) {
            assert.equal(outcome.status, 'rejected', `request ${index} fails`);
            const reason = (outcome as PromiseRejectedResult).reason as { code?: string; message?: string };
            if (request.some((each) => each.credit === 'nope')) {
              assert.equal(reason.code, 'ANVIL_E_NOT_FOUND');
              assert.match(reason.message ?? '', /transfers\[1\]\.credit: no account "nope"/);
            } else {
              assert.equal(reason.code, 'ANVIL_E_CONFLICT');
              assert.match(reason.message ?? '', /debits exceed credits on "capped-group"/);
            }
            return [];
          }
          assert.equal(outcome.status, 'fulfilled', `request ${index}: ${String((outcome as PromiseRejectedResult).reason)}`);
          const got = (outcome as PromiseFulfilledResult<Awaited<ReturnType<typeof ledger.createTransfers>>>).value;
          assert.deepEqual(
            got.map((each) => [each.transfer.idempotencyKey, each.transfer.amount, each.transfer.debit, each.transfer.credit, each.transfer.metadata]),
            request.map((each) => [each.idempotencyKey, each.amount, each.debit, each.credit, each.metadata ?? {}]),
            `answer ${index} is its own`,
          );
          return got;
        });
      };
      // Wave 1: the failing one runs first, alone; the rest share one statement (the repeated batch after it).
      const first = await wave([overdraw('group-flag'), ...Array.from({ length: 5 }, (_, b) => good(b)), good(0), ...[0, 1, 2, 3].map((i) => single(`group-single-${i}`))]);
      // The batch sent twice: one effect, the same transfers in both answers, created once.
      const [once, twice] = [first[1] ?? [], first[6] ?? []];
      assert.deepEqual(once.map((each) => each.transfer), twice.map((each) => each.transfer));
      assert.equal([...once, ...twice].filter((each) => each.created).length, 2);
      // Wave 2: failing calls inside the shared statement.
      await wave([single('group-single-4'), single('group-single-5'), good(5), overdraw('group-flag-2'), good(6), unknown('group-nope'), single('group-single-6')]);
      // 7 good batches of 1 + 2, 7 singles of 3; nothing of the failed batches.
      assert.equal(BigInt((await account(call, 'shop')).creditsPosted as string) - BigInt(before.creditsPosted as string), 42n);
      assert.equal((await account(call, 'capped-group')).debitsPosted, '14');
      for (const key of ['group-flag-a', 'group-nope-a', 'group-flag-2-a']) assert.equal(await ledger.findByKey(project, key), undefined, `${key} left nothing`);
      await balanced(call);
    });

    it('refuses bad input naming the field, changing nothing and echoing no card number', async () => {
      const base = { debit: 'cash', credit: 'shop', currency: 'EUR' };
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{ ...base, amount: '-5', idempotencyKey: 'bad-1' }, /amount: amounts are positive/],
        [{ ...base, amount: '0', idempotencyKey: 'bad-2' }, /amount: amounts must be greater than zero/],
        [{ ...base, amount: '10.50', idempotencyKey: 'bad-3' }, /amount: amounts are integers in minor units .*"1050"/],
        [{ ...base, amount: 10, idempotencyKey: 'bad-4' }, /amount/],
        [{ ...base, amount: '1e5', idempotencyKey: 'bad-5' }, /amount/],
        [{ ...base, currency: 'EUX', amount: '100', idempotencyKey: 'bad-6' }, /currency: expected an ISO 4217/],
        [{ ...base, currency: 'eur', amount: '100', idempotencyKey: 'bad-7' }, /upper case/],
        [{ ...base, credit: 'cash-jpy', amount: '100', idempotencyKey: 'bad-8' }, /currency: account "cash-jpy" holds JPY/],
        [{ ...base, credit: 'nope', amount: '100', idempotencyKey: 'bad-9' }, /credit: no account "nope"/],
        [{ ...base, credit: 'cash', amount: '100', idempotencyKey: 'bad-10' }, /must be different/],
        [{ ...base, amount: '100', idempotencyKey: 'bad-11', metadata: { note: 'card 4242 4242 4242 4242' } }, /metadata\.note: looks like a card number/],
        [{ ...base, amount: '4111111111111111', idempotencyKey: 'bad-12' }, /amount: looks like a card number/],
        [{ ...base, amount: '1'.repeat(31), idempotencyKey: 'bad-13' }, /at most 30 digits/],
      ];
      const before = ok(await call('ledger_balances'));
      for (const [transfer, pattern] of cases) {
        const outcome = await call('ledger_transfers_create', { transfer });
        assert.equal(outcome.isError, true, JSON.stringify(transfer));
        assert.match(outcome.text, pattern);
        assert.doesNotMatch(outcome.text, /4242 4242|4111111111111111/);
      }
      fails(await call('ledger_transfers_create', {}), 'ANVIL_E_INVALID_INPUT', /exactly one of/);
      fails(await call('ledger_transfers_create', { transfers: Array.from({ length: 501 }, (_, i) => ({ ...base, amount: '1', idempotencyKey: `k${i}` })) }), 'ANVIL_E_INVALID_INPUT', /transfers/);
      assert.deepEqual(ok(await call('ledger_balances')), before);
    });

    it('answers a batch with what it stored: first answers equal their replays, pending and metadata included', async () => {
      const batch = [
        { debit: 'cash', credit: 'shop', amount: '7', currency: 'EUR', idempotencyKey: 'lean-1', metadata: { z: [1, { b: 2, a: 1 }], a: 'x', n: 1.5 } },
        { debit: 'cash', credit: 'shop', amount: '8', currency: 'EUR', idempotencyKey: 'lean-2', pending: { timeoutSeconds: 600 } },
      ];
      const first = ok(await call('ledger_transfers_create', { transfers: batch })).transfers as Array<Record<string, unknown>>;
      assert.deepEqual(first.map((each) => each.created), [true, true]);
      const again = ok(await call('ledger_transfers_create', { transfers: batch })).transfers as Array<Record<string, unknown>>;
      assert.deepEqual(again.map((each) => ({ ...each, created: true })), first);
      const held = first[1] as Record<string, unknown>;
      assert.equal(held.state, 'pending');
      assert.equal(Date.parse(String(held.timeoutAt)) - Date.parse(String(held.createdAt)), 600_000);
      ok(await call('ledger_transfers_create', { void: { pendingId: held.id, idempotencyKey: 'lean-2-void' } }));
      await balanced(call);
    });

    it('holds account references in the database: no transfer to a missing, foreign or other-currency account; accounts are permanent', async () => {
      const storage = host.server.runtime.services.storage as unknown as { query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }> };
      const id = async (code: string) => String((await account(call, code)).id);
      const [cash, shop, yen] = [await id('cash'), await id('shop'), await id('cash-jpy')];
      const insert = (debit: string, credit: string, project = 'default') =>
        storage.query(
          `insert into plugin_payments.transfers (id, project, kind, debit_account_id, credit_account_id, amount, currency, state, idempotency_key, request_hash, created_by)
           values (gen_random_uuid(), $1, 'single', $2, $3, 1, 'EUR', 'posted', gen_random_uuid()::text, 'h', 'test')`,
          [project, debit, credit],
        );
      const refused = async (work: Promise<unknown>, pattern: RegExp) => {
        await assert.rejects(work, (error: { code?: string; message?: string }) => error.code === '23503' && pattern.test(String(error.message)));
      };
      await refused(insert(cash, '00000000-0000-4000-8000-000000000000'), /does not exist in its project and currency/);
      await refused(insert(cash, shop, 'mallory'), /does not exist in its project and currency/);
      await refused(insert(yen, shop), /does not exist in its project and currency/);
      await refused(storage.query('delete from plugin_payments.accounts where id = $1', [shop]), /permanent/);
      await refused(storage.query(`update plugin_payments.accounts set currency = 'USD' where id = $1`, [shop]), /permanent/);
      await refused(storage.query(`update plugin_payments.accounts set project = 'mallory' where id = $1`, [shop]), /permanent/);
      await balanced(call);
    });

    it('keeps tenants apart: another project sees none of it and cannot touch it', async () => {
      const other = await host.connect({ project: 'mallory', name: 'mallory' });
      const as = async (tool: string, args: Record<string, unknown> = {}) => flatten(await other.callTool({ name: tool, arguments: args }));
      fails(await as('ledger_accounts_get', { account: 'cash' }), 'ANVIL_E_NOT_FOUND');
      assert.deepEqual((ok(await as('ledger_accounts_list')).accounts as unknown[]).length, 0);
      assert.deepEqual(ok(await as('ledger_balances')).currencies, []);
      fails(await as('ledger_transfers_create', { transfer: { debit: 'cash', credit: 'shop', amount: '1', currency: 'EUR', idempotencyKey: 'topup-1' } }), 'ANVIL_E_NOT_FOUND');
      const mine = ok(await call('ledger_transfers_list', { limit: 1 }));
      const id = (mine.transfers as Array<Record<string, string>>)[0]?.id;
      fails(await as('ledger_transfers_get', { id }), 'ANVIL_E_NOT_FOUND');
      // The same code and key in another project are that project's own.
      ok(await as('ledger_accounts_create', { code: 'cash', kind: 'asset', currency: 'EUR' }));
      const readOnly = await host.connect({ scopes: ['ledger:read'], name: 'reader' });
      const denied = flatten(await readOnly.callTool({ name: 'ledger_transfers_create', arguments: { transfer: { debit: 'cash', credit: 'shop', amount: '1', currency: 'EUR', idempotencyKey: 'r' } } }));
      fails(denied, 'ANVIL_E_FORBIDDEN');
    });
  });
}

ledgerSuite('pglite', undefined, async () => ({ env: {}, cleanup: async () => {} }));

ledgerSuite('postgres', skipUnless('DATABASE_URL'), async () => {
  requireService('DATABASE_URL');
  const db: TempDatabase = await createTempDatabase();
  return { env: { DATABASE_URL: db.url }, cleanup: () => db.drop() };
});
