/**
 * `payments`: ledger transfers per second with the invariants and idempotency on (flag
 * constraints, unique keys, account locks), single and in batches of 100, on Postgres
 * (DATABASE_URL) and embedded (PGlite), each against a raw INSERT of the same rows into a plain
 * table on the same backend in the same run, interleaved (raw, ledger, raw, ledger; best of two).
 * Then intents end to end through the sandbox provider network (create + confirm, which routes,
 * authorizes and captures over HTTP and books four ledger transfers) against raw authorizations
 * sent straight to the sandbox.
 * Knobs: BENCH_PAYMENTS_N (transfers per leg, default 20000: at 2000 a batch leg was 20 calls, about 0.1 s,
 * so one GC pause or scheduler hiccup on either side decided the ratio, which swung 0.42–0.61 between runs), BENCH_PAYMENTS_INTENTS (default 200).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTempDatabase, type TempDatabase } from '../support/temp-db.ts';
import { providerConfig, startSandboxPsp } from '../payments/support.ts';
import { loadConfig } from '../../server/config/load.ts';
import { silentLogger } from '../../server/log.ts';
import { startAnvilServer, type AnvilServer } from '../../server/server.ts';
import { paymentsPlugin } from '../../tools/payment/index.ts';
import type { Ledger } from '../../tools/payment/ledger/ledger.ts';
import { sandboxProviderPlugin } from '../../tools/payment/providers/plugin.ts';
import type { BenchContext, Figure } from './run.ts';

export const name = 'payments';
export const description = 'ledger transfers/s (single, batches of 100) on Postgres and embedded vs raw INSERT of the same rows; intents/s end to end through the sandbox';

const CONCURRENCY = 8;
const BATCH = 100;

function envInt(key: string, fallback: number): number {
  const raw = process.env[key];
  return raw ? Number(raw) : fallback;
}

async function pool(count: number, concurrency: number, work: (index: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        await work(index);
      }
    }),
  );
  return (count / (performance.now() - started)) * 1000;
}

interface Query {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

async function ledgerLegs(label: string, server: AnvilServer, n: number, context: BenchContext): Promise<Figure[]> {
  const exported = server.plugins.exportsOf(paymentsPlugin);
  if (!exported) throw new Error('the payments plugin is not active');
  const ledger: Ledger = exported.ledger();
  const storage = server.runtime.services.storage as unknown as Query;
  await storage.query('create table if not exists public.bench_raw_transfers (like plugin_payments.transfers including defaults)');
  await storage.query('alter table public.bench_raw_transfers add primary key (id)');
  const project = `bench-${label}`;
  const accounts = Array.from({ length: 10 }, (_, i) => `acct-${i}`);
  for (const code of accounts) await ledger.createAccount(project, { code, kind: 'asset', currency: 'EUR' });
  const ids = (await Promise.all(accounts.map((code) => ledger.getAccount(project, code)))).map((account) => account.id);
  const pair = (i: number) => [i % accounts.length, (i * 7 + 3) % accounts.length === i % accounts.length ? (i + 1) % accounts.length : (i * 7 + 3) % accounts.length] as const;
  const rawRow = (i: number) => {
    const [d, c] = pair(i);
    return [randomUUID(), project, 'single', ids[d], ids[c], '100', 'EUR', 'posted', `raw-${label}-${i}-${randomUUID()}`, 'h'.repeat(64), '{}', 'bench'];
  };
  const rawInsert = 'insert into public.bench_raw_transfers (id, project, kind, debit_account_id, credit_account_id, amount, currency, state, idempotency_key, request_hash, metadata, created_by) values ';
  const placeholders = (rows: number) => Array.from({ length: rows }, (_, r) => `(${Array.from({ length: 12 }, (_, c) => `$${r * 12 + c + 1}`).join(', ')})`).join(', ');
  let round = 0;
  const transfer = (i: number) => {
    const [d, c] = pair(i);
    return { debit: accounts[d] as string, credit: accounts[c] as string, amount: '100', currency: 'EUR', idempotencyKey: `t-${round}-${i}`, metadata: { i } };
  };

  const best = { raw: 0, ledger: 0, rawBatch: 0, ledgerBatch: 0 };
  for (round = 1; round <= 2; round++) {
    context.log(`${label}: round ${round}: single transfers, concurrency ${CONCURRENCY}`);
    best.raw = Math.max(best.raw, await pool(n, CONCURRENCY, (i) => storage.query(`${rawInsert}${placeholders(1)}`, rawRow(i))));
    best.ledger = Math.max(best.ledger, await pool(n, CONCURRENCY, (i) => ledger.createTransfers(project, [transfer(i)], 'bench')));
    context.log(`${label}: round ${round}: batches of ${BATCH}`);
    const batches = Math.max(1, Math.floor(n / BATCH));
    best.rawBatch = Math.max(best.rawBatch, (await pool(batches, CONCURRENCY, (b) => storage.query(`${rawInsert}${placeholders(BATCH)}`, Array.from({ length: BATCH }, (_, r) => rawRow(b * BATCH + r)).flat()))) * BATCH);
    best.ledgerBatch = Math.max(
      best.ledgerBatch,
      (await pool(batches, CONCURRENCY, (b) => ledger.createTransfers(project, Array.from({ length: BATCH }, (_, r) => ({ ...transfer(b * BATCH + r), idempotencyKey: `b-${round}-${b}-${r}` })), 'bench'))) * BATCH,
    );
  }
  const totals = await ledger.balances(project);
  if (!totals.every((row) => row.balanced)) throw new Error(`${label}: the ledger does not balance after the benchmark`);
  return [
    { metric: `ledger_${label}_transfers_per_s`, value: best.ledger, unit: 'transfers/s', anchor: best.raw },
    { metric: `ledger_${label}_batch${BATCH}_transfers_per_s`, value: best.ledgerBatch, unit: 'transfers/s', anchor: best.rawBatch },
  ];
}

async function start(home: string, db: TempDatabase | undefined, psp?: ReturnType<typeof providerConfig>): Promise<AnvilServer> {
  const { config } = loadConfig({ env: { ANVIL_HOME: home, ANVIL_LOG_LEVEL: 'silent', ...(db ? { DATABASE_URL: db.url } : {}) }, cwd: home });
  return startAnvilServer({
    config,
    log: silentLogger(),
    http: false,
    stdio: false,
    pluginBaseDir: home,
    defaultMetrics: false,
    extraPlugins: psp ? [{ descriptor: sandboxProviderPlugin as never, config: psp, permissions: ['network'] }] : [],
  });
}

export async function run(context: BenchContext): Promise<Figure[]> {
  const n = envInt('BENCH_PAYMENTS_N', 20_000);
  const intents = envInt('BENCH_PAYMENTS_INTENTS', 200);
  const figures: Figure[] = [];
  const home = await mkdtemp(join(tmpdir(), 'anvil-bench-pay-'));
  const db = process.env.DATABASE_URL ? await createTempDatabase() : undefined;
  const psp = await startSandboxPsp({ faults: 'none' });
  let server: AnvilServer | undefined;
  try {
    if (db) {
      server = await start(home, db);
      figures.push(...(await ledgerLegs('postgres', server, n, context)));
      await server.shutdown('bench: next backend');
      server = undefined;
    } else context.log('DATABASE_URL not set: the Postgres leg is skipped');
    const embeddedHome = await mkdtemp(join(tmpdir(), 'anvil-bench-pay-e-'));
    try {
      server = await start(embeddedHome, undefined, providerConfig(psp, 5_000));
      figures.push(...(await ledgerLegs('embedded', server, Math.min(n, 1000), context)));

      context.log(`intents end to end through the sandbox: ${intents} create + confirm, concurrency ${CONCURRENCY}`);
      const runtime = server.plugins.exportsOf(paymentsPlugin)?.payments();
      if (!runtime) throw new Error('the payments plugin is not active');
      const tokens = await Promise.all(Array.from({ length: intents }, () => psp.tokenize('4242424242424242')));
      const principal = { id: 'local:bench', kind: 'local' as const, project: 'bench-intents', scopes: ['*'] };
      const rawRate = await pool(intents, CONCURRENCY, (i) =>
        fetch(new URL('/v1/payments', psp.url), {
          method: 'POST',
          headers: { authorization: `Bearer ${psp.apiKey}`, 'content-type': 'application/json', 'idempotency-key': `raw-${i}` },
          body: JSON.stringify({ token: tokens[i], amount: '1000', currency: 'EUR', acquirer: 'alpha', capture: true, reference: `raw-${i}` }),
        }).then((response) => response.json()),
      );
      const outcomes = new Map<string, number>();
      const rate = await pool(intents, CONCURRENCY, async (i) => {
        const { intent } = await runtime.createPayment('bench-intents', principal, { amount: '1000', currency: 'EUR', payee: 'shop', method: { type: 'card', token: tokens[i] as string }, idempotencyKey: `i-${i}` });
        const confirmed = await runtime.confirmPayment({ project: 'bench-intents', principal }, intent.id, undefined);
        const outcome = confirmed.status === 'succeeded' ? 'succeeded' : `${confirmed.status}:${confirmed.declineCode ?? ''}`;
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      });
      context.log(`intent outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
      // Only succeeded intents count: a failed one did less work.
      figures.push({ metric: 'intents_end_to_end_per_s', value: (rate * (outcomes.get('succeeded') ?? 0)) / intents, unit: 'intents/s', anchor: rawRate });
    } finally {
      await server?.shutdown('bench done').catch(() => {});
      server = undefined;
      await rm(embeddedHome, { recursive: true, force: true });
    }
    return figures;
  } finally {
    await server?.shutdown('bench done').catch(() => {});
    await psp.stop();
    await db?.drop().catch(() => {});
    await rm(home, { recursive: true, force: true });
  }
}
