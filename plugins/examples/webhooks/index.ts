import { definePlugin, z } from 'anvil/plugin';
import { deliver, type DeliveryJob, type DeliveryResult, displayUrl, matchesPattern, wantsEvent, wireEvent } from './delivery.ts';
import { registerTools } from './tools.ts';

export { verifySignature, signatureHeader, SIGNATURE_HEADER, EVENT_ID_HEADER, DEFAULT_TOLERANCE_SECONDS } from './signature.ts';

const endpointSchema = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }),
    /** The HMAC key the receiver verifies with. Never stored, logged or put on the queue. */
    secret: z.string().min(16, 'at least 16 characters (use a random value, e.g. `openssl rand -hex 32`)'),
    /** Event patterns: exact types, `prefix.*`, or `*`. */
    events: z.array(z.string().min(1)).min(1),
    /** Only events of these projects; unset: every project's. */
    projects: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();

export const webhooksConfig = z
  .object({
    endpoints: z.array(endpointSchema).default([]),
    /** Attempts per (event, endpoint), the first included. */
    maxAttempts: z.number().int().min(1).max(25).default(5),
    /** Delay before the first retry; doubles with each retry (BullMQ's exponential backoff). */
    backoffMs: z.number().int().min(0).max(3_600_000).default(1_000),
    /** Per attempt: no answer (status line) within this is a failed attempt. */
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    /** Deliveries in flight at once, per server. */
    concurrency: z.number().int().min(1).max(100).default(8),
    /** Attempt records and dead letters older than this are deleted. */
    retentionDays: z.number().int().min(1).max(3_650).default(30),
  })
  .strict();

export type WebhooksConfig = z.output<typeof webhooksConfig>;

const RETENTION_SWEEP_MS = 60 * 60 * 1000;

/**
 * The webhooks example plugin: every event matching an endpoint's patterns is POSTed to it as JSON,
 * HMAC-signed (Stripe-style `anvil-signature`), through a BullMQ queue so that failed deliveries
 * are retried with exponential backoff; each attempt is recorded, and a delivery that runs out of
 * attempts leaves a dead letter. See README.md.
 */
export const webhooksPlugin = definePlugin({
  id: 'webhooks',
  version: '1.0.0',
  description: 'Signed webhook deliveries of Anvil events, with retries, an attempt log and dead letters.',
  permissions: ['sql', 'queue', 'network'],
  config: webhooksConfig,
  register(ctx) {
    const config = ctx.config;
    const endpoints = config.endpoints;
    ctx.migrations(new URL('./migrations/', import.meta.url));

    // The queue `webhooks-deliveries`: one job per (event, endpoint), retried by BullMQ.
    const closing = new AbortController();
    const queue = ctx.queue.open<DeliveryJob, DeliveryResult>('deliveries');
    const deps = { sql: ctx.sql, log: ctx.log, endpoints, timeoutMs: config.timeoutMs, closing: closing.signal };
    // Started once the migrations have run, so no job is processed before its tables exist.
    let worker: { close(): Promise<void> } | undefined;
    ctx.onReady(() => {
      worker = ctx.queue.worker<DeliveryJob, DeliveryResult>('deliveries', (job) => deliver(deps, job, config.maxAttempts), {
        concurrency: config.concurrency,
      });
    });

    const retention = setInterval(() => {
      const cutoff = [config.retentionDays];
      Promise.all([
        ctx.sql.query(`delete from {{schema}}.deliveries where at < now() - make_interval(days => $1)`, cutoff),
        ctx.sql.query(`delete from {{schema}}.dead_letters where at < now() - make_interval(days => $1)`, cutoff),
      ]).catch((error: unknown) => ctx.log.warn({ err: error }, 'webhook retention sweep failed'));
    }, RETENTION_SWEEP_MS);
    retention.unref();

    ctx.onClose(async () => {
      clearInterval(retention);
      // In-flight POSTs are aborted (and retried after a restart) rather than waited out.
      closing.abort();
      await worker?.close();
    });

    // One subscription per distinct pattern. An endpoint whose patterns overlap is enqueued only
    // by its first matching pattern; the jobId makes any repeat a no-op anyway.
    for (const pattern of new Set(endpoints.flatMap((endpoint) => endpoint.events))) {
      ctx.on(pattern, async (event) => {
        const wire = wireEvent(event);
        const targets = endpoints.flatMap((endpoint, index) =>
          wantsEvent(endpoint, event) && endpoint.events.find((each) => matchesPattern(each, event.type)) === pattern ? [{ endpoint, index }] : [],
        );
        await Promise.all(
          targets.map(({ endpoint, index }) =>
            queue.add(
              'deliver',
              { event: wire, endpoint: index, url: displayUrl(endpoint.url) },
              {
                // BullMQ refuses ':' in custom ids, hence '.'.
                jobId: `${event.id}.${index}`,
                attempts: config.maxAttempts,
                backoff: { type: 'exponential', delay: config.backoffMs },
                removeOnComplete: { age: 24 * 3600, count: 10_000 },
                removeOnFail: { age: 7 * 24 * 3600 },
              },
            ),
          ),
        );
      });
    }
    if (endpoints.length === 0) ctx.log.warn('no webhook endpoints configured; events are not delivered anywhere');

    registerTools(ctx, {
      endpointsFor: (project, type) => endpoints.filter((endpoint) => wantsEvent(endpoint, { id: '', at: '', type, project, payload: {} })).length,
    });
  },
});

export default webhooksPlugin;
