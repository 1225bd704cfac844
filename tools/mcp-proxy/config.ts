import { z } from 'anvil/plugin';

/** Server names become tool prefixes (`<name>_<tool>`) and scope areas (`<name>:write`). */
export const serverNamePattern = /^[a-z][a-z0-9_-]{0,31}$/;
const scopePattern = /^(\*|[a-z][a-z0-9_-]{0,31}:(read|write|admin))$/;

/** Names whose tool prefix and scope area are Anvil's own (`anvil_*`, `anvil:write`). */
const reservedNames = new Set(['anvil']);

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_REFRESH_MS = 60_000;
export const DEFAULT_RECONNECT_MAX_MS = 60_000;

const stringMap = z.record(z.string().min(1), z.string());

/**
 * One upstream, as written in anvil.config.json. Which transport it uses follows from the keys:
 * `command` (+ `args`, `env`, `cwd`) is a stdio server Anvil starts as a child process; `url`
 * (+ `headers`) is a Streamable HTTP server. Checked field by field so that a mistake names its key.
 */
const rawServerSchema = z
  .object({
    command: z.string().min(1).optional(),
    args: z.array(z.string()).optional(),
    /** Extra environment for the child; values may reference Anvil's own environment as `${VAR}`. */
    env: stringMap.optional(),
    cwd: z.string().min(1).optional(),
    url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).optional(),
    /** Sent with every request; values may reference Anvil's own environment as `${VAR}`. */
    headers: stringMap.optional(),
    /** Scopes a caller needs to see and call this server's tools; default `<name>:write`. */
    scopes: z.array(z.string().regex(scopePattern, 'expected a scope like <area>:<read|write|admin> or *')).min(1).optional(),
    /** Only these upstream tools are mounted (by their upstream names); default all. */
    tools: z.array(z.string().min(1)).optional(),
    /** Per call; a connection attempt has its own bound (CONNECT_TIMEOUT_MS, 20 s). */
    timeoutMs: z.number().int().positive().max(3_600_000).default(DEFAULT_TIMEOUT_MS),
    /**
     * How often the tool list is fetched again, for upstreams that add tools without sending
     * `notifications/tools/list_changed` (stateless HTTP servers cannot send it); 0: never.
     */
    refreshMs: z.number().int().min(0).max(86_400_000).default(DEFAULT_REFRESH_MS),
    /** An unreachable upstream is tried again after 1 s, then twice as long each time, up to this. */
    reconnectMaxMs: z.number().int().min(100).max(3_600_000).default(DEFAULT_RECONNECT_MAX_MS),
  })
  .strict()
  .superRefine((server, ctx) => {
    if (server.command !== undefined && server.url !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'give either command (a stdio server) or url (an HTTP server), not both' });
    } else if (server.command === undefined && server.url === undefined) {
      ctx.addIssue({ code: 'custom', path: ['command'], message: 'required: command (a stdio server) or url (an HTTP server)' });
    } else if (server.url !== undefined) {
      for (const key of ['args', 'env', 'cwd'] as const) {
        if (server[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `${key} applies to stdio servers (command), not to url` });
      }
    } else if (server.headers !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['headers'], message: 'headers apply to HTTP servers (url), not to command' });
    }
  });

export interface StdioConnection {
  readonly transport: 'stdio';
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string | undefined;
}

export interface HttpConnection {
  readonly transport: 'http';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface ServerConfig {
  readonly connection: StdioConnection | HttpConnection;
  readonly scopes: readonly string[] | undefined;
  readonly tools: readonly string[] | undefined;
  readonly timeoutMs: number;
  readonly refreshMs: number;
  readonly reconnectMaxMs: number;
}

const serverSchema = rawServerSchema.transform(
  (server): ServerConfig => ({
    connection:
      server.command !== undefined
        ? { transport: 'stdio', command: server.command, args: server.args ?? [], env: server.env ?? {}, cwd: server.cwd }
        : { transport: 'http', url: server.url ?? '', headers: server.headers ?? {} },
    scopes: server.scopes,
    tools: server.tools,
    timeoutMs: server.timeoutMs,
    refreshMs: server.refreshMs,
    reconnectMaxMs: server.reconnectMaxMs,
  }),
);

export const mcpProxyConfig = z
  .object({
    servers: z.record(z.string(), serverSchema).superRefine((servers, ctx) => {
      // Checked here rather than as the record's key schema, whose failure only says "Invalid key in record".
      for (const name of Object.keys(servers)) {
        if (!serverNamePattern.test(name)) {
          ctx.addIssue({ code: 'custom', path: [name], message: 'server names are 1-32 characters: lowercase letters, digits, _ or -, starting with a letter' });
        } else if (reservedNames.has(name)) {
          ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is reserved for Anvil's own tools and scopes; pick another name` });
        }
      }
    }),
  })
  .strict();

export type McpProxyConfig = z.output<typeof mcpProxyConfig>;

/**
 * Replaces `${VAR}` with the value of VAR in `environment` (Anvil's own environment), so that
 * secrets can stay out of anvil.config.json; `$${` stands for a literal `${`. A variable that is
 * not set is an error naming the key, never an empty string.
 */
export function expandEnv(value: string, where: string, environment: NodeJS.ProcessEnv): string {
  return value.replace(/\$?\$\{([^}]*)\}/g, (match, name: string) => {
    if (match.startsWith('$$')) return match.slice(1);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`${where}: "\${${name}}" is not a valid environment variable reference`);
    const resolved = environment[name];
    if (resolved === undefined) throw new Error(`${where} references \${${name}}, which is not set in Anvil's environment`);
    return resolved;
  });
}

/** Expands `${VAR}` in every value of a map (env or headers); keys are kept as written. */
export function expandMap(map: Readonly<Record<string, string>>, where: string, environment: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(map).map(([key, value]) => [key, expandEnv(value, `${where}.${key}`, environment)]));
}
