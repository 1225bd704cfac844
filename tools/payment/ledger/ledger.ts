/**
 * The double-entry ledger: accounts with TigerBeetle's balance flags, single and two-phase
 * (pending → post | void | expire) transfers, idempotency keys bound to a hash of the request.
 *
 * Invariants, each held by the database rather than by this code alone:
 * - every transfer moves one amount from a debit to a credit account of the same currency, so per
 *   currency total debits = total credits (pending and posted alike);
 * - an account's flags are CHECK constraints: a statement that would break one fails whole;
 * - one idempotency key per project makes one transfer: a unique index decides between concurrent
 *   duplicates, the loser reads the winner's row and returns it (same body) or a conflict (other body);
 * - a pending transfer leaves 'pending' once, by a conditional update only one caller can win.
 */
import { randomUUID } from 'node:crypto';
import { AnvilError, ErrorCodes, type SqlExecutor, type PluginSql } from 'anvil/plugin';
import { canonicalJson, requestHash } from '../canonical.ts';
import { parseAmount, parseCurrency } from '../money.ts';
import { loadSql, pgError, PgCodes } from '../sql.ts';
import { type Account, type AccountFlag, type AccountKind, type AccountRow, type Transfer, type TransferRow, toAccount, toTransfer, flagBits } from './rows.ts';

export { type Account, type AccountFlag, type AccountKind, type Transfer } from './rows.ts';

const sql = (name: string) => loadSql(import.meta.url, `./sql/${name}.sql`);
const SQL = {
  accountInsert: sql('account-insert'),
  accountGet: sql('account-get'),
  accountsByCode: sql('accounts-by-code'),
  accountsList: sql('accounts-list'),
  transfersCreate: sql('transfers-create'),
  transfersByKey: sql('transfers-by-key'),
  transferGet: sql('transfer-get'),
  transfersList: sql('transfers-list'),
  pendingResolveCall: sql('pending-resolve-call'),
  pendingExpire: sql('pending-expire'),
  balances: sql('balances'),
} as const;

export const LEDGER_LIMITS = { batchMax: 500, listMax: 500, codeMaxChars: 120, keyMaxChars: 200, metadataMaxBytes: 8_192, timeoutMaxSeconds: 30 * 86_400 } as const;

export interface AccountInput {
  code: string;
  kind: AccountKind;
  currency: string;
  flags?: readonly AccountFlag[];
  metadata?: Record<string, unknown>;
}

export interface TransferInput {
  debit: string;
  credit: string;
  amount: string;
  currency: string;
  idempotencyKey: string;
  metadata?: Record<string, unknown>;
  /** Two-phase: reserve the amount until posted, voided or `timeoutSeconds` pass. */
  pending?: { timeoutSeconds?: number };
}

export interface ResolveInput {
  pendingId: string;
  action: 'post' | 'void';
  /** post only: at most the pending amount (default: all of it); the rest is released. */
  amount?: string;
  idempotencyKey: string;
  metadata?: Record<string, unknown>;
}

export interface CreatedTransfer {
  transfer: Transfer;
  created: boolean;
}

function invalid(field: string, message: string, reason?: string): AnvilError {
  return new AnvilError(ErrorCodes.INVALID_INPUT, `${field}: ${message}`, { details: { field, ...(reason ? { reason } : {}) } });
}

function keyConflict(key: string, existingId: string): AnvilError {
  return new AnvilError(
    ErrorCodes.CONFLICT,
    `Idempotency key "${key}" was already used with a different request (transfer ${existingId}); retry with the same body or use a new key`,
    { details: { idempotencyKey: key, transferId: existingId, reason: 'idempotency_key_reused' } },
  );
}

function checkMetadata(metadata: Record<string, unknown> | undefined, field: string): string {
  const text = canonicalJson(metadata ?? {});
  if (Buffer.byteLength(text) > LEDGER_LIMITS.metadataMaxBytes) throw invalid(field, `at most ${LEDGER_LIMITS.metadataMaxBytes} bytes of JSON`);
  return text;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const retryable = new Set<string>([PgCodes.deadlock, PgCodes.serialization]);

/** Runs `work` again when Postgres chose it as a deadlock or serialization victim (it changed nothing). */
async function withRetry<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= 5 || !retryable.has(pgError(error).code ?? '')) throw error;
      await new Promise((resolve) => setTimeout(resolve, attempt * 5 + Math.floor(Math.random() * 10)));
    }
  }
}

type Prepared = ReturnType<Ledger['prepare']>;

/**
 * A transfer this call inserted: create_transfers answers for all of them with one header row, their
 * count and created_at (migrations/0011); the rest of each is the request as sent. Its timeout_at is
 * created_at + its timeout, as the database computed it (whole seconds: equal to the millisecond).
 */
function insertedRow(each: Prepared, createdAt: Date | string, by: string): TransferRow {
  const kind = each.input.pending ? 'pending' : 'single';
  const timeout = each.input.pending?.timeoutSeconds;
  return {
    id: each.id,
    kind,
    // (A Transfer names its accounts by code: their ids are not read from here.)
    debit_account_id: '',
    credit_account_id: '',
    debit_code: each.input.debit,
    credit_code: each.input.credit,
    amount: each.amount.toString(),
    currency: each.currency,
    state: kind === 'pending' ? 'pending' : 'posted',
    pending_id: null,
    timeout_at: timeout === undefined ? null : new Date(new Date(createdAt).getTime() + timeout * 1000),
    idempotency_key: each.key,
    request_hash: each.hash,
    metadata: JSON.parse(each.metadata) as Record<string, unknown>,
    created_by: by,
    created_at: createdAt,
    resolved_at: null,
  };
}

interface Waiter {
  prepared: readonly Prepared[];
  resolve(created: CreatedTransfer[]): void;
  reject(error: unknown): void;
}

interface Group {
  /** Calls of this group in flight. */
  running: number;
  queue: Waiter[];
  /** Transfers in the queue. */
  queued: number;
}

export interface LedgerOptions {
  /**
   * Calls in flight at once per (project, principal), see Ledger.coalesced(): 2 on Postgres, whose
   * backends run side by side, 1 on embedded PGlite, which runs one statement at a time anyway.
   */
  callsInFlight?: number;
}

/** A call beyond the first starts only for this many queued transfers: see Ledger.coalesced(). */
const FULL_CALL = 100;

export class Ledger {
  /** Transfers and batches waiting for a call of their (project, principal): see coalesced(). */
  private readonly groups = new Map<string, Group>();
  private readonly callsInFlight: number;
  constructor(
    private readonly sql: PluginSql,
    options: LedgerOptions = {},
  ) {
    this.callsInFlight = Math.max(1, options.callsInFlight ?? 1);
  }

  async createAccount(project: string, input: AccountInput): Promise<{ account: Account; created: boolean }> {
    const currency = parseCurrency(input.currency);
    const flags = flagBits(input.flags ?? []);
    if (flags === 3) throw invalid('flags', 'an account cannot have both debits_must_not_exceed_credits and credits_must_not_exceed_debits');
    const metadata = checkMetadata(input.metadata, 'metadata');
    const hash = requestHash({ code: input.code, kind: input.kind, currency, flags, metadata: input.metadata ?? {} });
    const inserted = await this.sql.query<AccountRow>(SQL.accountInsert, [randomUUID(), project, input.code, input.kind, currency, flags, metadata, hash]);
    if (inserted.rows[0]) return { account: toAccount(inserted.rows[0]), created: true };
    const existing = await this.getAccountRow(this.sql, project, input.code);
    if (!existing) throw new AnvilError(ErrorCodes.INTERNAL, `account ${input.code} was neither created nor found`);
    if (existing.request_hash !== hash) {
      throw new AnvilError(ErrorCodes.CONFLICT, `Account "${input.code}" already exists with another kind, currency, flags or metadata; use another code`, {
        details: { code: input.code, reason: 'account_exists', accountId: existing.id },
      });
    }
    return { account: toAccount(existing), created: false };
  }

  /** Ensures system accounts exist (by code), returning them; used by the payments service. */
  async ensureAccounts(project: string, inputs: readonly AccountInput[]): Promise<Map<string, Account>> {
    const found = await this.sql.query<AccountRow>(SQL.accountsByCode, [project, inputs.map((each) => each.code)]);
    const accounts = new Map(found.rows.map((row) => [row.code, toAccount(row)]));
    for (const input of inputs) if (!accounts.has(input.code)) accounts.set(input.code, (await this.createAccount(project, input)).account);
    return accounts;
  }

  private async getAccountRow(executor: SqlExecutor, project: string, codeOrId: string): Promise<AccountRow | undefined> {
    return (await executor.query<AccountRow>(SQL.accountGet, [project, codeOrId])).rows[0];
  }

  async getAccount(project: string, codeOrId: string): Promise<Account> {
    const row = await this.getAccountRow(this.sql, project, codeOrId);
    if (!row) throw new AnvilError(ErrorCodes.NOT_FOUND, `No account "${codeOrId}" in this project`, { details: { account: codeOrId } });
    return toAccount(row);
  }

  async listAccounts(project: string, filter: { currency?: string; kind?: AccountKind; after?: string; prefix?: string; limit: number }): Promise<{ accounts: Account[]; next: string | null }> {
    const limit = Math.min(filter.limit, LEDGER_LIMITS.listMax);
    const prefix = filter.prefix?.replace(/[\\%_]/g, (char) => `\\${char}`) ?? null;
    const result = await this.sql.query<AccountRow>(SQL.accountsList, [project, filter.currency ?? null, filter.kind ?? null, filter.after ?? null, limit + 1, prefix]);
    const accounts = result.rows.slice(0, limit).map(toAccount);
    return { accounts, next: result.rows.length > limit ? (accounts.at(-1)?.code ?? null) : null };
  }

  /**
   * Creates a batch of transfers as one: all are applied or none. A transfer whose key was used
   * before with the same body is returned as it was (created: false); with another body the whole
   * batch fails with a conflict naming the key.
   */
  async createTransfers(project: string, inputs: readonly TransferInput[], by: string): Promise<CreatedTransfer[]> {
    if (inputs.length === 0) throw invalid('transfers', 'expected at least one transfer');
    if (inputs.length > LEDGER_LIMITS.batchMax) throw invalid('transfers', `at most ${LEDGER_LIMITS.batchMax} transfers per batch`);
    const prepared = inputs.map((input, index) => this.prepare(input, inputs.length === 1 ? '' : `transfers[${index}].`));
    const keys = new Set<string>();
    for (const [index, each] of prepared.entries()) {
      if (keys.has(each.key)) throw invalid(`transfers[${index}].idempotencyKey`, `"${each.key}" appears twice in this batch`);
      keys.add(each.key);
    }
    return this.coalesced(project, prepared, by);
  }

  /**
   * One statement, one round trip, in autocommit (create_transfers, migrations/0005, 0010, 0011 and 0012):
   * atomic on its own, so a batch needs no BEGIN/COMMIT; a key bound to another body raises and undoes
   * it all. `explain`: turn a failure into an error naming the transfer at fault (not needed when the
   * statement was shared: then each caller runs alone for its own verdict).
   */
  private async createPrepared(project: string, prepared: readonly Prepared[], by: string, explain = true): Promise<CreatedTransfer[]> {
    const run = () =>
      this.sql.query<TransferRow & { inserted: boolean; inserted_count: number | null }>(SQL.transfersCreate, [
        project,
        prepared.map((each) => each.id),
        prepared.map((each) => each.key),
        prepared.map((each) => each.hash),
        prepared.map((each) => each.input.debit),
        prepared.map((each) => each.input.credit),
        prepared.map((each) => each.amount.toString()),
        prepared.map((each) => each.currency),
        prepared.map((each) => (each.input.pending ? 'pending' : 'single')),
        prepared.map((each) => each.input.pending?.timeoutSeconds ?? null),
        prepared.map((each) => each.metadata),
        by,
      ]);
    let rows: (TransferRow & { inserted: boolean; inserted_count: number | null })[];
    try {
      rows = (await withRetry(run)).rows;
    } catch (error) {
      throw explain ? await this.explainFailure(project, prepared, error) : error;
    }
    const header = rows.find((row) => row.inserted_count !== null);
    const replayed = new Map(rows.filter((row) => !row.inserted).map((row) => [row.idempotency_key, row]));
    if (!header || header.inserted_count !== prepared.length - replayed.size) {
      throw new AnvilError(ErrorCodes.INTERNAL, `create_transfers inserted ${header?.inserted_count ?? '?'} of ${prepared.length} transfers and replayed ${replayed.size}`);
    }
    return prepared.map((each) => {
      const row = replayed.get(each.key);
      if (row) return { transfer: toTransfer(row), created: false };
      return { transfer: toTransfer(insertedRow(each, header.created_at, by)), created: true };
    });
  }

  /**
   * Group commit: while a call of a (project, principal) is in flight, the transfers and batches
   * that arrive queue, and go together in the next call, up to LEDGER_LIMITS.batchMax transfers
   * (TigerBeetle batches the same way), so concurrent callers share round trips, account locks and
   * the commit. Each caller still gets exactly its own answer, all or nothing: when the shared
   * statement fails (one of them would break a flag, names an unknown account or reuses a key)
   * nothing was written, and each runs alone. A caller with a key already in the group runs after
   * it, alone: it then replays the first (or conflicts).
   * On Postgres a second call may run beside the first (callsInFlight), its insert overlapping the
   * first's account updates and commit (accounts are locked last, in id order), but only once a full
   * call's worth (FULL_CALL transfers) is waiting: a call has a fixed cost (CPU of server and Postgres per single transfer
   * from 8 concurrent callers, measured 2026-12-05: ~260 µs with one call in flight, ~550 µs with
   * two, whose groups are half the size), so single transfers wait and share, batches overlap.
   */
  private coalesced(project: string, prepared: readonly Prepared[], by: string): Promise<CreatedTransfer[]> {
    const id = `${project}\u0000${by}`;
    let group = this.groups.get(id);
    if (!group) {
      group = { running: 0, queue: [], queued: 0 };
      this.groups.set(id, group);
    }
    const queue = group.queue;
    const answer = new Promise<CreatedTransfer[]>((resolve, reject) => queue.push({ prepared, resolve, reject }));
    group.queued += prepared.length;
    if (group.running === 0 || (group.running < this.callsInFlight && group.queued >= FULL_CALL)) void this.drain(id, group, project, by);
    return answer;
  }

  private async drain(id: string, group: Group, project: string, by: string): Promise<void> {
    group.running++;
    try {
      while (group.queue.length > 0) {
        const seen = new Set<string>();
        const together: Waiter[] = [];
        const after: Waiter[] = [];
        let size = 0;
        for (let next = group.queue[0]; next; next = group.queue[0]) {
          if (together.length > 0 && size + next.prepared.length > LEDGER_LIMITS.batchMax) break;
          group.queue.shift();
          group.queued -= next.prepared.length;
          if (next.prepared.some((each) => seen.has(each.key))) {
            after.push(next);
            continue;
          }
          for (const each of next.prepared) seen.add(each.key);
          together.push(next);
          size += next.prepared.length;
        }
        await this.settleGroup(project, by, together);
        for (const waiter of after) await this.settleGroup(project, by, [waiter]);
      }
    } finally {
      group.running--;
      if (group.running === 0 && group.queue.length === 0) this.groups.delete(id);
    }
  }

  private async settleGroup(project: string, by: string, waiters: readonly Waiter[]): Promise<void> {
    const alone = async (waiter: Waiter) => {
      try {
        waiter.resolve(await this.createPrepared(project, waiter.prepared, by));
      } catch (error) {
        waiter.reject(error);
      }
    };
    if (waiters.length === 1) return alone(waiters[0] as Waiter);
    let results: CreatedTransfer[];
    try {
      results = await this.createPrepared(project, waiters.flatMap((waiter) => waiter.prepared), by, false);
    } catch {
      // The shared statement changed nothing; each caller now gets its own verdict.
      for (const waiter of waiters) await alone(waiter);
      return;
    }
    let offset = 0;
    for (const waiter of waiters) {
      waiter.resolve(results.slice(offset, offset + waiter.prepared.length));
      offset += waiter.prepared.length;
    }
  }

  /** Checks one transfer and computes its id, hash and canonical metadata (public for the `Prepared` type only). */
  prepare(input: TransferInput, prefix: string) {
    const currency = parseCurrency(input.currency, `${prefix}currency`);
    const amount = parseAmount(input.amount, currency, `${prefix}amount`);
    if (input.debit === input.credit) throw invalid(`${prefix}credit`, 'the debit and credit accounts must be different', 'accounts_must_be_different');
    const timeout = input.pending?.timeoutSeconds;
    if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 1 || timeout > LEDGER_LIMITS.timeoutMaxSeconds)) {
      throw invalid(`${prefix}pending.timeoutSeconds`, `expected whole seconds between 1 and ${LEDGER_LIMITS.timeoutMaxSeconds}`);
    }
    const metadata = checkMetadata(input.metadata, `${prefix}metadata`);
    const hash = requestHash({ ...input, amount: amount.toString(), metadata: input.metadata ?? {} });
    return { id: randomUUID(), key: input.idempotencyKey, hash, input, currency, amount, metadata };
  }

  /** Turns a failed batch statement into an error naming the transfer and field at fault. */
  private async explainFailure(project: string, prepared: readonly Prepared[], error: unknown): Promise<unknown> {
    const { code, constraint } = pgError(error);
    if (code === PgCodes.keyReused) {
      // Rare (a retry with another body): find the key at fault; the call changed nothing.
      const rows = await this.sql.query<TransferRow>(SQL.transfersByKey, [project, prepared.map((each) => each.key)]);
      const hashes = new Map(prepared.map((each) => [each.key, each.hash]));
      const reused = rows.rows.find((row) => hashes.get(row.idempotency_key) !== row.request_hash);
      if (reused) return keyConflict(reused.idempotency_key, reused.id);
    }
    if (code === PgCodes.notNullViolation) {
      const accounts = await this.sql.query<AccountRow>(SQL.accountsByCode, [project, prepared.flatMap((each) => [each.input.debit, each.input.credit])]);
      const byCode = new Map(accounts.rows.map((row) => [row.code, row]));
      for (const [index, each] of prepared.entries()) {
        const prefix = prepared.length === 1 ? '' : `transfers[${index}].`;
        for (const side of ['debit', 'credit'] as const) {
          const account = byCode.get(each.input[side]);
          if (!account) return new AnvilError(ErrorCodes.NOT_FOUND, `${prefix}${side}: no account "${each.input[side]}" in this project`, { details: { field: `${prefix}${side}`, reason: 'account_not_found' } });
          if (account.currency !== each.currency) {
            return invalid(`${prefix}currency`, `account "${account.code}" holds ${account.currency}, the transfer is in ${each.currency}`, 'currency_mismatch');
          }
        }
      }
    }
    if (code === PgCodes.checkViolation && (constraint === 'accounts_debits_must_not_exceed_credits' || constraint === 'accounts_credits_must_not_exceed_debits')) {
      const debits = constraint === 'accounts_debits_must_not_exceed_credits';
      const side = debits ? 'debit' : 'credit';
      const accounts = [...new Set(prepared.map((each) => each.input[side]))];
      const flagged = await this.sql.query<AccountRow>(SQL.accountsByCode, [project, accounts]);
      const names = flagged.rows.filter((row) => (row.flags & (debits ? 1 : 2)) !== 0).map((row) => `"${row.code}"`);
      return new AnvilError(
        ErrorCodes.CONFLICT,
        `The transfer would make ${debits ? 'debits exceed credits' : 'credits exceed debits'} on ${names.join(', ') || 'a flagged account'}; nothing was transferred`,
        { details: { reason: debits ? 'exceeds_credits' : 'exceeds_debits', accounts: flagged.rows.map((row) => row.code) } },
      );
    }
    if (code === PgCodes.numericOutOfRange) return new AnvilError(ErrorCodes.CONFLICT, 'The transfer would overflow an account balance; nothing was transferred', { details: { reason: 'overflow' } });
    return error;
  }

  /** Posts (all or part of) or voids a pending transfer; the same key again returns the first result. */
  async resolvePending(project: string, input: ResolveInput, by: string): Promise<CreatedTransfer> {
    const hash = requestHash({ ...input, metadata: input.metadata ?? {} });
    const metadata = checkMetadata(input.metadata, 'metadata');
    if (input.action === 'void' && input.amount !== undefined) throw invalid('amount', 'a void releases the whole pending amount; leave amount out');
    if (!UUID.test(input.pendingId)) throw await this.pendingUnavailable(this.sql, project, input.pendingId);
    if (input.amount !== undefined && !/^[1-9]\d{0,29}$/.test(input.amount)) {
      // A malformed amount: parse it with the pending transfer's currency, for the precise message.
      const pending = (await this.sql.query<TransferRow>(SQL.transferGet, [project, input.pendingId])).rows[0]; // (a UUID: checked above)
      if (!pending) throw await this.pendingUnavailable(this.sql, project, input.pendingId);
      parseAmount(input.amount, pending.currency);
    }
    // One statement, one round trip, in autocommit (resolve_pending, migrations/0007).
    const run = () =>
      this.sql.query<TransferRow & { inserted: boolean }>(SQL.pendingResolveCall, [
        project, input.pendingId, input.action, input.amount ?? null, randomUUID(), input.idempotencyKey, hash, metadata, by,
      ]);
    try {
      const row = (await withRetry(run)).rows[0];
      if (!row) throw new AnvilError(ErrorCodes.INTERNAL, `pending transfer ${input.pendingId} was neither resolved nor found`);
      return { transfer: toTransfer(row), created: row.inserted };
    } catch (error) {
      const { code } = pgError(error);
      if (code === PgCodes.keyReused || code === PgCodes.uniqueViolation) {
        // Another body under the key, or a concurrent call with the key on another pending transfer.
        const row = (await this.sql.query<TransferRow>(SQL.transfersByKey, [project, [input.idempotencyKey]])).rows[0];
        if (row && row.request_hash !== hash) throw keyConflict(input.idempotencyKey, row.id);
        if (row) return { transfer: toTransfer(row), created: false };
      }
      if (code === PgCodes.pendingUnavailable) throw await this.pendingUnavailable(this.sql, project, input.pendingId);
      if (code === PgCodes.abovePending) throw invalid('amount', `at most the pending amount (${(error as { detail?: string }).detail ?? '?'})`, 'exceeds_pending_amount');
      throw error;
    }
  }

  private async pendingUnavailable(executor: SqlExecutor, project: string, pendingId: string): Promise<AnvilError> {
    const row = UUID.test(pendingId) ? (await executor.query<TransferRow>(SQL.transferGet, [project, pendingId])).rows[0] : undefined;
    if (!row) return new AnvilError(ErrorCodes.NOT_FOUND, `pendingId: no transfer "${pendingId}" in this project`, { details: { field: 'pendingId', reason: 'transfer_not_found' } });
    if (row.kind !== 'pending') return invalid('pendingId', `transfer ${pendingId} is a ${row.kind} transfer, not a pending one`, 'not_pending');
    const state = row.state === 'pending' ? 'expired' : row.state;
    return new AnvilError(ErrorCodes.CONFLICT, `Pending transfer ${pendingId} is already ${state}; it can be posted or voided only once, before its timeout`, {
      details: { pendingId, state, reason: `pending_transfer_${state}` },
    });
  }

  /** Expires pending transfers past their timeout (run by the plugin's schedule); returns how many. */
  async expirePending(): Promise<number> {
    let total = 0;
    for (;;) {
      const result = await withRetry(() => this.sql.query<{ expired: number }>(SQL.pendingExpire));
      const expired = result.rows[0]?.expired ?? 0;
      total += expired;
      if (expired < 200) return total;
    }
  }

  async findByKey(project: string, idempotencyKey: string): Promise<Transfer | undefined> {
    const row = (await this.sql.query<TransferRow>(SQL.transfersByKey, [project, [idempotencyKey]])).rows[0];
    return row ? toTransfer(row) : undefined;
  }

  async getTransfer(project: string, id: string): Promise<Transfer> {
    const row = UUID.test(id) ? (await this.sql.query<TransferRow>(SQL.transferGet, [project, id])).rows[0] : undefined;
    if (!row) throw new AnvilError(ErrorCodes.NOT_FOUND, `No transfer "${id}" in this project`, { details: { transferId: id } });
    return toTransfer(row);
  }

  async listTransfers(
    project: string,
    filter: { account?: string; state?: Transfer['state']; metadata?: Record<string, unknown>; cursor?: string; limit: number },
  ): Promise<{ transfers: Transfer[]; next: string | null }> {
    const limit = Math.min(filter.limit, LEDGER_LIMITS.listMax);
    const [at, id] = filter.cursor ? decodeCursor(filter.cursor) : [null, null];
    const result = await this.sql.query<TransferRow>(SQL.transfersList, [
      project, filter.account ?? null, filter.state ?? null, at, id, limit + 1, filter.metadata ? JSON.stringify(filter.metadata) : null,
    ]);
    const transfers = result.rows.slice(0, limit).map(toTransfer);
    const last = result.rows.length > limit ? result.rows[limit - 1] : undefined;
    return { transfers, next: last ? encodeCursor(last) : null };
  }

  async balances(project: string, currency?: string): Promise<CurrencyTotals[]> {
    const result = await this.sql.query<CurrencyTotals & Record<string, unknown>>(SQL.balances, [project, currency ?? null]);
    return result.rows.map((row) => ({ ...row, balanced: row.debits_posted === row.credits_posted && row.debits_pending === row.credits_pending }));
  }
}

export interface CurrencyTotals {
  currency: string;
  debits_posted: string;
  credits_posted: string;
  debits_pending: string;
  credits_pending: string;
  accounts: number;
  balanced?: boolean;
}

function encodeCursor(row: TransferRow): string {
  // The database's own text form keeps microseconds (a Date would round them and skip rows).
  const at = row.created_at_text ?? (row.created_at instanceof Date ? row.created_at.toISOString() : String(row.created_at));
  return Buffer.from(JSON.stringify([at, row.id])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && typeof parsed[0] === 'string' && typeof parsed[1] === 'string' && /^[0-9a-f-]{36}$/i.test(parsed[1]) && !Number.isNaN(Date.parse(parsed[0]))) {
      return [parsed[0], parsed[1]];
    }
  } catch {
    // fall through to the error below
  }
  throw invalid('cursor', 'expected the `next` value of a previous page');
}
