import { definePlugin, z, type CallerPrincipal } from 'anvil/plugin';
import type { TakeResult, TokenBucketStore } from './bucket.ts';
import { RedisTokenBucketStore } from './redis-bucket.ts';
import { rateLimitMigrations, SqlTokenBucketStore } from './sql-bucket.ts';

const SWEEP_INTERVAL_MS = 60_000;

export const rateLimitConfig = z
  .object({
    /** Burst size: calls a principal may make at once after being idle. */
    capacity: z.number().int().positive().max(1_000_000).default(60),
    /** Tokens added back per second (continuously, up to `capacity`). */
    refillPerSecond: z.number().positive().max(1_000_000).default(1),
    /** One bucket per principal, or one per principal and tool. */
    key: z.enum(['principal', 'principal+tool']).default('principal'),
    /** Tool names (a trailing `*` matches a prefix) that draw from the bucket; unset: every tool but `anvil_*`. */
    tools: z.array(z.string().min(1)).min(1).optional(),
    /** `auto`: Redis when the server has a `redisUrl`, else SQL. */
    backend: z.enum(['auto', 'redis', 'sql']).default('auto'),
    /** What a call gets when the bucket store cannot be reached: let it through (logged), or refuse it. */
    onStoreError: z.enum(['allow', 'deny']).default('allow'),
  })
  .strict();

export type RateLimitConfig = z.output<typeof rateLimitConfig>;

/** Whether `tool` draws from the bucket under `patterns` (unset: everything but the core `anvil_*` tools). */
export function appliesTo(patterns: readonly string[] | undefined, tool: string): boolean {
  if (!patterns) return !tool.startsWith('anvil_');
  return patterns.some((pattern) => (pattern.endsWith('*') ? tool.startsWith(pattern.slice(0, -1)) : pattern === tool));
}

/**
 * The bucket a call draws from: per project and principal (and tool). Principal ids contain ':'
 * (`key:…`, `local:…`), so the id is encoded; project ids and tool names cannot contain '/'.
 */
export function bucketKey(mode: RateLimitConfig['key'], principal: CallerPrincipal, tool: string): string {
  const base = `${principal.project}/${encodeURIComponent(principal.id)}`;
  return mode === 'principal+tool' ? `${base}/${tool}` : base;
}

/**
 * Built-in policy plugin: a token bucket per principal, shared by every server (in Redis when the
 * server has one, otherwise in SQL), checked before each tool call. An empty bucket refuses the
 * call with ANVIL_E_RATE_LIMITED and `details.retryAfterMs`; the refusal is audited as `denied`.
 */
export const rateLimitPlugin = definePlugin({
  id: 'rate-limit',
  version: '1.0.0',
  description: 'Per-principal token-bucket rate limits on tool calls, shared by all servers (Redis or SQL).',
  permissions: ['sql', 'redis'],
  config: rateLimitConfig,
  async register(ctx) {
    const config = ctx.config;
    const redisUrl = ctx.redis.url;
    const backend = config.backend === 'auto' ? (redisUrl ? 'redis' : 'sql') : config.backend;

    ctx.migrations(rateLimitMigrations);
    let store: TokenBucketStore;
    if (backend === 'redis') {
      if (!redisUrl) throw new Error('backend is "redis" but the server has no redisUrl (REDIS_URL); set it, or use backend "sql" or "auto"');
      store = await RedisTokenBucketStore.connect(redisUrl);
    } else {
      const sqlStore = new SqlTokenBucketStore(ctx.sql);
      store = sqlStore;
      // Full buckets are the same as absent ones; sweeping keeps the table to active principals.
      ctx.every('sweep', SWEEP_INTERVAL_MS, async () => {
        await sqlStore.sweep();
      });
    }
    ctx.onClose(() => store.close());
    ctx.log.info({ backend, capacity: config.capacity, refillPerSecond: config.refillPerSecond, key: config.key }, 'rate limits active');

    ctx.beforeTool(async (call) => {
      if (!appliesTo(config.tools, call.tool)) return;
      let taken: TakeResult;
      try {
        taken = await store.take(bucketKey(config.key, call.principal, call.tool), config.capacity, config.refillPerSecond);
      } catch (error) {
        ctx.log.warn({ err: error, tool: call.tool, requestId: call.requestId, onStoreError: config.onStoreError }, 'rate-limit store unreachable');
        if (config.onStoreError === 'allow') return;
        return { action: 'deny', reason: `The rate limiter's ${backend} store cannot be reached, and this server refuses calls it cannot count` };
      }
      if (taken.allowed) return;
      const scope = config.key === 'principal+tool' ? `${call.principal.id} on ${call.tool}` : call.principal.id;
      return {
        action: 'throttle',
        reason: `Rate limit reached for ${scope}: ${config.capacity} calls at once, then ${config.refillPerSecond} per second`,
        retryAfterMs: taken.retryAfterMs,
      };
    });
  },
});
