import { z, type PluginContext } from 'anvil/plugin';

const pageInput = {
  limit: z.number().int().min(1).max(100).default(20).describe('Rows per page (newest first)'),
  cursor: z.string().regex(/^\d+$/, 'a cursor as returned in nextCursor').optional().describe('nextCursor from the previous page'),
};

const deliveryRow = z.object({
  eventId: z.string(),
  eventType: z.string(),
  endpoint: z.string(),
  attempt: z.number().int(),
  statusCode: z.number().int().nullable(),
  error: z.string().nullable(),
  durationMs: z.number().nullable(),
  at: z.string(),
});

const deadLetterRow = z.object({
  eventId: z.string(),
  eventType: z.string(),
  endpoint: z.string(),
  attempts: z.number().int(),
  lastError: z.string(),
  event: z.record(z.string(), z.unknown()),
  at: z.string(),
});

interface DeliverySqlRow extends Record<string, unknown> {
  id: string;
  event_id: string;
  event_type: string;
  endpoint_url: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number | null;
  at: Date;
}

interface DeadLetterSqlRow extends Record<string, unknown> {
  id: string;
  event_id: string;
  event_type: string;
  endpoint_url: string;
  attempts: number;
  last_error: string;
  event: Record<string, unknown>;
  at: Date;
}

/**
 * Keyset pagination over `id desc`: fetch one row more than asked to know whether a next page
 * exists. (The queries order by the qualified `d.id`: a bare `id` would name the `id::text` output
 * column and sort as text.)
 */
function page<R extends { id: string }>(rows: R[], limit: number): { rows: R[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { rows: kept, nextCursor: more ? (kept[kept.length - 1]?.id ?? null) : null };
}

/** The plugin's three tools. Reads are scoped to the caller's project: only its own events' rows. */
export function registerTools(ctx: PluginContext, options: { endpointsFor(project: string, type: string): number }): void {
  ctx.tool({
    name: 'send_test',
    title: 'Send a test webhook',
    description:
      'Emits a webhooks.test event in your project with the payload given; every endpoint subscribed to it receives a signed POST. Returns the event id to look up with webhooks_deliveries.',
    input: z
      .object({
        message: z.string().max(1_000).default('Test event from Anvil'),
        data: z.record(z.string(), z.unknown()).optional().describe('Extra JSON to include in the payload'),
      })
      .strict(),
    output: z.object({ eventId: z.string(), type: z.literal('webhooks.test'), endpoints: z.number().int() }),
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    scopes: ['webhooks:write'],
    async handler({ message, data }, { project, emit, audit }) {
      const { id: eventId } = emit('test', { message, ...(data ? { data } : {}) });
      audit({ eventId });
      return { eventId, type: 'webhooks.test' as const, endpoints: options.endpointsFor(project, 'webhooks.test') };
    },
  });

  ctx.tool({
    name: 'deliveries',
    title: 'Webhook delivery attempts',
    description: "Recent delivery attempts of your project's events (newest first): endpoint, attempt number, HTTP status or error. Paginated with cursor/nextCursor.",
    input: z.object({ eventId: z.string().min(1).max(100).optional().describe('Only attempts for this event'), ...pageInput }).strict(),
    output: z.object({ deliveries: z.array(deliveryRow), nextCursor: z.string().nullable() }),
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['webhooks:read'],
    async handler({ eventId, limit, cursor }, { project, sql }) {
      const { rows } = await sql.query<DeliverySqlRow>(
        `select id::text as id, event_id, event_type, endpoint_url, attempt, status_code, error, duration_ms, at
         from {{schema}}.deliveries d
         where project = $1 and ($2::text is null or event_id = $2) and ($3::bigint is null or d.id < $3::bigint)
         order by d.id desc limit $4`,
        [project, eventId ?? null, cursor ?? null, limit + 1],
      );
      const result = page(rows, limit);
      return {
        deliveries: result.rows.map((row) => ({
          eventId: row.event_id,
          eventType: row.event_type,
          endpoint: row.endpoint_url,
          attempt: row.attempt,
          statusCode: row.status_code,
          error: row.error,
          durationMs: row.duration_ms === null ? null : Math.round(row.duration_ms),
          at: row.at.toISOString(),
        })),
        nextCursor: result.nextCursor,
      };
    },
  });

  ctx.tool({
    name: 'dead_letters',
    title: 'Undeliverable webhooks',
    description: "Your project's events that ran out of delivery attempts (newest first), with the last error and the event as it would have been sent. Paginated with cursor/nextCursor.",
    input: z.object(pageInput).strict(),
    output: z.object({ deadLetters: z.array(deadLetterRow), nextCursor: z.string().nullable() }),
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['webhooks:read'],
    async handler({ limit, cursor }, { project, sql }) {
      const { rows } = await sql.query<DeadLetterSqlRow>(
        `select id::text as id, event_id, event_type, endpoint_url, attempts, last_error, event, at
         from {{schema}}.dead_letters l
         where project = $1 and ($2::bigint is null or l.id < $2::bigint)
         order by l.id desc limit $3`,
        [project, cursor ?? null, limit + 1],
      );
      const result = page(rows, limit);
      return {
        deadLetters: result.rows.map((row) => ({
          eventId: row.event_id,
          eventType: row.event_type,
          endpoint: row.endpoint_url,
          attempts: row.attempts,
          lastError: row.last_error,
          event: row.event,
          at: row.at.toISOString(),
        })),
        nextCursor: result.nextCursor,
      };
    },
  });
}
