/** Input checks for the job store: anything refused here never reaches SQL. */
import { AnvilError, ErrorCodes } from 'anvil/plugin';
import { jobResources, type JobResources, type JobResourcesInput } from './resources.ts';

export function invalid(message: string, details?: Record<string, unknown>): AnvilError {
  return new AnvilError(ErrorCodes.INVALID_INPUT, message, details ? { details } : undefined);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A job id, lower-cased; anything else is INVALID_INPUT naming `what`. */
export function uuid(value: unknown, what = 'job id'): string {
  if (typeof value !== 'string' || !UUID.test(value)) throw invalid(`${what} must be a UUID, got ${JSON.stringify(value)}`);
  return value.toLowerCase();
}

/** Non-empty text of at most `max` characters, without NUL (Postgres text cannot hold it). */
export function text(value: unknown, what: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(`${what} must be a non-empty string`);
  if (value.length > max) throw invalid(`${what} must be at most ${max} characters (got ${value.length})`);
  if (value.includes('\u0000')) throw invalid(`${what} must not contain NUL characters`);
  return value;
}

export function int(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${what} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function plainObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** NUL cannot live in jsonb strings: it becomes U+FFFD, the replacement character. */
function withoutNul(_key: string, value: unknown): unknown {
  return typeof value === 'string' && value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
}

/** JSON text for a jsonb parameter, at most `maxBytes`; undefined stays undefined (SQL null: keep). */
export function jsonText(value: unknown, what: string, maxBytes: number): string | null {
  if (value === undefined) return null;
  let encoded: string | undefined;
  try {
    encoded = JSON.stringify(value, withoutNul);
  } catch (error) {
    throw invalid(`${what} must be JSON-serializable: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (encoded === undefined) throw invalid(`${what} must be JSON-serializable`);
  const bytes = Buffer.byteLength(encoded);
  if (bytes > maxBytes) throw invalid(`${what} is ${bytes} bytes as JSON; at most ${maxBytes} are kept`);
  return encoded;
}

export function parseResources(value: JobResourcesInput | undefined): JobResources {
  const parsed = jobResources.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `resources.${issue.path.join('.')}` : 'resources';
  throw invalid(`${where}: ${issue?.message ?? 'invalid'}`);
}

/** Replaces NUL, which Postgres text cannot hold. */
export function cleanText(value: string): string {
  return value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
}

/** The longest prefix of `value` that is at most `maxBytes` in UTF-8, never splitting a character. */
export function cutUtf8(value: string, maxBytes: number): string {
  if (Buffer.byteLength(value) <= maxBytes) return value;
  let bytes = 0;
  let end = 0;
  for (const char of value) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return value.slice(0, end);
}

// -------------------------------------------------------------------------------------------------
// List cursors: opaque to callers, a submission sequence number inside.

const CURSOR_PREFIX = 'jobs1:';

export function encodeCursor(seq: number): string {
  return Buffer.from(`${CURSOR_PREFIX}${seq}`).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  const seq = decoded.startsWith(CURSOR_PREFIX) ? Number(decoded.slice(CURSOR_PREFIX.length)) : Number.NaN;
  if (!Number.isSafeInteger(seq) || seq < 1) throw invalid('cursor is not one this server handed out; start again without a cursor');
  return seq;
}
