import { Client, ProtocolError, SdkError, SdkErrorCode, SdkHttpError, StreamableHTTPClientTransport, type CallToolResult, type Tool, type Transport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { AnvilError, ErrorCodes, type Logger, type ProgressUpdate, type ToolResult, anvilVersion } from 'anvil/plugin';
import { expandMap, type ServerConfig } from './config.ts';

/** A connection attempt (spawn or HTTP probe + handshake + tools/list) gets at most this long. */
export const CONNECT_TIMEOUT_MS = 20_000;
/** The first retry of an unreachable upstream; each failure doubles it up to `reconnectMaxMs`. */
const RECONNECT_MIN_MS = 1_000;
const STDERR_TAIL_LINES = 20;

export interface UpstreamStatus {
  name: string;
  transport: 'stdio' | 'http';
  /** The command (without its arguments) or the URL (without credentials or query). */
  target: string;
  connected: boolean;
  /** `modern` (2026-07-28+, `server/discover`) or `legacy` (2025, `initialize`); null before connecting. */
  era: 'modern' | 'legacy' | null;
  protocolVersion: string | null;
  /** The upstream's self-reported name@version. */
  server: string | null;
  /** Tools Anvil mounted from this upstream. */
  tools: number;
  /** Why some upstream tools were not mounted. */
  skipped: string[];
  connectedAt: string | null;
  /** Successful reconnections after the first connection. */
  reconnects: number;
  lastError: string | null;
  lastErrorAt: string | null;
}

export interface CallOptions {
  signal: AbortSignal;
  progress?: (update: ProgressUpdate) => void;
}

interface Session {
  client: Client;
  tools: Map<string, Tool>;
  /** True when this call had to (re)connect first: a failure then is not retried again. */
  fresh: boolean;
}

/** Where an upstream is, for status and logs: never arguments, headers, credentials or queries. */
function targetOf(config: ServerConfig): string {
  const { connection } = config;
  if (connection.transport === 'stdio') return connection.command;
  const url = new URL(connection.url);
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch failures say only "fetch failed"; the reason (ECONNREFUSED, a TLS error…) is in the causes.
  let message = error.message;
  let cause: unknown = (error as { cause?: unknown }).cause;
  for (let depth = 0; depth < 4 && cause instanceof Error; depth += 1) {
    if (cause.message && !message.includes(cause.message)) message += ` (${cause.message})`;
    cause = (cause as { cause?: unknown }).cause;
  }
  return message;
}

function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('E')) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The connection is gone (child exited, pipe closed, HTTP server unreachable or session lost). */
function isConnectionLoss(error: unknown): boolean {
  if (SdkError.isInstance(error)) {
    if ([SdkErrorCode.ConnectionClosed, SdkErrorCode.NotConnected, SdkErrorCode.SendFailed].includes(error.code)) return true;
    // An HTTP server that restarted no longer knows the session it gave out.
    return SdkHttpError.isInstance(error) && error.status === 404;
  }
  if (error instanceof TypeError && /fetch failed/i.test(error.message)) return true;
  return error instanceof Error && error.message === 'Not connected';
}

/** The request certainly never reached the upstream, so repeating it cannot run it twice. */
function neverDelivered(error: unknown): boolean {
  if (SdkError.isInstance(error) && (error.code === SdkErrorCode.NotConnected || error.code === SdkErrorCode.SendFailed)) return true;
  if (error instanceof Error && error.message === 'Not connected') return true;
  return causeCode(error) === 'ECONNREFUSED';
}

/** A tool result as Anvil returns it: content, structured content and the error flag, nothing else. */
function toToolResult(result: CallToolResult): ToolResult {
  const out: ToolResult = { content: Array.isArray(result.content) ? result.content : [] };
  const structured = result.structuredContent;
  if (typeof structured === 'object' && structured !== null && !Array.isArray(structured)) out.structuredContent = structured as Record<string, unknown>;
  if (result.isError === true) out.isError = true;
  return out;
}

/**
 * One upstream MCP server: its connection (a child process over stdio, or Streamable HTTP), the
 * tools it lists, and the state `proxy_status` reports. Connects with protocol-version negotiation
 * (`server/discover`, falling back to `initialize`), so 2025- and 2026-era servers both work.
 *
 * A lost connection is noticed when the child exits or when a call fails for want of one; the next
 * call reconnects once (concurrent calls share that attempt), and so does the background upkeep
 * (`tick`: backoff for an upstream that is down, a periodic tools/list for one that is up). A call that failed with the
 * connection is repeated on the new one only when it certainly never arrived, or when the upstream
 * marks the tool read-only or idempotent; anything else could run twice, so it is reported instead.
 */
export class Upstream {
  readonly name: string;
  readonly config: ServerConfig;
  private readonly log: Logger;
  private readonly environment: NodeJS.ProcessEnv;
  private session: { client: Client; tools: Map<string, Tool> } | undefined;
  private connecting: Promise<{ client: Client; tools: Map<string, Tool> }> | undefined;
  private readonly closing = new AbortController();
  private readonly stderrTail: string[] = [];
  private era: UpstreamStatus['era'] = null;
  private protocolVersion: string | null = null;
  private serverInfo: string | null = null;
  private connectedAt: Date | null = null;
  private connections = 0;
  private lastError: { message: string; at: Date } | null = null;
  /** Filled in by the plugin once it has decided which tools to mount. */
  mounted = 0;
  skipped: string[] = [];
  /** Told the upstream's full tool list on every connection and whenever the list changes. */
  onTools: ((tools: Tool[]) => void) | undefined;
  /** Failed connection attempts in a row, and when the next background attempt is due. */
  private failures = 0;
  private nextAttemptAt = 0;
  private nextRefreshAt = 0;

  constructor(name: string, config: ServerConfig, log: Logger, environment: NodeJS.ProcessEnv = process.env) {
    this.name = name;
    this.config = config;
    this.log = log;
    this.environment = environment;
  }

  get transport(): 'stdio' | 'http' {
    return this.config.connection.transport;
  }

  /** Connects and lists the upstream's tools. Throws (after recording why) when it cannot. */
  async start(): Promise<Tool[]> {
    const { tools } = await this.connect();
    return [...tools.values()];
  }

  status(): UpstreamStatus {
    return {
      name: this.name,
      transport: this.transport,
      target: targetOf(this.config),
      connected: this.session !== undefined,
      era: this.era,
      protocolVersion: this.protocolVersion,
      server: this.serverInfo,
      tools: this.mounted,
      skipped: [...this.skipped],
      connectedAt: this.connectedAt?.toISOString() ?? null,
      reconnects: Math.max(0, this.connections - 1),
      lastError: this.lastError?.message ?? null,
      lastErrorAt: this.lastError?.at.toISOString() ?? null,
    };
  }

  /** Forwards one tools/call; upstream tool errors come back as results, everything else as ANVIL_E_UPSTREAM_FAILED. */
  async call(toolName: string, args: Record<string, unknown>, options: CallOptions): Promise<ToolResult> {
    const first = await this.acquire();
    try {
      return await this.invoke(first, toolName, args, options);
    } catch (error) {
      if (options.signal.aborted || this.closing.signal.aborted || first.fresh || !isConnectionLoss(error)) throw this.failure(toolName, error, options.signal);
      if (this.session?.client === first.client) this.drop(first.client, `lost the connection during ${toolName}: ${messageOf(error)}`);
      const second = await this.acquire();
      const tool = second.tools.get(toolName);
      const repeatable = neverDelivered(error) || tool?.annotations?.readOnlyHint === true || tool?.annotations?.idempotentHint === true;
      if (!repeatable) {
        throw new AnvilError(
          ErrorCodes.UPSTREAM_FAILED,
          `upstream ${this.name} lost its connection during ${toolName} (${messageOf(error)}); it is reconnected, but the call was not repeated ` +
            'because the tool is not marked read-only or idempotent and may already have run. Check its effect, then call again if needed',
        );
      }
      this.log.info({ tool: toolName }, 'repeating the call on the new connection');
      try {
        return await this.invoke(second, toolName, args, options);
      } catch (retryError) {
        throw this.failure(toolName, retryError, options.signal);
      }
    }
  }

  /**
   * Background upkeep, called often (the plugin's schedule): an upstream that is down is tried
   * again with exponential backoff (1 s doubling up to `reconnectMaxMs`); a connected one has its
   * tool list fetched again every `refreshMs`. New tools reach `onTools` either way.
   */
  async tick(now = Date.now()): Promise<void> {
    if (this.closing.signal.aborted || this.connecting) return;
    if (!this.session) {
      if (now < this.nextAttemptAt) return;
      await this.connect().catch(() => {});
      return;
    }
    if (this.config.refreshMs === 0 || now < this.nextRefreshAt) return;
    // Far ahead while this refresh runs, so that ticks meanwhile do not start another.
    this.nextRefreshAt = Number.POSITIVE_INFINITY;
    const { client } = this.session;
    try {
      const listed = await client.listTools(undefined, { timeout: CONNECT_TIMEOUT_MS, signal: this.closing.signal, cacheMode: 'refresh' });
      this.toolsChanged(client, listed.tools);
    } catch (error) {
      this.log.debug({ err: messageOf(error) }, 'listing the upstream tools again failed');
    } finally {
      this.nextRefreshAt = Date.now() + this.config.refreshMs;
    }
  }

  /** A new tool list for the session of `client` (a notification or a refresh). */
  private toolsChanged(client: Client, tools: readonly Tool[]): void {
    if (this.session?.client !== client) return;
    const known = this.session.tools;
    const added = tools.filter((tool) => !known.has(tool.name));
    known.clear();
    for (const tool of tools) known.set(tool.name, tool);
    if (added.length > 0) this.log.info({ added: added.map((tool) => tool.name) }, 'upstream offers new tools');
    this.onTools?.([...tools]);
  }

  async close(): Promise<void> {
    this.closing.abort();
    const pending = this.connecting;
    const current = this.session;
    this.session = undefined;
    await Promise.allSettled([current?.client.close(), pending?.then((session) => session.client.close())]);
  }

  private async invoke(session: Session, toolName: string, args: Record<string, unknown>, options: CallOptions): Promise<ToolResult> {
    const definition = session.tools.get(toolName);
    const result = await session.client.callTool(
      { name: toolName, arguments: args },
      {
        signal: AbortSignal.any([options.signal, this.closing.signal]),
        timeout: this.config.timeoutMs,
        ...(definition ? { toolDefinition: definition } : {}),
        ...(options.progress ? { onprogress: (update: ProgressUpdate) => options.progress?.({ progress: update.progress, total: update.total, message: update.message }) } : {}),
      },
    );
    return toToolResult(result);
  }

  /** The live session, or a new one (one attempt per call, shared by concurrent calls). */
  private async acquire(): Promise<Session> {
    if (this.closing.signal.aborted) throw new AnvilError(ErrorCodes.UPSTREAM_FAILED, `upstream ${this.name} is closed because the server is shutting down`);
    if (this.session) return { ...this.session, fresh: false };
    try {
      return { ...(await this.connect()), fresh: true };
    } catch (error) {
      throw new AnvilError(ErrorCodes.UPSTREAM_FAILED, `upstream ${this.name} is unreachable: ${messageOf(error)}`);
    }
  }

  private connect(): Promise<{ client: Client; tools: Map<string, Tool> }> {
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<{ client: Client; tools: Map<string, Tool> }> {
    const started = Date.now();
    // Not the per-call timeout: connecting is several round trips (and maybe a process start), and a
    // short call timeout must not make a busy upstream look unreachable.
    const timeout = CONNECT_TIMEOUT_MS;
    const signal = AbortSignal.any([this.closing.signal, AbortSignal.timeout(timeout)]);
    const client: Client = new Client(
      { name: 'anvil-mcp-proxy', version: anvilVersion },
      {
        versionNegotiation: { mode: 'auto', probe: { timeoutMs: timeout } },
        // An upstream that announces new tools (notifications/tools/list_changed) gets them mounted.
        listChanged: {
          tools: {
            onChanged: (error, items) => {
              if (error) this.log.debug({ err: messageOf(error) }, 'listing the upstream tools after its list_changed failed');
              else if (items) this.toolsChanged(client, items);
            },
          },
        },
      },
    );
    let transport: Transport | undefined;
    try {
      transport = this.transportFor();
      client.onerror = (error) => this.log.debug({ err: messageOf(error) }, 'upstream transport error');
      const aborted = new Promise<never>((_, reject) => {
        const fail = () => reject(new Error(this.closing.signal.aborted ? 'the server is shutting down' : `no answer within ${timeout} ms`));
        if (signal.aborted) fail();
        else signal.addEventListener('abort', fail, { once: true });
      });
      aborted.catch(() => {});
      await Promise.race([client.connect(transport, { timeout, signal }), aborted]);
      const tools = new Map<string, Tool>();
      // A server without the tools capability has none (and listTools would print to stdout, which stdio Anvil must not).
      if (client.getServerCapabilities()?.tools) {
        // Without a cursor the SDK walks every page (following nextCursor) and aggregates them.
        const listed = await Promise.race([client.listTools(undefined, { timeout, signal, cacheMode: 'refresh' }), aborted]);
        for (const tool of listed.tools) tools.set(tool.name, tool);
      }
      const session = { client, tools };
      client.onclose = () => {
        if (this.session?.client !== client) return;
        this.session = undefined;
        if (!this.closing.signal.aborted) this.drop(client, this.transport === 'stdio' ? 'the server process exited' : 'the connection closed');
      };
      this.session = session;
      this.connections += 1;
      this.connectedAt = new Date();
      this.era = client.getProtocolEra() ?? null;
      this.protocolVersion = client.getNegotiatedProtocolVersion() ?? null;
      const info = client.getServerVersion();
      this.serverInfo = info ? `${info.name}@${info.version}` : null;
      this.lastError = null;
      this.failures = 0;
      this.nextRefreshAt = Date.now() + this.config.refreshMs;
      this.log.info(
        { transport: this.transport, target: targetOf(this.config), era: this.era, protocolVersion: this.protocolVersion, server: this.serverInfo, tools: tools.size, ms: Date.now() - started },
        this.connections > 1 ? 'upstream reconnected' : 'upstream connected',
      );
      this.onTools?.([...tools.values()]);
      return session;
    } catch (error) {
      await client.close().catch(() => {});
      await transport?.close().catch(() => {});
      const message = messageOf(error);
      this.lastError = { message, at: new Date() };
      this.failures += 1;
      this.nextAttemptAt = Date.now() + Math.min(this.config.reconnectMaxMs, RECONNECT_MIN_MS * 2 ** (this.failures - 1));
      this.log.warn({ transport: this.transport, target: targetOf(this.config), err: message, stderr: this.stderrTail.slice(-5) }, 'cannot connect to upstream');
      throw error;
    }
  }

  private transportFor(): Transport {
    const { connection } = this.config;
    const where = `servers.${this.name}`;
    if (connection.transport === 'http') {
      const headers = expandMap(connection.headers, `${where}.headers`, this.environment);
      return new StreamableHTTPClientTransport(new URL(connection.url), { requestInit: { headers } });
    }
    const transport = new StdioClientTransport({
      command: connection.command,
      args: [...connection.args],
      env: expandMap(connection.env, `${where}.env`, this.environment),
      ...(connection.cwd ? { cwd: connection.cwd } : {}),
      stderr: 'pipe',
    });
    let partial = '';
    transport.stderr?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        this.stderrTail.push(line.slice(0, 500));
        if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
        this.log.debug({ stderr: line.slice(0, 2_000) }, 'upstream stderr');
      }
    });
    return transport;
  }

  private drop(client: Client, reason: string): void {
    if (this.session?.client === client) this.session = undefined;
    // Reconnected in the background from the next tick (or by the next call, whichever is first).
    this.nextAttemptAt = 0;
    this.lastError = { message: reason, at: new Date() };
    this.log.warn({ reason, stderr: this.transport === 'stdio' ? this.stderrTail.slice(-5) : undefined }, 'upstream disconnected');
    void client.close().catch(() => {});
  }

  private failure(toolName: string, error: unknown, signal: AbortSignal): AnvilError {
    if (error instanceof AnvilError) return error;
    // Checked first: the SDK reports a cancelled request as a timeout.
    if (signal.aborted) return new AnvilError(ErrorCodes.UPSTREAM_FAILED, `${toolName} on upstream ${this.name} was cancelled`);
    if (this.closing.signal.aborted) return new AnvilError(ErrorCodes.UPSTREAM_FAILED, `upstream ${this.name} was closed during ${toolName} because the server is shutting down`);
    let message: string;
    const timedOut = SdkError.isInstance(error) && error.code === SdkErrorCode.RequestTimeout;
    if (timedOut) {
      message = `upstream ${this.name} did not answer ${toolName} within ${this.config.timeoutMs} ms`;
    } else if (error instanceof ProtocolError) {
      message = `upstream ${this.name} refused ${toolName}: ${error.message}`;
    } else {
      message = `upstream ${this.name} failed during ${toolName}: ${messageOf(error)}`;
    }
    if (timedOut || isConnectionLoss(error)) this.lastError = { message, at: new Date() };
    return new AnvilError(ErrorCodes.UPSTREAM_FAILED, message);
  }
}
