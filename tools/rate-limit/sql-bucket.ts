import { readFileSync } from 'node:fs';
import type { SqlExecutor } from 'anvil/plugin';
import { msUntilOneToken, type TakeResult, type TokenBucketStore } from './bucket.ts';

/** Read at module load, so a missing file fails at start rather than on the first call. */
const TAKE_SQL = readFileSync(new URL('./take.sql', import.meta.url), 'utf8');
const SWEEP_SQL = 'delete from {{schema}}.buckets where full_at < clock_timestamp()';

/** The migrations this store needs in the plugin's schema (`ctx.migrations(rateLimitMigrations)`). */
export const rateLimitMigrations = new URL('./migrations/', import.meta.url);

/**
 * Buckets as rows in `{{schema}}.buckets` (Postgres or embedded PGlite). Each take is one
 * `insert … on conflict do update … returning` statement (see take.sql): atomic, on the database's
 * clock, and the same statement for every server sharing the database.
 */
export class SqlTokenBucketStore implements TokenBucketStore {
  readonly kind = 'sql' as const;

  /** `sql` runs text with `{{schema}}` resolved to the schema the migrations ran in (a plugin's `ctx.sql`). */
  constructor(private readonly sql: SqlExecutor) {}

  async take(key: string, capacity: number, refillPerSecond: number): Promise<TakeResult> {
    const { rows } = await this.sql.query<{ tokens: number; allowed: boolean }>(TAKE_SQL, [key, capacity, refillPerSecond]);
    const row = rows[0];
    if (!row) throw new Error('the rate-limit take returned no row');
    const tokens = Number(row.tokens);
    return { allowed: row.allowed, remaining: Math.floor(tokens), retryAfterMs: row.allowed ? 0 : msUntilOneToken(tokens, refillPerSecond) };
  }

  /** Deletes buckets that are full again (the same as absent); returns how many. */
  async sweep(): Promise<number> {
    return (await this.sql.query(SWEEP_SQL)).rowCount;
  }

  async close(): Promise<void> {
    // The executor belongs to whoever gave it.
  }
}
