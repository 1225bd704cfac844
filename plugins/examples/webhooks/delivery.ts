import { performance } from 'node:perf_hooks';
import type { AnvilEvent, Logger, PluginSql } from 'anvil/plugin';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signatureHeader } from './signature.ts';

export interface Endpoint {
  readonly url: string;
  readonly secret: string;
  readonly events: readonly string[];
  readonly projects?: readonly string[] | undefined;
}

/** What a queued delivery carries: the event and which endpoint, never the endpoint's secret. */
export interface DeliveryJob {
  event: WireEvent;
  /** Index into the configured endpoints. */
  endpoint: number;
  /** The endpoint's display URL when enqueued: a delivery never goes to an endpoint configured since. */
  url: string;
}

export interface DeliveryResult {
  statusCode: number | null;
  attempt: number;
  delivered: boolean;
}

/** The JSON body every endpoint receives. */
export interface WireEvent {
  id: string;
  type: string;
  at: string;
  project: string | null;
  payload: Record<string, unknown>;
}

export function wireEvent(event: AnvilEvent): WireEvent {
  return { id: event.id, type: event.type, at: event.at, project: event.project ?? null, payload: event.payload };
}

/** The URL as stored and shown: without user name or password. */
export function displayUrl(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

/** Same semantics as the host's event patterns: exact, `prefix.*`, or `*`. */
export function matchesPattern(pattern: string, type: string): boolean {
  if (pattern === '*' || pattern === type) return true;
  return pattern.endsWith('*') && type.startsWith(pattern.slice(0, -1));
}

export function wantsEvent(endpoint: Endpoint, event: AnvilEvent): boolean {
  if (endpoint.projects && (!event.project || !endpoint.projects.includes(event.project))) return false;
  return endpoint.events.some((pattern) => matchesPattern(pattern, event.type));
}

const MAX_ERROR_LENGTH = 500;

function describeFailure(error: unknown, timeoutMs: number, closing: AbortSignal): string {
  if (closing.aborted) return 'aborted: the server is shutting down';
  if (error instanceof Error && error.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  if (!(error instanceof Error)) return String(error);
  // fetch reports network failures as "fetch failed" with the reason in `cause`.
  const cause = error.cause instanceof Error ? `: ${(error.cause as NodeJS.ErrnoException).code ?? error.cause.message}` : '';
  return `${error.message}${cause}`;
}

export interface Deliverer {
  readonly sql: PluginSql;
  readonly log: Logger;
  readonly endpoints: readonly Endpoint[];
  readonly timeoutMs: number;
  /** Aborted when the plugin closes, so shutdown does not wait out a slow endpoint. */
  readonly closing: AbortSignal;
}

/**
 * One delivery attempt: POST the signed event, record the attempt, and throw on failure so BullMQ
 * retries it with backoff. The final failed attempt also leaves a dead letter. A recording failure
 * is logged but never turns a delivered event into a retry (which would deliver it twice).
 */
export async function deliver(
  deps: Deliverer,
  job: { data: DeliveryJob; attemptsMade: number; opts: { attempts?: number } },
  maxAttempts: number,
): Promise<DeliveryResult> {
  const { event, endpoint: index, url } = job.data;
  const attempt = job.attemptsMade + 1;
  const finalAttempt = attempt >= (job.opts.attempts ?? maxAttempts);
  const endpoint = deps.endpoints[index];
  const base = { event, index, url, attempt };

  if (!endpoint || displayUrl(endpoint.url) !== url) {
    // Configuration changed since the event was queued: never send it (or its signature) elsewhere.
    const error = 'endpoint no longer configured';
    await record(deps, { ...base, statusCode: null, error, durationMs: null });
    await deadLetter(deps, { ...base, error });
    return { statusCode: null, attempt, delivered: false };
  }

  const body = JSON.stringify(event);
  const started = performance.now();
  let statusCode: number | null = null;
  let failure: string | null = null;
  try {
    const response = await fetch(endpoint.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'anvil-webhooks/1.0',
        [EVENT_ID_HEADER]: event.id,
        'anvil-delivery-attempt': String(attempt),
        [SIGNATURE_HEADER]: signatureHeader(endpoint.secret, body),
      },
      body,
      // A redirect is a failure: following it would send the signed body somewhere not configured.
      redirect: 'manual',
      signal: AbortSignal.any([AbortSignal.timeout(deps.timeoutMs), deps.closing]),
    });
    statusCode = response.status;
    await response.body?.cancel().catch(() => {});
    if (statusCode < 200 || statusCode > 299) failure = `HTTP ${statusCode}`;
  } catch (error) {
    failure = describeFailure(error, deps.timeoutMs, deps.closing).slice(0, MAX_ERROR_LENGTH);
  }
  const durationMs = performance.now() - started;
  await record(deps, { ...base, statusCode, error: failure, durationMs });
  if (failure === null) return { statusCode, attempt, delivered: true };
  if (finalAttempt) await deadLetter(deps, { ...base, error: failure });
  throw new Error(`delivery of ${event.id} to ${url} failed (attempt ${attempt}): ${failure}`);
}

interface AttemptRecord {
  event: WireEvent;
  index: number;
  url: string;
  attempt: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number | null;
}

async function record(deps: Deliverer, row: AttemptRecord): Promise<void> {
  try {
    await deps.sql.query(
      `insert into {{schema}}.deliveries (event_id, event_type, project, endpoint_index, endpoint_url, attempt, status_code, error, duration_ms)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [row.event.id, row.event.type, row.event.project, row.index, row.url, row.attempt, row.statusCode, row.error, row.durationMs],
    );
  } catch (error) {
    deps.log.warn({ err: error, eventId: row.event.id, endpoint: row.url, attempt: row.attempt }, 'could not record a webhook delivery attempt');
  }
}

async function deadLetter(deps: Deliverer, row: { event: WireEvent; index: number; url: string; attempt: number; error: string }): Promise<void> {
  deps.log.warn({ eventId: row.event.id, type: row.event.type, endpoint: row.url, attempts: row.attempt, error: row.error }, 'webhook delivery dead-lettered');
  try {
    await deps.sql.query(
      `insert into {{schema}}.dead_letters (event_id, event_type, project, endpoint_index, endpoint_url, event, last_error, attempts)
       values ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)
       on conflict (event_id, endpoint_index) do update set last_error = excluded.last_error, attempts = excluded.attempts, at = now()`,
      [row.event.id, row.event.type, row.event.project, row.index, row.url, JSON.stringify(row.event), row.error, row.attempt],
    );
  } catch (error) {
    deps.log.error({ err: error, eventId: row.event.id, endpoint: row.url }, 'could not record a dead letter');
  }
}
