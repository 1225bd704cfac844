import path from 'node:path';
import * as z from 'zod';
import { jobsConfig } from '../../tools/jobs/config.ts';
import { deploymentsConfig } from '../../tools/deployment/config.ts';
import { dashboardConfig } from '../../tools/dashboard/config.ts';
import { knowledgeConfig } from '../../tools/knowledge/config.ts';
import { PLUGIN_PERMISSIONS } from '../../plugins/sdk/types.ts';
import { parseScopes } from '../auth/scopes.ts';

const portSchema = z.number().int().min(0).max(65535);
const positiveInt = z.number().int().positive();
const scopeList = z.array(z.string().min(1)).min(1);

const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL');
const redisUrl = z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL');
const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });
const absolutePath = z.string().refine((value) => path.isAbsolute(value), 'expected an absolute path');

/** A plugin to load: an npm package or path, the same with options, or a built-in by id. */
export const pluginEntrySchema = z.union([
  z.string().min(1),
  z
    .object({
      module: z.string().min(1),
      config: z.unknown().optional(),
      /** When given, the permissions the plugin may have; it is refused if it asks for more. */
      permissions: z.array(z.enum(PLUGIN_PERMISSIONS)).optional(),
      /** Refuse to start the server when this plugin fails, instead of leaving it out. */
      strict: z.boolean().optional(),
    })
    .strict(),
  z.object({ id: z.string().min(1), config: z.unknown().optional(), strict: z.boolean().optional() }).strict(),
]);
export type PluginEntry = z.output<typeof pluginEntrySchema>;

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** JWS algorithms an access token may be signed with: asymmetric only (a shared secret would let the resource server mint tokens). */
export const OAUTH_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

function validScopes(items: readonly string[]): boolean {
  try {
    parseScopes(items);
    return true;
  } catch {
    return false;
  }
}

/**
 * Anvil as an OAuth 2.1 resource server (remote MCP over HTTP): bearer JWT access tokens from
 * `issuer`, bound to `resource` (RFC 8707), beside API keys. See docs/operations.md.
 */
export const oauthSchema = z
  .object({
    /** This server's resource identifier: the URL clients reach MCP at, e.g. https://anvil.example.com/mcp. */
    resource: httpUrl,
    /** The authorization server's issuer identifier; tokens must carry exactly this `iss`. */
    issuer: httpUrl,
    /** The `aud` a token must carry; defaults to `resource`. */
    audience: z.string().min(1).optional(),
    /** The issuer's JWKS; unset, it is discovered from the issuer's metadata (RFC 8414 / OpenID discovery). */
    jwksUri: httpUrl.optional(),
    algorithms: z.array(z.enum(OAUTH_ALGORITHMS)).min(1).default(['RS256', 'PS256', 'ES256', 'EdDSA']),
    /** Leeway for `exp`/`nbf`/`iat` against clock drift between the servers. */
    clockToleranceSeconds: z.number().int().min(0).max(300).default(5),
    /**
     * Token scope → Anvil scopes it grants, e.g. `{"anvil": ["*"], "mcp:read": ["jobs:read"]}`. Unset: a
     * token scope that is itself an Anvil scope (`training:write`, `deployments:predict`) grants itself;
     * `*` and the operator scopes only through a map.
     */
    scopeMap: z
      .record(z.string().min(1), z.array(z.string().min(1)).min(1).refine(validScopes, 'expected Anvil scopes like jobs:read or *'))
      .optional(),
    /** The claim naming the token's project (the tenant); a token without it is refused. */
    projectClaim: z.string().min(1).default('anvil_project'),
    /** `resource_name` in the Protected Resource Metadata. */
    resourceName: z.string().min(1).default('Anvil'),
  })
  .strict();
export type OAuthConfig = z.output<typeof oauthSchema>;

/**
 * The whole configuration, parsed once at start. Defaults live here and nowhere else; every
 * other module receives the parsed, typed object.
 */
export const configSchema = z
  .object({
    home: z.string().min(1),
    databaseUrl: postgresUrl.optional(),
    redisUrl: redisUrl.optional(),
    /** `auto` picks BullMQ on Redis when `redisUrl` is set, otherwise BullMQ's Postgres backend. */
    queue: z.enum(['auto', 'redis', 'postgres']).default('auto'),
    /** BullMQ key prefix and control-channel namespace: clusters sharing one Redis keep apart by it. */
    queuePrefix: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'expected 1-64 letters, digits, "_", "." or "-"')
      .default('anvil'),
    /** Plugins to load besides the core one, in order (dependencies are ordered first regardless). */
    plugins: z.array(pluginEntrySchema).default([]),
    /**
     * The tool profile: plugin ids or tool names (a trailing `*` matches a prefix) this server
     * offers besides the core `anvil_*` tools. Unset offers every tool.
     */
    tools: z.array(z.string().min(1)).min(1).optional(),
    http: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: portSchema.default(7420),
        /** Extra Host header names accepted besides the loopback names (DNS-rebinding guard). */
        allowedHosts: z.array(z.string().min(1)).default([]),
        /** Extra browser Origin host names accepted besides the loopback names. */
        allowedOrigins: z.array(z.string().min(1)).default([]),
        maxBodyBytes: positiveInt.default(4 * 1024 * 1024),
        /** `false` only through `--no-auth`, and only on a loopback host. */
        auth: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    auth: z
      .object({
        /** How long a verified key is trusted before it is looked up again (revocation delay). */
        keyCacheTtlMs: z.number().int().min(0).max(60_000).default(5_000),
        oauth: oauthSchema.optional(),
      })
      .strict()
      .prefault({}),
    stdio: z
      .object({
        principal: z.string().min(1).default('local'),
        project: z.string().min(1).default('default'),
        scopes: scopeList.default(['*']),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(logLevels).default('info'),
        /** `auto`: readable lines when stderr is a terminal, JSON lines otherwise (piped, or to a file). */
        format: z.enum(['auto', 'json', 'pretty']).default('auto'),
        /** Write logs to this file instead of stderr. */
        file: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
    audit: z
      .object({
        flushIntervalMs: positiveInt.max(10_000).default(250),
        maxBatch: positiveInt.max(10_000).default(500),
      })
      .strict()
      .prefault({}),
    /** The jobs plugin's settings (tools/jobs/config.ts), handed to it as its plugin config. */
    jobs: jobsConfig.prefault({}),
    /** The deployments plugin's settings (tools/deployment/config.ts): model cache, batching and logging defaults, retention, controller. */
    deployments: deploymentsConfig.prefault({}),
    /** The knowledge plugin's settings (tools/knowledge/config.ts): vector store, Qdrant, the kb_answer LLM, the upload limit. */
    knowledge: knowledgeConfig.prefault({}),
    /** The web dashboard's settings (tools/dashboard/config.ts): how long a sign-in lasts. */
    dashboard: dashboardConfig.prefault({}),
    /** The embedded PGlite (used when `databaseUrl` is unset); see docs/storage.md. */
    embedded: z
      .object({
        /**
         * PGlite extensions to load, each a module's export registered under `name`, e.g.
         * `{name: 'vector', module: '@electric-sql/pglite-pgvector'}`; SQL still runs `create extension`.
         * Unset: every known extension whose package is installed (pgvector); `[]`: none.
         */
        extensions: z
          .array(
            z
              .object({
                name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an identifier'),
                module: z.string().min(1),
                /** The module's export holding the extension; defaults to `name`. */
                exportName: z.string().min(1).optional(),
              })
              .strict(),
          )
          .optional(),
        /** A connection silent this long while holding the one session loses its transaction and connection. */
        idleInTransactionTimeoutMs: z.number().int().min(100).max(3_600_000).default(10_000),
      })
      .strict()
      .prefault({}),
    datasets: z
      .object({
        /**
         * Directories `datasets_import` may read server files from, for every caller. Empty (the
         * default): no server path is importable over HTTP; a stdio user still imports from the
         * working directory. ANVIL_HOME, the config file, the log file and the artifact store are
         * refused even under a root.
         */
        roots: z.array(absolutePath).default([]),
      })
      .strict()
      .prefault({}),
    shutdown: z
      .object({
        /** Bound on waiting for in-flight calls after SIGTERM/SIGINT. */
        graceMs: z.number().int().min(0).max(600_000).default(10_000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type AnvilConfig = z.output<typeof configSchema>;
export type AnvilConfigInput = z.input<typeof configSchema>;
