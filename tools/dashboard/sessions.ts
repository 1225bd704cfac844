/**
 * Dashboard sessions: a random 256-bit id in an httpOnly cookie, stored only as its SHA-256 with
 * the principal it was opened for and an expiry. The CSRF token is derived from the id (so only a
 * page that was handed it by `GET /ui/api/session` knows it) and never stored.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { loadSql, type CallerPrincipal, type PluginSql } from 'anvil/plugin';

const SQL = {
  insert: loadSql(import.meta.url, './sql/insert-session.sql'),
  find: loadSql(import.meta.url, './sql/find-session.sql'),
  remove: loadSql(import.meta.url, './sql/delete-session.sql'),
  sweep: loadSql(import.meta.url, './sql/sweep-sessions.sql'),
};

/** Cookie values we issue: 43 base64url characters. Anything else is refused before any lookup. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

export function hashSessionId(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

export function csrfToken(sessionId: string): string {
  return createHash('sha256').update(`anvil-dashboard-csrf:${sessionId}`).digest('base64url');
}

export function csrfMatches(sessionId: string, offered: string | undefined): boolean {
  if (offered === undefined) return false;
  const expected = Buffer.from(csrfToken(sessionId));
  const given = Buffer.from(offered);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function isSessionId(value: string | undefined): value is string {
  return value !== undefined && SESSION_ID.test(value);
}

/** What the session keeps of a principal: enough for `ctx.tools.refresh` to re-read the key. */
function storedPrincipal(principal: CallerPrincipal): CallerPrincipal {
  return {
    id: principal.id,
    kind: principal.kind,
    project: principal.project,
    scopes: [...principal.scopes],
    ...(principal.keyId === undefined ? {} : { keyId: principal.keyId }),
    ...(principal.tools === undefined ? {} : { tools: [...principal.tools] }),
  };
}

export class SessionStore {
  constructor(
    private readonly sql: PluginSql,
    private readonly ttlSeconds: number,
  ) {}

  /** Opens a session for `principal`; returns the cookie value (the only place the id exists). */
  async open(principal: CallerPrincipal): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    await this.sql.transaction(async (tx) => {
      await tx.query(SQL.insert, [hashSessionId(id), principal.project, JSON.stringify(storedPrincipal(principal)), principal.keyId ?? null, this.ttlSeconds]);
    });
    return id;
  }

  /** The principal of a live session, or undefined for an unknown, forged or expired id. */
  async find(id: string): Promise<CallerPrincipal | undefined> {
    if (!isSessionId(id)) return undefined;
    const { rows } = await this.sql.query<{ principal: CallerPrincipal | string }>(SQL.find, [hashSessionId(id)]);
    const row = rows[0];
    if (!row) return undefined;
    return typeof row.principal === 'string' ? (JSON.parse(row.principal) as CallerPrincipal) : row.principal;
  }

  async close(id: string): Promise<void> {
    if (!isSessionId(id)) return;
    await this.sql.transaction(async (tx) => {
      await tx.query(SQL.remove, [hashSessionId(id)]);
    });
  }

  async sweep(): Promise<number> {
    return this.sql.transaction(async (tx) => (await tx.query(SQL.sweep, [])).rowCount ?? 0);
  }
}
