/**
 * The in-process test harness for plugin authors: `import { createTestHost } from 'anvil/testing'`.
 * It starts a real Anvil (embedded PGlite in a temp dir, BullMQ on it, the plugin host) with the
 * plugins given, and connects a real MCP client to it over an in-memory transport.
 */
import { rmSync } from 'node:fs';
import { Client, type CreateMessageResult } from '@modelcontextprotocol/client';
import { InMemoryTransport } from '@modelcontextprotocol/server';
import { localPrincipal, type Principal } from '../../server/auth/principal.ts';
import { loadConfig } from '../../server/config/load.ts';
import type { AnvilConfig } from '../../server/config/schema.ts';
import { createLogger, silentLogger } from '../../server/log.ts';
import { createServerFactory } from '../../server/mcp/server-factory.ts';
import { createHttpApp, type HttpApp } from '../../server/http/app.ts';
import { startAnvilServer, type AnvilServer } from '../../server/server.ts';
import type * as z from 'zod';
import type { ClientCapabilities, ElicitOutcome, ElicitRequest, PluginDescriptor, PluginPermission, SampleRequest, SampleResult } from '../sdk/types.ts';
import { fillPgliteHome, makeShortTempDir } from './temp-home.ts';

/** Any descriptor, whatever its `register` returns (a plugin may return an API for its dependents). */
type AnyPlugin = PluginDescriptor<string, z.ZodType, unknown>;

export interface TestPrincipal {
  /** Defaults to `default`. */
  project?: string;
  /** Defaults to `['*']`. */
  scopes?: string[];
  /** Defaults to `test`; the principal id is `local:<name>`. */
  name?: string;
}

export interface TestHostOptions {
  /**
   * Plugins under test: a descriptor, or a descriptor with its configuration and the permissions its
   * entry grants. Without `permissions` the harness grants what the descriptor asks for (as an
   * operator's entry listing them would); give fewer to test a refusal.
   */
  plugins: Array<AnyPlugin | { plugin: AnyPlugin; config?: unknown; permissions?: readonly PluginPermission[] }>;
  /** Anything `anvil.config.json` accepts (e.g. `{ "plugins": [{ "id": "rate-limit" }] }`). */
  config?: Record<string, unknown>;
  /** Who the default client acts as. */
  principal?: TestPrincipal;
  /** What the default client declares and answers (elicitation, sampling); by default nothing. */
  client?: TestClientOptions;
  /** Environment for the server's configuration (e.g. DATABASE_URL); defaults to none. */
  env?: Record<string, string>;
  /** Log level for the server; `silent` unless ANVIL_TEST_LOG_LEVEL says otherwise. */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/**
 * What a test client declares and answers when the server asks it something (MCP elicitation and
 * sampling). A handler given without its capability is declared for you; a capability without a
 * handler is declared and answered with an error.
 */
export interface TestClientOptions {
  capabilities?: ClientCapabilities;
  /** Answers `elicitation/create` (form mode), as the person at the client would. */
  onElicit?(request: ElicitRequest): ElicitOutcome | Promise<ElicitOutcome>;
  /** Answers `sampling/createMessage`, as the client's model would. */
  onSample?(request: SampleRequest): SampleResult | Promise<SampleResult>;
}

export interface TestRequestInit extends RequestInit {
  /** Who the request is from: an API key for this principal is created and sent; null sends none. */
  as?: TestPrincipal | null;
}

export interface CallOutcome {
  isError: boolean;
  /** The text of the first content block (for errors: `ANVIL_E_…: message`). */
  text: string;
  structured: Record<string, unknown> | undefined;
  raw: unknown;
}

export interface TestHost {
  /** A connected MCP client acting as `options.principal`. */
  readonly client: Client;
  readonly server: AnvilServer;
  readonly home: string;
  /** Calls a tool with the default client and flattens the result. */
  call(tool: string, args?: Record<string, unknown>): Promise<CallOutcome>;
  /** Another client, as another principal (e.g. another project, fewer scopes), optionally declaring client capabilities. */
  connect(principal?: TestPrincipal, clientOptions?: TestClientOptions): Promise<Client>;
  /**
   * Calls the server's HTTP app in-process, without a socket (like Fastify's `inject`): plugin
   * routes (`ctx.route`), `/mcp`, `/healthz`. It carries an API key of `as` (default: the host's
   * principal), created on first use; `as: null` sends no credential.
   */
  request(path: string, init?: TestRequestInit): Promise<Response>;
  /** Runs a plugin's scheduled work (`ctx.every(name, …)`) once now and waits for it; rejects with what it throws. */
  runScheduled(pluginId: string, name: string): Promise<void>;
  close(): Promise<void>;
}

function principalOf(principal: TestPrincipal = {}): Principal {
  return localPrincipal(principal.name ?? 'test', principal.project ?? 'default', principal.scopes ?? ['*']);
}

export function flatten(result: unknown): CallOutcome {
  const value = result as { isError?: boolean; content?: Array<{ type: string; text?: string }>; structuredContent?: Record<string, unknown> };
  const first = value.content?.find((block) => block.type === 'text');
  return { isError: value.isError === true, text: first?.text ?? '', structured: value.structuredContent, raw: result };
}

function testClient(options: TestClientOptions): Client {
  const capabilities: Record<string, unknown> = { ...options.capabilities };
  if (options.onElicit && !capabilities.elicitation) capabilities.elicitation = { form: {} };
  if (options.onSample && !capabilities.sampling) capabilities.sampling = { tools: {} };
  const client = new Client({ name: 'anvil-test-host', version: '1.0.0' }, { capabilities });
  if (capabilities.elicitation) {
    client.setRequestHandler('elicitation/create', async (request) => {
      if (!options.onElicit) throw new Error('this test client declares elicitation but has no onElicit handler');
      const params = request.params as unknown as ElicitRequest;
      const outcome = await options.onElicit({ message: params.message, requestedSchema: params.requestedSchema });
      return { action: outcome.action, ...(outcome.content ? { content: { ...outcome.content } as Record<string, string | number | boolean | string[]> } : {}) };
    });
  }
  if (capabilities.sampling) {
    client.setRequestHandler('sampling/createMessage', async (request) => {
      if (!options.onSample) throw new Error('this test client declares sampling but has no onSample handler');
      const answer = await options.onSample(request.params as unknown as SampleRequest);
      return answer as unknown as CreateMessageResult;
    });
  }
  return client;
}

/**
 * Whether the migrated template is exactly what this host's own migrations would make: embedded
 * storage with the default extensions (pgvector decides a knowledge migration) and BullMQ on it.
 */
function fitsMigratedTemplate(config: AnvilConfig): boolean {
  const redisQueue = config.queue === 'redis' || (config.queue === 'auto' && config.redisUrl !== undefined);
  return config.databaseUrl === undefined && config.embedded.extensions === undefined && !redisQueue;
}

export async function createTestHost(options: TestHostOptions): Promise<TestHost> {
  const home = makeShortTempDir();
  const temp = { home, remove: () => rmSync(home, { recursive: true, force: true }) };
  const level = options.logLevel ?? (process.env.ANVIL_TEST_LOG_LEVEL as TestHostOptions['logLevel']) ?? 'silent';
  let server: AnvilServer | undefined;
  const clients: Client[] = [];
  try {
    const { config } = loadConfig({
      env: { ...options.env, ANVIL_HOME: temp.home, ANVIL_LOG_LEVEL: level },
      cwd: temp.home,
      overrides: { ...(options.config ? { inline: options.config } : {}) },
    });
    // Every host gets its own copy: nothing one test writes reaches another.
    await fillPgliteHome(temp.home, fitsMigratedTemplate(config) ? 'migrated' : 'empty');
    server = await startAnvilServer({
      config,
      log: level === 'silent' ? silentLogger() : createLogger(config),
      http: false,
      stdio: false,
      pluginBaseDir: process.cwd(),
      defaultMetrics: false,
      // The host keeps what register returns as unknown, so any descriptor goes.
      extraPlugins: options.plugins.map((item) => {
        const descriptor = ('kind' in item ? item : item.plugin) as PluginDescriptor;
        const given = 'kind' in item ? undefined : item.permissions;
        return { descriptor, config: 'kind' in item ? undefined : item.config, permissions: given ?? descriptor.permissions ?? [] };
      }),
    });
    const running = server;

    const connect = async (principal?: TestPrincipal, clientOptions: TestClientOptions = {}): Promise<Client> => {
      const factory = createServerFactory({
        catalog: () => running.plugins.catalog,
        deps: running.runtime.toolCallDeps,
        transport: 'in-memory',
        localPrincipal: principalOf(principal ?? options.principal),
      });
      const mcp = await factory({ era: 'legacy' });
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await mcp.connect(serverSide);
      const client = testClient(clientOptions);
      await client.connect(clientSide);
      clients.push(client);
      return client;
    };

    const client = await connect(undefined, options.client);
    let http: HttpApp | undefined;
    const keys = new Map<string, Promise<string>>();
    const keyFor = (principal: TestPrincipal): Promise<string> => {
      const scopes = principal.scopes ?? ['*'];
      const project = principal.project ?? 'default';
      const id = JSON.stringify([project, scopes, principal.name ?? 'test']);
      let key = keys.get(id);
      if (!key) {
        key = running.runtime.keys.create({ project, scopes, name: principal.name ?? 'test' }).then((created) => created.key);
        keys.set(id, key);
      }
      return key;
    };
    const request = async (requestPath: string, init: TestRequestInit = {}): Promise<Response> => {
      http ??= createHttpApp(running.runtime, () => running.plugins.catalog);
      const { as, ...rest } = init;
      const headers = new Headers(rest.headers);
      const principal = as === undefined ? (options.principal ?? {}) : as;
      if (principal !== null && !headers.has('authorization')) headers.set('authorization', `Bearer ${await keyFor(principal)}`);
      // What a client on this machine sends (the DNS-rebinding guard checks it).
      if (!headers.has('host')) headers.set('host', '127.0.0.1');
      return http.app.request(new URL(requestPath, 'http://127.0.0.1').href, { ...rest, headers });
    };
    let closed = false;
    return {
      client,
      server: running,
      home: temp.home,
      call: async (tool, args = {}) => flatten(await client.callTool({ name: tool, arguments: args })),
      connect,
      request,
      runScheduled: (pluginId, name) => running.plugins.runScheduled(pluginId, name),
      async close() {
        if (closed) return;
        closed = true;
        await Promise.allSettled(clients.map((each) => each.close()));
        await running.shutdown('test host closed');
        temp.remove();
      },
    };
  } catch (error) {
    await Promise.allSettled(clients.map((each) => each.close()));
    await server?.shutdown('test host failed to start').catch(() => {});
    temp.remove();
    throw error;
  }
}
