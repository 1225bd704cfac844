import { readFileSync } from 'node:fs';
import path from 'node:path';
import type * as z from 'zod';
import { AnvilError, ErrorCodes, errorMessage } from '../errors.ts';
import { type AnvilConfig, configSchema } from './schema.ts';

type EnvKind = 'string' | 'int' | 'list';

/** Environment variables understood by Anvil, and where each lands in the config. */
export const envBindings: ReadonlyArray<{ env: string; path: readonly string[]; kind: EnvKind }> = [
  { env: 'DATABASE_URL', path: ['databaseUrl'], kind: 'string' },
  { env: 'REDIS_URL', path: ['redisUrl'], kind: 'string' },
  { env: 'ANVIL_QUEUE', path: ['queue'], kind: 'string' },
  { env: 'ANVIL_QUEUE_PREFIX', path: ['queuePrefix'], kind: 'string' },
  { env: 'ANVIL_TOOLS', path: ['tools'], kind: 'list' },
  { env: 'ANVIL_HOST', path: ['http', 'host'], kind: 'string' },
  { env: 'ANVIL_PORT', path: ['http', 'port'], kind: 'int' },
  { env: 'ANVIL_ALLOWED_HOSTS', path: ['http', 'allowedHosts'], kind: 'list' },
  { env: 'ANVIL_ALLOWED_ORIGINS', path: ['http', 'allowedOrigins'], kind: 'list' },
  { env: 'ANVIL_MAX_BODY_BYTES', path: ['http', 'maxBodyBytes'], kind: 'int' },
  { env: 'ANVIL_KEY_CACHE_TTL_MS', path: ['auth', 'keyCacheTtlMs'], kind: 'int' },
  { env: 'ANVIL_OAUTH_RESOURCE', path: ['auth', 'oauth', 'resource'], kind: 'string' },
  { env: 'ANVIL_OAUTH_ISSUER', path: ['auth', 'oauth', 'issuer'], kind: 'string' },
  { env: 'ANVIL_OAUTH_AUDIENCE', path: ['auth', 'oauth', 'audience'], kind: 'string' },
  { env: 'ANVIL_OAUTH_JWKS_URI', path: ['auth', 'oauth', 'jwksUri'], kind: 'string' },
  { env: 'ANVIL_OAUTH_ALGORITHMS', path: ['auth', 'oauth', 'algorithms'], kind: 'list' },
  { env: 'ANVIL_OAUTH_CLOCK_TOLERANCE_SECONDS', path: ['auth', 'oauth', 'clockToleranceSeconds'], kind: 'int' },
  { env: 'ANVIL_OAUTH_PROJECT_CLAIM', path: ['auth', 'oauth', 'projectClaim'], kind: 'string' },
  { env: 'ANVIL_STDIO_PRINCIPAL', path: ['stdio', 'principal'], kind: 'string' },
  { env: 'ANVIL_STDIO_PROJECT', path: ['stdio', 'project'], kind: 'string' },
  { env: 'ANVIL_STDIO_SCOPES', path: ['stdio', 'scopes'], kind: 'list' },
  { env: 'ANVIL_LOG_LEVEL', path: ['log', 'level'], kind: 'string' },
  { env: 'ANVIL_LOG_FILE', path: ['log', 'file'], kind: 'string' },
  { env: 'ANVIL_LOG_FORMAT', path: ['log', 'format'], kind: 'string' },
  { env: 'ANVIL_IDLE_IN_TRANSACTION_TIMEOUT_MS', path: ['embedded', 'idleInTransactionTimeoutMs'], kind: 'int' },
  { env: 'ANVIL_SHUTDOWN_GRACE_MS', path: ['shutdown', 'graceMs'], kind: 'int' },
  { env: 'ANVIL_LOCAL_WORKER', path: ['jobs', 'localWorker'], kind: 'string' },
  { env: 'ANVIL_LOCAL_WORKER_SLOTS', path: ['jobs', 'localWorkerSlots'], kind: 'int' },
  { env: 'ANVIL_JOBS_LEASE_MS', path: ['jobs', 'leaseMs'], kind: 'int' },
  { env: 'ANVIL_JOBS_HEARTBEAT_MS', path: ['jobs', 'heartbeatMs'], kind: 'int' },
  { env: 'ANVIL_JOBS_SWEEP_MS', path: ['jobs', 'sweepMs'], kind: 'int' },
  { env: 'ANVIL_JOBS_PREEMPT_AFTER_MS', path: ['jobs', 'preemptAfterMs'], kind: 'int' },
  { env: 'ANVIL_JOBS_GRACE_MS', path: ['jobs', 'graceMs'], kind: 'int' },
  { env: 'ANVIL_JOBS_RETRY_BACKOFF_MS', path: ['jobs', 'retryBackoffMs'], kind: 'int' },
  { env: 'ANVIL_ARTIFACT_DIR', path: ['jobs', 'artifactDir'], kind: 'string' },
  { env: 'ANVIL_DATASET_ROOTS', path: ['datasets', 'roots'], kind: 'list' },
  { env: 'ANVIL_DEPLOYMENTS_SESSION_CACHE_MB', path: ['deployments', 'sessionCacheMb'], kind: 'int' },
  { env: 'ANVIL_DEPLOYMENTS_STATE_TTL_MS', path: ['deployments', 'stateTtlMs'], kind: 'int' },
  { env: 'ANVIL_DEPLOYMENTS_CONCURRENT_RUNS', path: ['deployments', 'concurrentRuns'], kind: 'int' },
  { env: 'ANVIL_DEPLOYMENTS_CONTROLLER_INTERVAL_MS', path: ['deployments', 'controllerIntervalMs'], kind: 'int' },
  { env: 'ANVIL_DEPLOYMENTS_RETENTION_INTERVAL_MS', path: ['deployments', 'retentionIntervalMs'], kind: 'int' },
  { env: 'ANVIL_KB_STORE', path: ['knowledge', 'store'], kind: 'string' },
  { env: 'ANVIL_DASHBOARD_SESSION_TTL_MINUTES', path: ['dashboard', 'sessionTtlMinutes'], kind: 'int' },
  { env: 'ANVIL_KB_MAX_UPLOAD_BYTES', path: ['knowledge', 'maxUploadBytes'], kind: 'int' },
  { env: 'QDRANT_URL', path: ['knowledge', 'qdrant', 'url'], kind: 'string' },
  { env: 'ANVIL_KB_LLM_URL', path: ['knowledge', 'llm', 'url'], kind: 'string' },
  { env: 'ANVIL_KB_LLM_MODEL', path: ['knowledge', 'llm', 'model'], kind: 'string' },
  { env: 'ANVIL_KB_LLM_API_KEY_ENV', path: ['knowledge', 'llm', 'apiKeyEnv'], kind: 'string' },
];

export interface ConfigOverrides {
  home?: string;
  /** A config tree used instead of reading a file (the plugin test harness). */
  inline?: Record<string, unknown>;
  configPath?: string;
  tools?: string[];
  http?: { host?: string; port?: number; auth?: boolean };
}

export interface LoadedConfig {
  config: AnvilConfig;
  /** Where the config file was looked for, and whether it existed. */
  file: { path: string; found: boolean };
  /** Which source set each key that did not come from a default, by dotted path. */
  sources: Record<string, string>;
}

type Tree = Record<string, unknown>;

function setPath(tree: Tree, keys: readonly string[], value: unknown): void {
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1] as string] = value;
}

function envValue(raw: string, kind: EnvKind): unknown {
  if (kind === 'int') return /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
  if (kind === 'list') return raw.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
  return raw;
}

function collectLeafSources(tree: unknown, prefix: string, source: string, into: Record<string, string>): void {
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) {
    if (prefix) into[prefix] = source;
    return;
  }
  for (const [key, value] of Object.entries(tree)) {
    collectLeafSources(value, prefix ? `${prefix}.${key}` : key, source, into);
  }
}

function readConfigFile(filePath: string, required: boolean): Tree | undefined {
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !required) return undefined;
    throw new AnvilError(ErrorCodes.CONFIG_UNREADABLE, `Cannot read config file ${filePath}: ${errorMessage(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new AnvilError(ErrorCodes.CONFIG_INVALID, `Config file ${filePath} is not valid JSON: ${errorMessage(error)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AnvilError(ErrorCodes.CONFIG_INVALID, `Config file ${filePath} must hold a JSON object`);
  }
  return parsed as Tree;
}

function valueAt(tree: unknown, keys: readonly PropertyKey[]): unknown {
  let node = tree;
  for (const key of keys) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function describeIssue(issue: z.core.$ZodIssue, sources: Record<string, string>, raw: unknown): string {
  const key = issue.path.map(String).join('.') || '(root)';
  // The key's own source, one below it, or (an element of a list) the nearest one above it.
  const above = issue.path.map((_, end) => sources[issue.path.slice(0, issue.path.length - end).map(String).join('.')]).find((found) => found !== undefined);
  const source = sources[key] ?? Object.entries(sources).find(([leaf]) => leaf.startsWith(`${key}.`))?.[1] ?? above;
  const where = source ? ` (from ${source})` : '';
  if (issue.code === 'unrecognized_keys') {
    return `${key === '(root)' ? '' : `${key}: `}unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}${where}`;
  }
  const given = valueAt(raw, issue.path);
  const got = given === undefined ? '' : `, got ${JSON.stringify(given)}`;
  return `${key}${where}: ${issue.message}${got}`;
}

/**
 * Layers defaults < config file < environment < command-line flags and parses the result once.
 * A bad value is an error naming the key, its source and the expected form.
 */
export function loadConfig(options: { env?: NodeJS.ProcessEnv; cwd?: string; overrides?: ConfigOverrides } = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const overrides = options.overrides ?? {};
  const sources: Record<string, string> = {};

  const homeRaw = overrides.home ?? env.ANVIL_HOME ?? '.anvil';
  const home = path.resolve(cwd, homeRaw);
  const explicitFile = overrides.configPath ?? env.ANVIL_CONFIG;
  const filePath = explicitFile ? path.resolve(cwd, explicitFile) : path.join(home, 'anvil.config.json');
  const fileTree = overrides.inline ? structuredClone(overrides.inline) : readConfigFile(filePath, explicitFile !== undefined);
  const fromFile = fileTree ?? {};
  if ('home' in fromFile) {
    throw new AnvilError(ErrorCodes.CONFIG_INVALID, `home cannot be set in ${filePath}; use --home or ANVIL_HOME`);
  }
  collectLeafSources(fromFile, '', filePath, sources);

  const raw: Tree = structuredClone(fromFile);
  raw.home = home;
  sources.home = overrides.home ? '--home' : env.ANVIL_HOME ? 'env ANVIL_HOME' : 'default';

  for (const binding of envBindings) {
    const value = env[binding.env];
    if (value === undefined || value === '') continue;
    setPath(raw, binding.path, envValue(value, binding.kind));
    sources[binding.path.join('.')] = `env ${binding.env}`;
  }
  if (overrides.http?.host !== undefined) {
    setPath(raw, ['http', 'host'], overrides.http.host);
    sources['http.host'] = '--host';
  }
  if (overrides.http?.port !== undefined) {
    setPath(raw, ['http', 'port'], overrides.http.port);
    sources['http.port'] = '--port';
  }
  if (overrides.tools !== undefined) {
    raw.tools = overrides.tools;
    sources.tools = '--tools';
  }
  if (overrides.http?.auth === false) {
    setPath(raw, ['http', 'auth'], false);
    sources['http.auth'] = '--no-auth';
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  - ${describeIssue(issue, sources, raw)}`);
    throw new AnvilError(ErrorCodes.CONFIG_INVALID, `Invalid configuration:\n${lines.join('\n')}`, {
      details: { issues: parsed.error.issues.map((issue) => ({ key: issue.path.join('.'), message: issue.message })) },
    });
  }
  return { config: parsed.data, file: { path: filePath, found: fileTree !== undefined }, sources };
}
