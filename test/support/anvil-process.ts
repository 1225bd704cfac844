/**
 * Spawns the real `anvil` CLI (bin/anvil.mjs, TypeScript through tsx) for end-to-end tests:
 * `anvil serve --http --port 0` with its bound URL parsed from stderr, one-shot commands such as
 * `anvil keys create --json` (which attach to a running server's embedded database through its
 * unix socket), and a SIGTERM stop that reports the exit code. Also: both MCP client generations
 * over HTTP behind one small interface, and raw POSTs that parse JSON or SSE answers.
 *
 * Every child and temp home made here is tracked and killed/removed when the test process exits
 * (or is ended by SIGINT/SIGTERM/SIGHUP), so a failing test cannot leave a server behind; tests
 * still stop their servers in `after`.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client as Client2, StreamableHTTPClientTransport as HttpTransport2 } from '@modelcontextprotocol/client';
import { Client as Client1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as HttpTransport1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createPgliteHome } from './backends.ts';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const anvilBin = path.join(repoRoot, 'bin', 'anvil.mjs');

/** Extra environment for a child: a value of `undefined` removes the variable. */
export type EnvPatch = Record<string, string | undefined>;

/**
 * Variables that change what a server runs on. They are dropped from the inherited environment so
 * that a developer's or CI's DATABASE_URL never turns an embedded test into a Postgres one; a test
 * that wants them passes them explicitly.
 */
const isolatedPrefixes = ['ANVIL_'];
const isolatedNames = new Set(['DATABASE_URL', 'REDIS_URL', 'QDRANT_URL']);
/** Kept: how the test runner runs Anvil (from the sources, never a build that may predate them). */
const keptNames = new Set(['ANVIL_FROM_SOURCE']);

/** The environment a spawned `anvil` gets: this process's, minus Anvil settings, plus `patch`. */
export function childEnv(patch: EnvPatch = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || isolatedNames.has(name) || (isolatedPrefixes.some((prefix) => name.startsWith(prefix)) && !keptNames.has(name))) continue;
    env[name] = value;
  }
  for (const [name, value] of Object.entries(patch)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** How to run `anvil <args>` (for transports that spawn the process themselves). */
export function anvilCommand(args: readonly string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: [anvilBin, ...args] };
}

// ---------------------------------------------------------------------------------------------
// Child tracking: nothing outlives the test process (exit, or SIGINT/SIGTERM/SIGHUP).

const running = new Set<ChildProcess>();
/** Temp homes this helper made and has not removed yet. */
const ownedHomes = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    const killAll = () => {
      for (const leftover of running) leftover.kill('SIGKILL');
      for (const home of ownedHomes) rmSync(home, { recursive: true, force: true });
    };
    process.once('exit', killAll);
    // A signal ends the test process without 'exit': kill the children, then die of the signal as before.
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        killAll();
        process.kill(process.pid, signal);
      });
    }
  }
}

export function track(child: ChildProcess): void {
  installExitHook();
  running.add(child);
  child.once('exit', () => running.delete(child));
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export function exitOf(child: ChildProcess): Promise<ExitStatus> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

// ---------------------------------------------------------------------------------------------
// Temp homes

function shortTmpdir(): string {
  return os.tmpdir().length <= 40 ? os.tmpdir() : '/tmp';
}

export interface TempHome {
  readonly home: string;
  remove(): void;
}

/**
 * A throw-away ANVIL_HOME with a short path (the embedded socket path must stay below 107 bytes).
 * `fresh` gives an empty directory, so the server runs PGlite's initdb and every migration on
 * first start (~4-15 s); otherwise the data dir is copied from the migrated template
 * (plugins/testing/temp-home.ts): initialised, with every migration a default embedded server
 * applies already applied, which makes the first start several times cheaper and is otherwise identical.
 */
export async function createHome(options: { fresh?: boolean } = {}): Promise<TempHome> {
  const home = options.fresh ? mkdtempSync(path.join(shortTmpdir(), 'anv-')) : (await createPgliteHome({ start: 'migrated' })).home;
  installExitHook();
  ownedHomes.add(home);
  return {
    home,
    remove: () => {
      rmSync(home, { recursive: true, force: true });
      ownedHomes.delete(home);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// One-shot commands

export interface CliResult extends ExitStatus {
  stdout: string;
  stderr: string;
}

/** Runs `anvil <args>` to completion (killed after `timeoutMs`) and returns its exit code and output. */
export function runCli(args: readonly string[], env: EnvPatch = {}, options: { timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [anvilBin, ...args], { cwd: options.cwd ?? repoRoot, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => {
    stderr += `\n[test] anvil ${args.join(' ')} killed after ${options.timeoutMs ?? 60_000} ms\n`;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // 'close' (not 'exit') so that all output has been read.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface CreatedKey {
  id: string;
  key: string;
  project: string;
  scopes: string[];
}

function parseCreatedKey(result: CliResult, what: string): CreatedKey {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code ?? result.signal}:\n${result.stderr}${result.stdout}`);
  const parsed: unknown = JSON.parse(result.stdout.trim());
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`${what} printed no JSON object: ${result.stdout}`);
  const record = parsed as Record<string, unknown>;
  const { id, key, project, scopes } = record;
  if (typeof id !== 'string' || typeof key !== 'string' || typeof project !== 'string' || !Array.isArray(scopes)) {
    throw new Error(`${what} printed an unexpected shape: ${result.stdout}`);
  }
  return { id, key, project, scopes: scopes.map(String) };
}

/** `anvil keys create --project <p> --scopes <s> --json` with `env` (ANVIL_HOME or DATABASE_URL). */
export async function createKey(env: EnvPatch, project: string, scopes: string, name?: string): Promise<CreatedKey> {
  const args = ['keys', 'create', '--project', project, '--scopes', scopes, '--json', ...(name ? ['--name', name] : [])];
  return parseCreatedKey(await runCli(args, env), `anvil ${args.join(' ')}`);
}

// ---------------------------------------------------------------------------------------------
// Servers

export interface StartOptions {
  /** ANVIL_HOME; a temp home is made (and removed by `dispose`) when omitted. */
  home?: string;
  /** With no `home`: start from an empty directory instead of the initialised template. */
  freshHome?: boolean;
  /** Extra `serve` arguments, e.g. `['--no-auth']`. */
  args?: readonly string[];
  env?: EnvPatch;
  startTimeoutMs?: number;
}

export interface AnvilServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly home: string;
  /** The environment the server runs with (ANVIL_HOME, DATABASE_URL, ...), for CLI commands against it. */
  readonly env: EnvPatch;
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  /** `<baseUrl>/mcp` */
  readonly mcpUrl: URL;
  readonly port: number;
  /** What the server has written to stderr so far (its logs). */
  stderr(): string;
  stdout(): string;
  /** Resolves when the process has exited, however that happened. */
  readonly exited: Promise<ExitStatus>;
  createKey(project: string, scopes: string, name?: string): Promise<CreatedKey>;
  cli(args: readonly string[], env?: EnvPatch): Promise<CliResult>;
  /** Sends `signal` (SIGTERM) and waits for the exit; SIGKILLs after `timeoutMs`. Idempotent. */
  stop(options?: { signal?: NodeJS.Signals; timeoutMs?: number }): Promise<ExitStatus>;
  /** Stops the server if it still runs and removes a home this helper created. Never throws. */
  dispose(): Promise<void>;
}

const servingLine = /Anvil \S+ serving MCP on (http:\/\/\S+?)\/mcp\b/;

/** Spawns `anvil serve --http --port 0 [...args]` and resolves once it prints the URL it serves on. */
export async function startAnvil(options: StartOptions = {}): Promise<AnvilServerProcess> {
  const owned = options.home === undefined ? await createHome({ fresh: options.freshHome ?? false }) : undefined;
  const home = options.home ?? (owned as TempHome).home;
  const env: EnvPatch = { ANVIL_HOME: home, ...options.env };
  const args = ['serve', '--http', '--port', '0', ...(options.args ?? [])];
  const child = spawn(process.execPath, [anvilBin, ...args], { cwd: repoRoot, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let stderr = '';
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = exitOf(child);

  const timeoutMs = options.startTimeoutMs ?? 60_000;
  let baseUrl: string;
  try {
    baseUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`anvil serve did not report its URL within ${timeoutMs} ms; stderr:\n${stderr}`)), timeoutMs);
      const onData = () => {
        const match = servingLine.exec(stderr);
        if (match) {
          clearTimeout(timer);
          child.stderr?.off('data', onData);
          resolve(match[1] as string);
        }
      };
      child.stderr?.on('data', onData);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`anvil serve exited (${code ?? signal}) before serving; stderr:\n${stderr}`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    owned?.remove();
    throw error;
  }

  let stopping: Promise<ExitStatus> | undefined;
  const stop = (stopOptions: { signal?: NodeJS.Signals; timeoutMs?: number } = {}): Promise<ExitStatus> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(stopOptions.signal ?? 'SIGTERM');
      const limit = stopOptions.timeoutMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, limit);
      });
      await Promise.race([exited, killed]);
      clearTimeout(timer);
      return exited;
    })();
    return stopping;
  };

  const url = new URL(baseUrl);
  return {
    child,
    pid: child.pid as number,
    home,
    env,
    baseUrl,
    mcpUrl: new URL('/mcp', baseUrl),
    port: Number(url.port),
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    createKey: (project, scopes, name) => createKey(env, project, scopes, name),
    cli: (cliArgs, extraEnv = {}) => runCli(cliArgs, { ...env, ...extraEnv }),
    stop,
    async dispose() {
      await stop({ timeoutMs: 15_000 }).catch(() => undefined);
      owned?.remove();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// MCP clients over HTTP, one shape for both SDK generations

/**
 * `sdk1`: the 1.x `Client` from `@modelcontextprotocol/sdk` (initialize handshake, 2025-11-25).
 * `sdk2`: the 2.x `Client` from `@modelcontextprotocol/client`, pinned to 2026-07-28 (stateless).
 */
export type Sdk = 'sdk1' | 'sdk2';
export const sdks: readonly Sdk[] = ['sdk1', 'sdk2'];

/** A tool result reduced to what tests look at, whichever SDK produced it. */
export interface ToolOutcome {
  isError: boolean;
  structured: Record<string, unknown> | undefined;
  /** The text of all text content blocks, joined with newlines. */
  text: string;
  meta: Record<string, unknown> | undefined;
}

export interface McpHttpSession {
  readonly sdk: Sdk;
  /** The protocol revision the session ended on. */
  protocolVersion(): string | undefined;
  listTools(): Promise<string[]>;
  callTool(name: string, args?: Record<string, unknown>): Promise<ToolOutcome>;
  close(): Promise<void>;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function toOutcome(result: unknown): ToolOutcome {
  if (!isRecord(result)) throw new Error(`tools/call returned a non-object: ${JSON.stringify(result)}`);
  const content = Array.isArray(result.content) ? result.content : [];
  const text = content
    .filter((block): block is Record<string, unknown> => isRecord(block) && block.type === 'text' && typeof block.text === 'string')
    .map((block) => block.text as string)
    .join('\n');
  return {
    isError: result.isError === true,
    structured: isRecord(result.structuredContent) ? result.structuredContent : undefined,
    text,
    meta: isRecord(result._meta) ? result._meta : undefined,
  };
}

function toolNames(result: unknown): string[] {
  if (!isRecord(result) || !Array.isArray(result.tools)) throw new Error(`tools/list returned ${JSON.stringify(result)}`);
  return result.tools.map((tool) => (isRecord(tool) ? String(tool.name) : String(tool)));
}

/** Connects `sdk`'s client to `url` with `Authorization: Bearer <key>` (when given) and any extra headers. */
export async function connectHttp(sdk: Sdk, url: URL, options: { key?: string; headers?: Record<string, string> } = {}): Promise<McpHttpSession> {
  const headers: Record<string, string> = { ...options.headers, ...(options.key ? { authorization: `Bearer ${options.key}` } : {}) };
  const clientInfo = { name: `anvil-e2e-${sdk}`, version: '1.0.0' };
  if (sdk === 'sdk1') {
    const client = new Client1(clientInfo);
    const transport = new HttpTransport1(url, { requestInit: { headers } });
    await client.connect(transport);
    return {
      sdk,
      protocolVersion: () => transport.protocolVersion,
      listTools: async () => toolNames(await client.listTools()),
      callTool: async (name, args = {}) => toOutcome(await client.callTool({ name, arguments: args })),
      close: () => client.close(),
    };
  }
  const client = new Client2(clientInfo, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new HttpTransport2(url, { requestInit: { headers } }));
  return {
    sdk,
    protocolVersion: () => client.getNegotiatedProtocolVersion(),
    listTools: async () => toolNames(await client.listTools()),
    callTool: async (name, args = {}) => toOutcome(await client.callTool({ name, arguments: args })),
    close: () => client.close(),
  };
}

/** Connects, runs `work`, and closes the session whatever happened. */
export async function withHttpSession<T>(
  sdk: Sdk,
  url: URL,
  options: { key?: string; headers?: Record<string, string> },
  work: (session: McpHttpSession) => Promise<T>,
): Promise<T> {
  const session = await connectHttp(sdk, url, options);
  try {
    return await work(session);
  } finally {
    await session.close().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP

/** Headers a Streamable HTTP client sends with a 2025-11-25 POST. */
export const mcpPostHeaders: Readonly<Record<string, string>> = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
};

export interface RawResponse {
  status: number;
  headers: Headers;
  body: string;
  /** JSON-RPC messages in the body: the JSON body itself, or each SSE `data:` line. */
  messages: unknown[];
}

/** Parses a JSON or `text/event-stream` response body into the JSON-RPC messages it carries. */
export function parseMessages(contentType: string | null, body: string): unknown[] {
  if (body.trim() === '') return [];
  if (contentType?.startsWith('text/event-stream')) {
    return body
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => JSON.parse(line.slice('data:'.length).trim()) as unknown);
  }
  const parsed: unknown = JSON.parse(body);
  return Array.isArray(parsed) ? parsed : [parsed];
}

/** POSTs `body` (a string is sent as is, anything else as JSON) to an MCP endpoint. */
export async function postMcp(url: URL | string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...mcpPostHeaders, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let messages: unknown[];
  try {
    messages = parseMessages(response.headers.get('content-type'), text);
  } catch {
    messages = [];
  }
  return { status: response.status, headers: response.headers, body: text, messages };
}

/** Asserts an `anvil_status` result says: embedded storage and queue, both answering. */
export function assertEmbeddedStatusHealthy(status: ToolOutcome): Record<string, unknown> {
  assert.equal(status.isError, false, status.text);
  const structured = status.structured ?? {};
  assert.ok(isRecord(structured.storage) && isRecord(structured.queue), status.text);
  assert.equal(structured.storage.kind, 'pglite');
  assert.equal(structured.storage.ok, true);
  assert.equal(structured.queue.kind, 'bullmq-postgres');
  assert.equal(structured.queue.ok, true);
  return structured;
}
