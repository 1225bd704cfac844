/**
 * The ledger locks and updates accounts by probing the primary key once per account of the batch,
 * however many accounts the ledger holds and whatever the planner knew when it made the plan
 * (migrations/0012, ledger/sql/pending-expire.sql). Checked on the plans (EXPLAIN, no timing), on
 * embedded PGlite and on Postgres:
 * - create_transfers() and the statement trigger that checks a batch's accounts: plpgsql plans a
 *   statement once per session and, after five calls, reuses a generic plan until the table's
 *   statistics or definition change (on PGlite: never). So each statement is prepared the way its
 *   function runs it (its own settings, a generic plan) while the ledger has 10 accounts, then
 *   explained again after 30,000 more: that second plan is the one a long-lived session keeps
 *   running. Before 0012 it was a hash join over a scan of every account, for the lock and for the
 *   update, and the check read every account of the project once per account of the batch.
 * - the expiry sweep is planned on each call; with a full batch due at 30,000 accounts it must
 *   probe too (before, it was the same hash join over every account).
 * - resolve_pending() (migrations/0013): its lock and update of the two accounts, planned the same
 *   way on 10 accounts, probe the key (before, a scan: cheaper on one page, and kept).
 * Then transfers, pending ones and their expiry run for real on that ledger and keep it balanced.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTestHost, type TestHost } from 'anvil/testing';
import { skipUnless, requireService } from '../support/backends.ts';
import { createTempDatabase, type TempDatabase } from '../support/temp-db.ts';
import { paymentsPlugin } from '../../tools/payment/index.ts';
import type { TransferInput } from '../../tools/payment/ledger/ledger.ts';
import { loadSql } from '../../tools/payment/sql.ts';

const SCHEMA = 'plugin_payments';
const MANY = 30_000;
const ARGS = ['p_project', 'p_ids', 'p_keys', 'p_hashes', 'p_debits', 'p_credits', 'p_amounts', 'p_currencies', 'p_kinds', 'p_timeouts', 'p_metadata', 'p_by'] as const;
const TYPES = ['text', 'uuid[]', 'text[]', 'text[]', 'text[]', 'text[]', 'numeric[]', 'text[]', 'text[]', 'integer[]', 'text[]', 'text'] as const;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Recheck Cond'?: string;
  'Subplan Name'?: string;
  Plans?: PlanNode[];
}
type Query = (text: string, values?: unknown[]) => Promise<{ rows: Array<Record<string, unknown>> }>;

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

function cte(plan: PlanNode, name: string): PlanNode {
  const found = nodes(plan).find((node) => node['Subplan Name'] === `CTE ${name}`);
  assert.ok(found, `the plan has CTE ${name}`);
  return found;
}

function describePlan(plan: PlanNode): string {
  return nodes(plan)
    .map((node) => `${node['Node Type']}${node['Relation Name'] ? ` on ${node['Relation Name']}` : ''}${node['Index Cond'] ? ` [${node['Index Cond']}]` : ''}`)
    .join(' / ');
}

/**
 * Every read of accounts under `plan` is a probe: an index scan with an index condition on the
 * key (never a sequential scan, nor a whole-index scan feeding a merge join).
 */
function onlyProbes(plan: PlanNode, key: RegExp, label: string): void {
  const reads = nodes(plan).filter((node) => node['Relation Name'] === 'accounts' && node['Node Type'] !== 'ModifyTable');
  assert.ok(reads.length > 0, `${label}: reads accounts`);
  for (const node of reads) {
    const probe =
      ((node['Node Type'] === 'Index Scan' || node['Node Type'] === 'Index Only Scan') && key.test(node['Index Cond'] ?? '')) ||
      (node['Node Type'] === 'Bitmap Heap Scan' && key.test(node['Recheck Cond'] ?? ''));
    assert.ok(probe, `${label}: accounts read by ${node['Node Type']}${node['Index Cond'] ? ` [${node['Index Cond']}]` : ''}, not a probe; plan: ${describePlan(plan)}`);
  }
}

/** The lock step and the update of create_transfers()/the sweep: primary-key probes only, locks in a nested loop. */
function probesAccounts(plan: PlanNode, label: string): void {
  const locked = cte(plan, 'locked');
  onlyProbes(locked, /\bid = /, `${label}, lock step`);
  assert.ok(nodes(locked).some((node) => node['Node Type'] === 'Nested Loop'), `${label}, lock step: one probe per account (nested loop); plan: ${describePlan(locked)}`);
  onlyProbes(cte(plan, 'upd'), /\bid = /, `${label}, update`);
}

function literal(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array[${value.map(literal).join(', ')}]`;
  return `'${String(value).replaceAll("'", "''")}'`;
}

function plansSuite(name: string, skip: string | undefined, env: () => Promise<{ env: Record<string, string>; cleanup(): Promise<void> }>): void {
  describe(`ledger plans on ${name}`, { skip }, () => {
    let host: TestHost;
    let cleanup: () => Promise<void> = async () => {};
    let storage: { query: Query; transaction<T>(work: (client: { query: Query }) => Promise<T>): Promise<T> };
    const addAccounts = (db: { query: Query }, from: number, to: number) =>
      db.query(
        `insert into ${SCHEMA}.accounts (id, project, code, kind, currency, request_hash)
         select gen_random_uuid(), 'default', 'acct-' || g, 'asset', 'EUR', 'h' from generate_series(${from}, ${to}) g`,
      );
    before(async () => {
      const opened = await env();
      cleanup = opened.cleanup;
      host = await createTestHost({ plugins: [], env: opened.env });
      storage = host.server.runtime.services.storage as unknown as typeof storage;
      await addAccounts(storage, 1, 10);
    });
    after(async () => {
      await host?.close();
      await cleanup();
    });

    // First: it needs the ledger at 10 accounts (the next test adds the many).
    it('resolve_pending, planned on 10 accounts, locks and updates its two accounts by primary-key probes', async () => {
      const fn = (await storage.query(`select prosrc, proconfig from pg_proc where proname = 'resolve_pending' and pronamespace = '${SCHEMA}'::regnamespace`)).rows[0] as { prosrc: string; proconfig: string[] | null };
      // Its two statements on accounts, as it runs them (the claimed row's fields become parameters).
      const lock = /perform 1 from [^;]+ for update;/.exec(fn.prosrc)?.[0];
      const update = /update \S+\.accounts a\b[^;]+;/.exec(fn.prosrc)?.[0];
      assert.ok(lock && update, 'found the lock and the update of resolve_pending');
      const parameters = (text: string) =>
        text
          .replace(/;$/, '')
          .replace(/^perform 1/, 'select 1')
          .replaceAll('claimed.debit_account_id', '$1::uuid')
          .replaceAll('claimed.credit_account_id', '$2::uuid')
          .replaceAll('claimed.amount', '$3::numeric')
          .replace(/\bposted\b(?! *=)/g, '$4::numeric');
      const name = `resolve_${randomUUID().replaceAll('-', '')}`;
      const plans = await storage.transaction(async (client) => {
        for (const setting of fn.proconfig ?? []) {
          const [key, value] = setting.split('=') as [string, string];
          await client.query('select set_config($1, $2, true)', [key, value]);
        }
        await client.query('set local plan_cache_mode = force_generic_plan');
        await client.query(`prepare ${name}_lock(uuid, uuid) as ${parameters(lock)}`);
        await client.query(`prepare ${name}_update(uuid, uuid, numeric, numeric) as ${parameters(update)}`);
        try {
          const ids = `'${randomUUID()}', '${randomUUID()}'`;
          const explain = async (text: string) => ((await client.query(`explain (format json) ${text}`)).rows[0]?.['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]?.Plan as PlanNode;
          return { lock: await explain(`execute ${name}_lock(${ids})`), update: await explain(`execute ${name}_update(${ids}, 1, 1)`) };
        } finally {
          await client.query(`deallocate ${name}_lock`);
          await client.query(`deallocate ${name}_update`);
        }
      });
      onlyProbes(plans.lock, /\bid = /, 'resolve_pending, lock');
      onlyProbes(plans.update, /\bid = /, 'resolve_pending, update');
    });

    it(`create_transfers and its account check, planned on 10 accounts, still probe each account at ${MANY + 10}`, async () => {
      const source = async (name: string) =>
        (await storage.query(`select prosrc, proconfig from pg_proc where proname = $1 and pronamespace = '${SCHEMA}'::regnamespace`, [name])).rows[0] as { prosrc: string; proconfig: string[] | null };
      const fn = await source('create_transfers');
      const check = await source('transfers_check_accounts');
      // The statement that inserts the batch and moves the balances, as the function runs it.
      const start = fn.prosrc.indexOf('with input as');
      const end = fn.prosrc.indexOf('select count(*) into made from ins;');
      assert.ok(start >= 0 && end > start, 'found the insert-and-move statement of create_transfers');
      const statement = ARGS.reduce((text, arg, index) => text.replace(new RegExp(`\\b${arg}\\b`, 'g'), `$${index + 1}`), `${fn.prosrc.slice(start, end)}select count(*) from ins`);
      // The statement trigger's check over the inserted rows (its transition table stood in for by a
      // temporary table of the same name).
      const checkStart = check.prosrc.indexOf('select count(*)');
      const checkEnd = check.prosrc.indexOf(';', checkStart);
      assert.ok(checkStart >= 0 && checkEnd > checkStart, 'found the statement of transfers_check_accounts');
      const checkStatement = check.prosrc.slice(checkStart, checkEnd).replace(/\binto missing\b/, '');
      const ids = Array.from({ length: 50 }, () => randomUUID());
      const values = ['default', ids, ids.map((_, i) => `plan-${i}`), ids.map(() => 'h'), ids.map((_, i) => `acct-${(i % 5) + 1}`), ids.map((_, i) => `acct-${(i % 5) + 6}`), ids.map(() => '1'), ids.map(() => 'EUR'), ids.map(() => 'single'), ids.map(() => null), ids.map(() => '{}'), 'plans'];
      const name = `plan_${randomUUID().replaceAll('-', '')}`;
      const execute = `explain (format json) execute ${name}(${values.map((value, index) => `${literal(value)}::${TYPES[index]}`).join(', ')})`;
      const plans = await storage.transaction(async (client) => {
        const explain = async (text: string) => ((await client.query(text)).rows[0]?.['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]?.Plan as PlanNode;
        // The functions' own settings (their SET clauses), and the generic plan plpgsql settles on.
        for (const setting of [...(fn.proconfig ?? []), ...(check.proconfig ?? [])]) {
          const [key, value] = setting.split('=') as [string, string];
          await client.query('select set_config($1, $2, true)', [key, value]);
        }
        await client.query(`set local plan_cache_mode = force_generic_plan`);
        await client.query(`create temporary table inserted_transfers (like ${SCHEMA}.transfers) on commit drop`);
        await client.query(`prepare ${name}(${TYPES.join(', ')}) as ${statement}`);
        await client.query(`prepare ${name}_check as ${checkStatement}`);
        try {
          const small = await explain(execute);
          const checkSmall = await explain(`explain (format json) execute ${name}_check`);
          await addAccounts(client, 11, MANY + 10);
          const kept = await explain(execute);
          const checkKept = await explain(`explain (format json) execute ${name}_check`);
          await client.query(`set local plan_cache_mode = force_custom_plan`);
          const fresh = await explain(execute);
          return { small, kept, fresh, checkSmall, checkKept };
        } finally {
          await client.query(`deallocate ${name}`);
          await client.query(`deallocate ${name}_check`);
        }
      });
      // The plans made on 10 accounts are the ones kept: what a session runs after the ledger grew.
      assert.equal(describePlan(plans.kept), describePlan(plans.small), 'the generic plan was kept');
      assert.equal(describePlan(plans.checkKept), describePlan(plans.checkSmall), 'the generic plan of the check was kept');
      probesAccounts(plans.kept, `planned on 10 accounts, kept at ${MANY + 10}`);
      probesAccounts(plans.fresh, `planned again at ${MANY + 10} accounts`);
      onlyProbes(plans.checkKept, /\bid = /, `account check planned on 10 accounts, kept at ${MANY + 10}`);
      const count = (await storage.query(`select count(*)::int as n from ${SCHEMA}.accounts where project = 'default'`)).rows[0]?.n;
      assert.equal(count, MANY + 10, 'the accounts were kept for what follows');
    });

    it(`the expiry sweep, with a full batch due, probes each account at ${MANY + 10}`, async () => {
      const sweep = loadSql(import.meta.url, '../../tools/payment/ledger/sql/pending-expire.sql').replaceAll('{{schema}}', SCHEMA);
      // 1,000 pending transfers past their timeout, known to the planner (analyzed), in a transaction
      // rolled back: the sweep expects a full batch of 200, i.e. up to 400 accounts to move, which
      // before was a hash join over every account (cheaper, the planner thought, than 400 probes).
      const rollback = new Error('rolled back on purpose');
      const plan = await storage
        .transaction(async (client) => {
          await client.query(
            `insert into ${SCHEMA}.transfers (id, project, kind, debit_account_id, credit_account_id, amount, currency, state, timeout_at, idempotency_key, request_hash, created_by)
             select gen_random_uuid(), 'default', 'pending', d.id, c.id, 1, 'EUR', 'pending', now() - interval '1 hour', 'due-' || g, 'h', 'plans'
             from generate_series(1, 1000) g
             join ${SCHEMA}.accounts d on d.project = 'default' and d.code = 'acct-' || (10 + g)
             join ${SCHEMA}.accounts c on c.project = 'default' and c.code = 'acct-' || (2000 + g)`,
          );
          await client.query(`analyze ${SCHEMA}.transfers`);
          const rows = (await client.query(`explain (format json) ${sweep}`)).rows[0]?.['QUERY PLAN'] as Array<{ Plan: PlanNode }>;
          throw Object.assign(rollback, { plan: (rows[0] as { Plan: PlanNode }).Plan });
        })
        .catch((error: unknown) => {
          if (error !== rollback) throw error;
          return (error as Error & { plan: PlanNode }).plan;
        });
      probesAccounts(plan, 'pending-expire');
    });

    it(`moves, holds and expires money among ${MANY + 10} accounts, balanced`, async () => {
      const ledger = host.server.plugins.exportsOf(paymentsPlugin)?.ledger();
      assert.ok(ledger);
      // 200 transfers over 300 of the many accounts, in two batches; each account's net is known.
      const batch = (offset: number): TransferInput[] =>
        Array.from({ length: 100 }, (_, i) => ({ debit: `acct-${1_000 + ((offset + i) % 150)}`, credit: `acct-${20_000 + ((offset + i) % 150)}`, amount: String(i + 1), currency: 'EUR', idempotencyKey: `many-${offset + i}` }));
      const first = await ledger.createTransfers('default', batch(0), 'plans');
      const second = await ledger.createTransfers('default', batch(100), 'plans');
      assert.equal([...first, ...second].filter((each) => each.created).length, 200);
      const replay = await ledger.createTransfers('default', batch(0), 'plans');
      assert.ok(replay.every((each) => !each.created), 'a replay moves nothing');
      const expected = new Map<string, bigint>();
      for (const transfer of [...batch(0), ...batch(100)]) {
        expected.set(transfer.debit, (expected.get(transfer.debit) ?? 0n) + BigInt(transfer.amount));
        expected.set(transfer.credit, (expected.get(transfer.credit) ?? 0n) - BigInt(transfer.amount));
      }
      for (const [code, debit] of [...expected].filter((_, i) => i % 37 === 0)) {
        const account = await ledger.getAccount('default', code);
        assert.equal(BigInt(account.debitsPosted) - BigInt(account.creditsPosted), debit, code);
      }
      // Pending transfers that time out: the sweep releases exactly what they held.
      const holds = Array.from({ length: 20 }, (_, i) => ({ debit: `acct-${5_000 + i}`, credit: `acct-${25_000 + i}`, amount: '7', currency: 'EUR', idempotencyKey: `hold-${i}`, pending: { timeoutSeconds: 1 } }));
      await ledger.createTransfers('default', holds, 'plans');
      assert.equal((await ledger.getAccount('default', 'acct-5000')).debitsPending, '7');
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      await ledger.expirePending();
      for (const code of ['acct-5000', 'acct-5019', 'acct-25000']) {
        const account = await ledger.getAccount('default', code);
        assert.deepEqual([account.debitsPending, account.creditsPending], ['0', '0'], code);
      }
      for (const totals of await ledger.balances('default')) {
        assert.equal(totals.debits_posted, totals.credits_posted);
        assert.equal(totals.debits_pending, totals.credits_pending);
      }
    });
  });
}

plansSuite('pglite', undefined, async () => ({ env: {}, cleanup: async () => {} }));

plansSuite('postgres', skipUnless('DATABASE_URL'), async () => {
  requireService('DATABASE_URL');
  const db: TempDatabase = await createTempDatabase();
  return { env: { DATABASE_URL: db.url }, cleanup: () => db.drop() };
});
