/**
 * The token bucket behind the rate-limit plugin, as one small port with two implementations: Redis
 * (`redis-bucket.ts`, one Lua script per take) and SQL (`sql-bucket.ts`, one upsert per take). Both
 * keep the whole bucket in the shared store and do refill-and-take in one atomic step on the
 * store's own clock, so every server behind a load balancer draws from the same bucket and no two
 * servers' clocks need to agree.
 */

export interface TakeResult {
  /** Whether a token was taken (the call may run). */
  readonly allowed: boolean;
  /** Whole tokens left after this take. */
  readonly remaining: number;
  /** When refused: how long until one token is back (ms, at least 1). 0 when allowed. */
  readonly retryAfterMs: number;
}

export interface TokenBucketStore {
  readonly kind: 'redis' | 'sql';
  /**
   * Refills `key`'s bucket for the time since its last take (at `refillPerSecond`, up to
   * `capacity`), then takes one token if there is one. A bucket never seen (or expired) is full.
   */
  take(key: string, capacity: number, refillPerSecond: number): Promise<TakeResult>;
  close(): Promise<void>;
}

/** Milliseconds until a bucket holding `tokens` has one whole token again. */
export function msUntilOneToken(tokens: number, refillPerSecond: number): number {
  return Math.max(1, Math.ceil(((1 - tokens) * 1000) / refillPerSecond));
}
