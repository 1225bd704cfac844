import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { msUntilOneToken, type TakeResult, type TokenBucketStore } from './bucket.ts';

/**
 * Refill and take in one script, so concurrent takes from any number of servers serialize on the
 * key. Time comes from the Redis server (`TIME`), never from a caller. The bucket is a hash
 * `{tokens, ts}` (ts in ms); it expires once it would be full again, which is the same as absent.
 * Numbers handed to `redis.call` are written exactly, so fractional tokens survive between takes.
 */
const TAKE_SCRIPT = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
else
  local elapsed = now - ts
  if elapsed < 0 then elapsed = 0 end
  tokens = math.min(capacity, tokens + elapsed * rate / 1000)
end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) * 1000 / rate) + 1000)
return { allowed, tostring(tokens) }
`;
const TAKE_SHA = createHash('sha1').update(TAKE_SCRIPT).digest('hex');

export interface RedisBucketOptions {
  /** Prepended to every bucket key; default `anvil:rate-limit:`. */
  keyPrefix?: string;
  /** Bound on one take, so a stalled Redis cannot stall tool calls; default 2000 ms. */
  commandTimeoutMs?: number;
}

export class RedisTokenBucketStore implements TokenBucketStore {
  readonly kind = 'redis' as const;
  private readonly keyPrefix: string;

  private constructor(
    private readonly redis: Redis,
    options: RedisBucketOptions,
  ) {
    this.keyPrefix = options.keyPrefix ?? 'anvil:rate-limit:';
  }

  /** Connects a client of its own and loads the script; `close()` quits it. */
  static async connect(redisUrl: string, options: RedisBucketOptions = {}): Promise<RedisTokenBucketStore> {
    const redis = new Redis(redisUrl, {
      lazyConnect: true,
      connectTimeout: 5_000,
      commandTimeout: options.commandTimeoutMs ?? 2_000,
      maxRetriesPerRequest: 1,
      enableAutoPipelining: true,
    });
    // Connection errors surface on the next take; an unhandled 'error' event would crash the process.
    redis.on('error', () => {});
    try {
      await redis.connect();
      // Loaded up front so takes go by sha; `take` still falls back to EVAL if Redis lost it (SCRIPT FLUSH, restart).
      await redis.script('LOAD', TAKE_SCRIPT);
    } catch (error) {
      redis.disconnect();
      throw error;
    }
    return new RedisTokenBucketStore(redis, options);
  }

  async take(key: string, capacity: number, refillPerSecond: number): Promise<TakeResult> {
    const args = [1, `${this.keyPrefix}${key}`, capacity, refillPerSecond] as const;
    let reply: unknown;
    try {
      reply = await this.redis.evalsha(TAKE_SHA, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      reply = await this.redis.eval(TAKE_SCRIPT, ...args);
    }
    if (!Array.isArray(reply) || reply.length !== 2) throw new Error(`unexpected reply from the rate-limit script: ${JSON.stringify(reply)}`);
    const allowed = Number(reply[0]) === 1;
    const tokens = Number(reply[1]);
    return { allowed, remaining: Math.floor(tokens), retryAfterMs: allowed ? 0 : msUntilOneToken(tokens, refillPerSecond) };
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
