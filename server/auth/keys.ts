import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { loadSql } from '../db/sql.ts';
import type { Storage } from '../db/storage.ts';
import { AnvilError, ErrorCodes } from '../errors.ts';
import type { Principal } from './principal.ts';
import { parseScopes } from './scopes.ts';

const sql = {
  ensureProject: loadSql(import.meta.url, './sql/ensure-project.sql'),
  insertKey: loadSql(import.meta.url, './sql/insert-key.sql'),
  findKey: loadSql(import.meta.url, './sql/find-key.sql'),
  listKeys: loadSql(import.meta.url, './sql/list-keys.sql'),
  revokeKey: loadSql(import.meta.url, './sql/revoke-key.sql'),
  touchKey: loadSql(import.meta.url, './sql/touch-key.sql'),
};

/** `anv_<12-char id>_<43-char secret>`: the id is public (logs, audit); only the secret's hash is stored. */
const keyPattern = /^anv_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const projectPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const idAlphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';

export interface ApiKeyInfo {
  id: string;
  project: string;
  name: string | null;
  scopes: string[];
  /** The tool allowlist (names, or prefixes ending in `*`); null means every tool. */
  tools: string[] | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface CreatedKey extends ApiKeyInfo {
  /** The full secret key; shown once, never stored. */
  key: string;
  projectCreated: boolean;
}

interface KeyRow {
  id: string;
  project_id: string;
  name: string | null;
  scopes: string[];
  tools: string[] | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

function toInfo(row: KeyRow): ApiKeyInfo {
  return {
    id: row.id,
    project: row.project_id,
    name: row.name,
    scopes: row.scopes,
    tools: row.tools,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function randomId(): string {
  const bytes = randomBytes(12);
  return Array.from(bytes, (byte) => idAlphabet[byte % idAlphabet.length]).join('');
}

export function validateProjectId(project: string, field = 'project'): string {
  if (!projectPattern.test(project)) {
    throw new AnvilError(ErrorCodes.INVALID_INPUT, `${field}: "${project}" is not a project id; expected lowercase letters, digits, - or _ (1-63 chars, starting with a letter or digit)`);
  }
  return project;
}

/**
 * One allowlist item: a tool name, a plugin id (every tool of that plugin), or a prefix ending in
 * `*` (`jobs_*`; `*` alone allows everything). Matched by the plugin host's `unavailable()`.
 */
const toolItemPattern = /^(?:[A-Za-z0-9][A-Za-z0-9_-]{0,127}\*?|\*)$/;

/** Validates a key's tool allowlist as given on the command line (comma-separated) or as a list. */
export function parseToolAllowlist(raw: string | readonly string[], field = 'tools'): string[] {
  const items = (typeof raw === 'string' ? raw.split(',') : [...raw]).map((item) => item.trim()).filter((item) => item.length > 0);
  if (items.length === 0) {
    throw new AnvilError(ErrorCodes.INVALID_INPUT, `${field}: expected at least one tool name or prefix, e.g. anvil_status,jobs_*`);
  }
  const bad = items.filter((item) => !toolItemPattern.test(item));
  if (bad.length > 0) {
    throw new AnvilError(
      ErrorCodes.INVALID_INPUT,
      `${field}: ${bad.map((item) => `"${item}"`).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not a tool name or prefix; expected names such as anvil_status or prefixes ending in * such as jobs_* (letters, digits, _ or -)`,
    );
  }
  return [...new Set(items)];
}

interface FoundKey {
  id: string;
  project_id: string;
  secret_sha256: Buffer;
  scopes: string[];
  tools: string[] | null;
  revoked_at: Date | null;
}

function keyPrincipal(row: FoundKey): Principal {
  return { id: `key:${row.id}`, kind: 'api-key', keyId: row.id, project: row.project_id, scopes: row.scopes, ...(row.tools ? { tools: row.tools } : {}) };
}

interface CachedPrincipal {
  principal: Principal;
  expiresAt: number;
}

/**
 * API keys: created by an operator, verified on every HTTP request. Secrets are high-entropy
 * random strings, so one SHA-256 is the right hash (as for GitHub or Stripe tokens) and lets a
 * verification cost one indexed lookup. Verified keys are cached for `cacheTtlMs`, which bounds
 * how long a revoked key keeps working on a server that has just verified it.
 */
export class KeyStore {
  private readonly cache = new Map<string, CachedPrincipal>();
  private static readonly maxCached = 10_000;

  constructor(
    private readonly storage: Storage,
    private readonly cacheTtlMs = 5_000,
  ) {}

  /** `tools` limits the key to those tools (see parseToolAllowlist); omitted, it may call every tool its scopes allow. */
  async create(options: { project: string; scopes: string | readonly string[]; name?: string; tools?: string | readonly string[] }): Promise<CreatedKey> {
    const project = validateProjectId(options.project);
    const scopes = parseScopes(options.scopes);
    const tools = options.tools === undefined ? null : parseToolAllowlist(options.tools);
    const id = randomId();
    const secret = randomBytes(32).toString('base64url');
    const key = `anv_${id}_${secret}`;
    return this.storage.transaction(async (client) => {
      const createdProject = await client.query(sql.ensureProject, [project]);
      const { rows } = await client.query<KeyRow>(sql.insertKey, [id, project, options.name ?? null, sha256(secret), scopes, tools]);
      const row = rows[0] as KeyRow;
      return { ...toInfo({ ...row, last_used_at: null, revoked_at: null }), key, projectCreated: (createdProject.rowCount ?? 0) > 0 };
    });
  }

  async list(project?: string): Promise<ApiKeyInfo[]> {
    const { rows } = await this.storage.query<KeyRow>(sql.listKeys, [project ?? null]);
    return rows.map(toInfo);
  }

  async revoke(id: string): Promise<ApiKeyInfo> {
    const { rows } = await this.storage.query<KeyRow>(sql.revokeKey, [id]);
    const row = rows[0];
    if (!row) throw new AnvilError(ErrorCodes.NOT_FOUND, `No API key with id "${id}"; see \`anvil keys list\``);
    for (const [token, cached] of this.cache) if (cached.principal.keyId === id) this.cache.delete(token);
    return toInfo(row);
  }

  /**
   * The principal of key `id` as it stands now (scopes and allowlist re-read, revocation honoured),
   * for work resumed on a caller's behalf after the request that started it has gone.
   */
  async current(id: string): Promise<Principal> {
    const { rows } = await this.storage.query<FoundKey>(sql.findKey, [id]);
    const row = rows[0];
    if (!row) throw new AnvilError(ErrorCodes.UNAUTHENTICATED, `The API key ${id} no longer exists`);
    if (row.revoked_at) throw new AnvilError(ErrorCodes.UNAUTHENTICATED, `The API key ${id} was revoked`);
    return keyPrincipal(row);
  }

  /** The principal for a bearer token, or an ANVIL_E_UNAUTHENTICATED error saying why not. */
  async verify(token: string): Promise<Principal> {
    const now = Date.now();
    const cached = this.cache.get(token);
    if (cached && cached.expiresAt > now) return cached.principal;

    const match = keyPattern.exec(token);
    if (!match) throw new AnvilError(ErrorCodes.UNAUTHENTICATED, 'The bearer token is not an Anvil API key (expected anv_<id>_<secret>)');
    const [, id, secret] = match as unknown as [string, string, string];
    const { rows } = await this.storage.query<FoundKey>(sql.findKey, [id]);
    const row = rows[0];
    if (!row || !timingSafeEqual(row.secret_sha256, sha256(secret))) {
      throw new AnvilError(ErrorCodes.UNAUTHENTICATED, 'The API key is not valid');
    }
    if (row.revoked_at) throw new AnvilError(ErrorCodes.UNAUTHENTICATED, `The API key ${id} was revoked`);

    const principal = keyPrincipal(row);
    if (this.cacheTtlMs > 0) {
      if (this.cache.size >= KeyStore.maxCached) this.cache.clear();
      this.cache.set(token, { principal, expiresAt: now + this.cacheTtlMs });
    }
    // Best effort and rate-limited in SQL: a lost touch only makes `last used` a minute staler.
    this.storage.query(sql.touchKey, [id]).catch(() => {});
    return principal;
  }
}
