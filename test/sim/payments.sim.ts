/**
 * `npm run sim -- payments --seed S --ops N [--kills K] [--faults default|heavy]`: a seeded run of
 * payment operations against a real `anvil serve` (embedded, or Postgres with DATABASE_URL) and the
 * sandbox provider network (`anvil sandbox-psp`, seeded faults, webhooks duplicated and reordered),
 * with the server SIGKILLed and restarted at seeded points. Then, once the server has resumed what
 * was left, it checks the invariants:
 *   ledger-balanced        every currency's debits equal its credits (posted and pending)
 *   single-capture         no payment captured twice (at the provider and in the ledger)
 *   refunds-within-capture refunded ≤ captured everywhere
 *   mandate-cap            no mandate's period use above its cap, nor the payments made under it
 *   resumed                every payment terminal or waiting for a person, no refund pending
 *   reconciled             the provider report agrees with intents and ledger
 * The operations, the provider's behaviour and the kill points come from the seed; thread timing
 * does not, so a failing seed replays the same operations and faults (rerun it to reproduce).
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connectHttp, createHome, startAnvil, type AnvilServerProcess, type McpHttpSession, type ToolOutcome } from '../support/anvil-process.ts';
import { createTempDatabase, type TempDatabase } from '../support/temp-db.ts';
import { SandboxPsp } from '../../tools/payment/sandbox/psp.ts';
import { mulberry32 } from '../../contracts/mulberry32.ts';

const CARDS = ['4242424242424242', '4242424242424242', '4242424242424242', '5555555555554444', '4000000000000002', '4000000000000101'];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

class Broken extends Error {
  constructor(readonly invariant: string, detail: string) {
    super(`${invariant}: ${detail}`);
  }
}

interface Sim {
  seed: number;
  ops: number;
  log(message: string): void;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { seed: { type: 'string', default: '1' }, ops: { type: 'string', default: '1000' }, kills: { type: 'string' }, faults: { type: 'string', default: 'default' }, quiet: { type: 'boolean' } },
    strict: true,
  });
  const seed = Number(values.seed);
  const ops = Number(values.ops);
  if (!Number.isInteger(seed) || !Number.isInteger(ops) || ops < 1) {
    process.stderr.write('--seed and --ops: whole numbers (ops ≥ 1)\n');
    return 2;
  }
  const kills = values.kills === undefined ? Math.max(1, Math.floor(ops / 200)) : Number(values.kills);
  const sim: Sim = { seed, ops, log: (message) => (values.quiet ? undefined : process.stderr.write(`[sim payments seed ${seed}] ${message}\n`)) };
  const faults = values.faults === 'heavy' ? 'heavy' : 'default';
  try {
    await simulate(sim, kills, faults);
    process.stdout.write(`${JSON.stringify({ sim: 'payments', seed, ops, invariants: 'held' })}\n`);
    return 0;
  } catch (error) {
    const invariant = error instanceof Broken ? error.invariant : 'run';
    process.stdout.write(`${JSON.stringify({ sim: 'payments', seed, ops, invariants: 'broken', first: invariant, detail: (error as Error).message })}\n`);
    return 1;
  }
}

async function simulate(sim: Sim, kills: number, faults: 'default' | 'heavy'): Promise<void> {
  const random = mulberry32(sim.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  // The provider network runs in this process: still a separate process from the Anvil server,
  // which is what the faults must cross (and the server is what gets killed).
  const psp = await startPsp(sim.seed, faults);
  const home = await createHome();
  const port = await freePort();
  const configPath = path.join(home.home, 'anvil.config.json');
  writeFileSync(configPath, JSON.stringify({ plugins: [{ id: 'payments-sandbox', config: { url: psp.url, apiKey: psp.apiKey, webhookSecret: psp.webhookSecret, timeoutMs: 1_500 } }] }));
  // With DATABASE_URL the server runs on Postgres, in a database of its own made for this run.
  const database: TempDatabase | undefined = process.env.DATABASE_URL ? await createTempDatabase({ prefix: 'anvil_sim' }) : undefined;
  const env = { ANVIL_FROM_SOURCE: process.env.ANVIL_FROM_SOURCE, ...(database ? { DATABASE_URL: database.url } : {}) };
  const start = () => startAnvil({ home: home.home, args: ['--port', String(port), '--config', configPath], env, startTimeoutMs: 120_000 });
  let server: AnvilServerProcess = await start();
  const cleanup = async () => {
    await server.dispose();
    await psp.stop();
    home.remove();
    await database?.drop();
  };
  try {
    await psp.request('POST', '/v1/webhook_endpoints', { url: `${server.baseUrl}/api/payments/webhooks/sandbox` });
    const project = `sim${sim.seed}`.replace(/-/g, 'n');
    const admin = await server.createKey(project, '*', 'admin');
    const agentKey = await server.createKey(project, 'payments:write,payments:read', 'agent');
    let adminSession: McpHttpSession = await connectHttp('sdk2', server.mcpUrl, { key: admin.key });
    let agentSession: McpHttpSession = await connectHttp('sdk2', server.mcpUrl, { key: agentKey.key });
    const call = async (session: () => McpHttpSession, tool: string, args: Record<string, unknown>): Promise<ToolOutcome | undefined> => {
      try {
        return await session().callTool(tool, args);
      } catch {
        return undefined; // the server is down (killed): the operation's outcome is unknown, like a client's
      }
    };
    const asAdmin = (tool: string, args: Record<string, unknown>) => call(() => adminSession, tool, args);
    const asAgent = (tool: string, args: Record<string, unknown>) => call(() => agentSession, tool, args);

    const mandate = (await asAdmin('mandates_create', {
      grantee: `key:${agentKey.id}`, currency: 'EUR', maxPerPayment: '5000', maxPerPeriod: String(5000 * Math.max(3, Math.floor(sim.ops / 20))), period: 'total',
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(), idempotencyKey: 'sim-mandate',
    }))?.structured?.mandate as { id: string; maxPerPeriod: string } | undefined;
    if (!mandate) throw new Broken('run', 'could not create the mandate');

    const killAt = new Set(Array.from({ length: kills }, () => 1 + Math.floor(random() * sim.ops)));
    const payments: string[] = [];
    const batch: Array<Promise<unknown>> = [];
    for (let op = 1; op <= sim.ops; op++) {
      const roll = random();
      const key = `op-${op}`;
      if (roll < 0.45 || payments.length === 0) {
        const token = await psp.tokenize(pick(CARDS)).catch(() => undefined);
        if (!token) continue;
        const manual = random() < 0.2;
        const underMandate = !manual && random() < 0.3;
        const amount = String(100 + Math.floor(random() * 4900));
        const body = { amount, currency: 'EUR', payee: pick(['grocer', 'bakery', 'books']), method: { type: 'card', token }, idempotencyKey: key, ...(manual ? { captureMethod: 'manual' } : {}), ...(underMandate ? { mandate: mandate.id } : {}) };
        const duplicates = random() < 0.25 ? 3 : 1;
        batch.push((async () => {
          const runner = underMandate ? asAgent : asAdmin;
          const created = await Promise.all(Array.from({ length: duplicates }, () => runner('payments_create', body)));
          const id = (created.find((each) => each && !each.isError)?.structured?.payment as { id: string } | undefined)?.id;
          if (!id) return;
          payments.push(id);
          if (underMandate) {
            const preview = await runner('payments_preview', { id });
            const hash = preview?.structured?.previewHash;
            if (typeof hash === 'string') await Promise.all(Array.from({ length: duplicates }, () => runner('payments_confirm', { id, previewHash: hash })));
          } else await Promise.all(Array.from({ length: duplicates }, () => runner('payments_confirm', { id })));
        })());
      } else if (roll < 0.6) {
        const id = pick(payments);
        batch.push(asAdmin('payments_capture', { id, ...(random() < 0.5 ? { amount: String(50 + Math.floor(random() * 50)) } : {}) }));
      } else if (roll < 0.9) {
        const id = pick(payments);
        const body = { id, amount: String(1 + Math.floor(random() * 2000)), idempotencyKey: key };
        const duplicates = random() < 0.3 ? 2 : 1;
        for (let i = 0; i < duplicates; i++) batch.push(asAdmin('payments_refund', body));
      } else {
        batch.push(asAdmin('payments_cancel', { id: pick(payments) }));
      }
      if (batch.length >= 4 || killAt.has(op)) {
        if (killAt.has(op)) {
          // Kill while the batch is in flight: some calls land, some die with the server.
          await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 300)));
          sim.log(`op ${op}: SIGKILL`);
          server.child.kill('SIGKILL');
          await Promise.allSettled(batch.splice(0));
          await server.exited;
          server = await start();
          adminSession = await connectHttp('sdk2', server.mcpUrl, { key: admin.key });
          agentSession = await connectHttp('sdk2', server.mcpUrl, { key: agentKey.key });
          sim.log(`op ${op}: restarted`);
        } else await Promise.allSettled(batch.splice(0));
      }
      if (op % 100 === 0) sim.log(`${op}/${sim.ops} operations`);
    }
    await Promise.allSettled(batch.splice(0));
    await checkInvariants(sim, asAdmin, psp, payments, mandate);
  } finally {
    await cleanup();
  }
}

interface Psp {
  url: string;
  apiKey: string;
  webhookSecret: string;
  tokenize(number: string): Promise<string>;
  request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: T }>;
  stop(): Promise<void>;
}

async function startPsp(seed: number, faults: 'default' | 'heavy'): Promise<Psp> {
  const apiKey = 'sk_sim';
  const webhookSecret = 'whsec_sim_secret';
  const psp = new SandboxPsp({ port: 0, seed, faults, apiKey, webhookSecret, timeoutHoldMs: 2_500 });
  const url = await psp.listen();
  const request = async <T,>(method: 'GET' | 'POST', path: string, body?: unknown) => {
    const response = await fetch(new URL(path, url), { method, headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: response.status, json: (await response.json()) as T };
  };
  return {
    url,
    apiKey,
    webhookSecret,
    request,
    tokenize: async (number) => (await request<{ id: string }>('POST', '/v1/tokens', { number })).json.id,
    stop: () => psp.close(),
  };
}

type Caller = (tool: string, args: Record<string, unknown>) => Promise<ToolOutcome | undefined>;

async function required(caller: Caller, tool: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const outcome = await caller(tool, args);
  if (!outcome || outcome.isError || !outcome.structured) throw new Broken('run', `${tool} failed: ${outcome?.text ?? 'no answer'}`);
  return outcome.structured;
}

async function checkInvariants(sim: Sim, call: Caller, psp: Psp, ids: string[], mandate: { id: string; maxPerPeriod: string }): Promise<void> {
  // resumed: wait for the server to settle what the kills and lost answers left.
  const deadline = Date.now() + 90_000;
  let unsettled: string[] = ids;
  while (unsettled.length > 0 && Date.now() < deadline) {
    const next: string[] = [];
    for (const id of unsettled) {
      const got = await required(call, 'payments_get', { id });
      const payment = got.payment as { status: string };
      const refunds = got.refunds as Array<{ status: string }>;
      if (payment.status === 'processing' || refunds.some((r) => r.status === 'pending')) next.push(id);
    }
    unsettled = next;
    if (unsettled.length > 0) await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  if (unsettled.length > 0) throw new Broken('resumed', `payments still processing or with pending refunds after 90 s: ${unsettled.slice(0, 5).join(', ')}`);
  sim.log(`${ids.length} payments settled; checking invariants`);

  const { currencies } = (await required(call, 'ledger_balances', {})) as { currencies: Array<{ currency: string; debitsPosted: string; creditsPosted: string; debitsPending: string; creditsPending: string }> };
  for (const row of currencies) {
    if (row.debitsPosted !== row.creditsPosted || row.debitsPending !== row.creditsPending) throw new Broken('ledger-balanced', JSON.stringify(row));
  }

  const { payments: report } = (await psp.request<{ payments: Array<{ reference: string; amount_captured: string; amount_refunded: string }> }>('GET', '/v1/report')).json;
  const capturedAt = new Map<string, number>();
  for (const payment of report) {
    if (BigInt(payment.amount_captured) > 0n) capturedAt.set(payment.reference, (capturedAt.get(payment.reference) ?? 0) + 1);
    if (BigInt(payment.amount_refunded) > BigInt(payment.amount_captured)) throw new Broken('refunds-within-capture', `provider payment for ${payment.reference}`);
  }
  let underMandate = 0n;
  for (const id of new Set(ids)) {
    if ((capturedAt.get(id) ?? 0) > 1) throw new Broken('single-capture', `payment ${id} captured ${capturedAt.get(id)} times at the provider`);
    const got = await required(call, 'payments_get', { id });
    const payment = got.payment as { status: string; amountCaptured: string; amountRefunded: string; mandateId: string | null; amount: string };
    if (!['succeeded', 'failed', 'canceled', 'requires_capture', 'requires_action', 'requires_confirmation'].includes(payment.status)) throw new Broken('resumed', `payment ${id} is ${payment.status}`);
    if (BigInt(payment.amountRefunded) > BigInt(payment.amountCaptured)) throw new Broken('refunds-within-capture', `payment ${id}`);
    const captures = (await required(call, 'ledger_transfers_list', { metadata: { intent: id, kind: 'capture' } })).transfers as unknown[];
    if (captures.length > 1) throw new Broken('single-capture', `payment ${id} has ${captures.length} capture transfers`);
    if (payment.mandateId && payment.status === 'succeeded') underMandate += BigInt(payment.amount);
  }
  const used = ((await required(call, 'mandates_get', { id: mandate.id })).mandate as { usedThisPeriod: string }).usedThisPeriod;
  if (BigInt(used) > BigInt(mandate.maxPerPeriod) || underMandate > BigInt(mandate.maxPerPeriod)) {
    throw new Broken('mandate-cap', `used ${used}, paid ${underMandate.toString()} under a cap of ${mandate.maxPerPeriod}`);
  }
  const { reports } = (await required(call, 'payments_reconcile', {})) as { reports: Array<{ differences: unknown[] }> };
  const differences = reports.flatMap((each) => each.differences);
  if (differences.length > 0) throw new Broken('reconciled', JSON.stringify(differences.slice(0, 3)));
}
