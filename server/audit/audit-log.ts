import { createHash, randomUUID } from 'node:crypto';
import { loadSql } from '../db/sql.ts';
import type { Storage } from '../db/storage.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';

const insertSql = loadSql(import.meta.url, './sql/insert-audit.sql');

export type AuditOutcome = 'ok' | 'error' | 'denied';

export interface AuditEntry {
  requestId: string;
  principal: string;
  project: string;
  tool: string;
  argsSha256: string;
  outcome: AuditOutcome;
  errorCode?: string;
  durationMs: number;
  transport: 'stdio' | 'http' | 'in-memory' | 'in-process';
  /** Non-secret details a tool attached to its call. */
  details?: Record<string, unknown>;
}

/** An object literal with no own keys (as JSON-RPC arguments arrive), whose canonical form is `{}`. */
function isEmptyObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && Object.keys(value).length === 0;
}

/** A stable hash of tool arguments: key order does not change it, and the arguments themselves are never stored. */
export function hashArguments(args: unknown): string {
  // Most calls carry no arguments: their hash is a constant, not a canonicalisation and a digest each.
  if (args === undefined || args === null || isEmptyObject(args)) return EMPTY_ARGS_SHA256;
  const canonical = JSON.stringify(args ?? {}, (_key, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : value,
  );
  return createHash('sha256').update(canonical).digest('hex');
}

/** sha256 of `{}`, what `hashArguments` answers for no arguments. */
const EMPTY_ARGS_SHA256 = createHash('sha256').update('{}').digest('hex');

interface PendingEntry extends AuditEntry {
  id: string;
  at: Date;
}

/**
 * The audit trail of every tool call. Entries are batched so that auditing costs a tool call no
 * round trip; a batch is one idempotent INSERT, retried on failure, and `close()` flushes what is
 * left so that a graceful shutdown loses no entry.
 */
export class AuditLog {
  private pending: PendingEntry[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private static readonly maxPending = 100_000;

  constructor(
    private readonly storage: Storage,
    private readonly log: Logger,
    private readonly options: { flushIntervalMs: number; maxBatch: number },
  ) {}

  record(entry: AuditEntry): void {
    if (this.pending.length >= AuditLog.maxPending) {
      this.log.error({ dropped: 1, tool: entry.tool }, 'audit buffer full: storage has been unreachable too long, dropping the oldest entry');
      this.pending.shift();
    }
    this.pending.push({ ...entry, id: randomUUID(), at: new Date() });
    if (this.pending.length >= this.options.maxBatch) this.flushInBackground();
    else this.timer ??= setTimeout(() => this.flushInBackground(), this.options.flushIntervalMs);
  }

  /** Writes everything recorded so far; resolves when it is stored (or rejects, keeping it for a retry). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.flushing) await this.flushing;
    if (this.pending.length === 0) return;
    const batch = this.pending.splice(0, this.options.maxBatch);
    this.flushing = this.write(batch)
      .catch((error: unknown) => {
        this.pending.unshift(...batch);
        this.log.warn({ err: errorMessage(error), entries: batch.length }, 'audit flush failed; will retry');
        this.timer ??= setTimeout(() => this.flushInBackground(), this.options.flushIntervalMs * 4);
        throw error;
      })
      .finally(() => {
        this.flushing = undefined;
      });
    await this.flushing;
    if (this.pending.length > 0) await this.flush();
  }

  /** Failures are already logged and the batch kept for the retry timer. */
  private flushInBackground(): void {
    this.flush().catch(() => {});
  }

  async close(): Promise<void> {
    await this.flush();
  }

  private async write(batch: PendingEntry[]): Promise<void> {
    const column = <K extends keyof PendingEntry>(key: K) => batch.map((entry) => entry[key] ?? null);
    await this.storage.query(insertSql, [
      column('id'),
      column('at'),
      column('requestId'),
      column('principal'),
      column('project'),
      column('tool'),
      column('argsSha256'),
      column('outcome'),
      column('errorCode'),
      column('durationMs'),
      column('transport'),
      batch.map((entry) => (entry.details ? JSON.stringify(entry.details) : null)),
    ]);
  }
}
