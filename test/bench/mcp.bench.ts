/**
 * `mcp`: tools/call round trips over Streamable HTTP, Anvil against a bare SDK server.
 *
 * Anvil runs as `anvil serve --http --port 0` in a child process (embedded PGlite by default;
 * DATABASE_URL / REDIS_URL in the environment are passed through for a distributed run), with a key
 * made by `anvil keys create`. The anchor is `fixtures/bare-server.ts`: the same SDK handler in the
 * same Hono stack, minus everything Anvil adds. Clients are 1.x SDK `Client`s (one per simulated
 * client, each calling sequentially) in this process, which is the load generator.
 *
 * Per tool (`whoami`: no I/O, isolates Anvil's per-call overhead; `status`: storage ping, queue
 * health and migration status; both against the bare server's one trivial tool) and per
 * concurrency level, the bare server and Anvil are measured in alternating slices (bare, anvil,
 * anvil, bare, …) and only one of them is under load at a time.
 *
 * Knobs (environment): BENCH_MCP_LEVELS (default "1,16,64"), BENCH_MCP_CALLS (measured calls per
 * level and side, default 2000), BENCH_MCP_SECONDS (time cap per level and side, default 5),
 * BENCH_MCP_WARMUP (warm-up calls per level and side, default 200), BENCH_MCP_ROUNDS (alternating
 * slices per level, default 4), BENCH_MCP_TOOLS (default "whoami,status"), BENCH_MCP_VERBOSE=1
 * (forward the servers' stderr), BENCH_MCP_ANVIL_NODE_ARGS / BENCH_MCP_BARE_NODE_ARGS (extra node
 * flags for either child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/anvil-prof" to profile it under load).
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { BenchContext, Figure } from './run.ts';

export const name = 'mcp';
export const description = 'tools/call round trips (anvil_status, anvil_whoami) over Streamable HTTP at 1/16/64 clients vs a bare SDK server';

const execFileAsync = promisify(execFile);

function envInt(key: string, fallback: number): number {
  const raw = process.env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${key}: expected a positive number, got "${raw}"`);
  return value;
}

function envLevels(): number[] {
  const raw = process.env.BENCH_MCP_LEVELS ?? '1,16,64';
  const levels = raw.split(',').map((part) => Number(part.trim()));
  if (levels.length === 0 || levels.some((level) => !Number.isInteger(level) || level < 1 || level > 1024)) {
    throw new Error(`BENCH_MCP_LEVELS: expected comma-separated client counts (1-1024), got "${raw}"`);
  }
  return levels;
}

const toolKeys = ['whoami', 'status'] as const;
type ToolKey = (typeof toolKeys)[number];

function envTools(): ToolKey[] {
  const raw = process.env.BENCH_MCP_TOOLS ?? toolKeys.join(',');
  const tools = raw.split(',').map((part) => part.trim());
  const unknown = tools.filter((tool) => !(toolKeys as readonly string[]).includes(tool));
  if (unknown.length > 0 || tools.length === 0) throw new Error(`BENCH_MCP_TOOLS: expected some of ${toolKeys.join(',')}, got "${raw}"`);
  return tools as ToolKey[];
}

function readSettings() {
  return {
    levels: envLevels(),
    calls: envInt('BENCH_MCP_CALLS', 2000),
    maxMs: envInt('BENCH_MCP_SECONDS', 5) * 1000,
    warmup: envInt('BENCH_MCP_WARMUP', 200),
    rounds: envInt('BENCH_MCP_ROUNDS', 4),
    warmupMaxMs: 2_000,
    callTimeoutMs: 30_000,
    verbose: process.env.BENCH_MCP_VERBOSE === '1',
    tools: envTools(),
    /** Extra node flags for the Anvil child, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
    anvilNodeArgs: (process.env.BENCH_MCP_ANVIL_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
    bareNodeArgs: (process.env.BENCH_MCP_BARE_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
  };
}

/** Read when the benchmark runs, not when the runner imports this module to list it. */
let settings: ReturnType<typeof readSettings>;

/** The p50 goal from the issue: Anvil's median latency at most this multiple of the bare server's. */
const p50Goal = 1.15;

// ---------------------------------------------------------------------------------------------
// Child processes

interface ServerChild {
  label: string;
  url: URL;
  child: ChildProcess;
  stderrTail(): string;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();

function killAll(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Starts a server and resolves with the URL it prints on stderr (`... serving MCP on http://…/mcp`). */
function startServer(label: string, command: string, args: string[], options: { cwd: string; timeoutMs: number }): Promise<ServerChild> {
  const child = spawn(command, args, { cwd: options.cwd, env: process.env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  const tail: string[] = [];
  let buffered = '';
  const stderrTail = () => tail.join('\n');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  exited.then(() => children.delete(child)).catch(() => {});

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };

  return new Promise<ServerChild>((resolve, reject) => {
    let ready = false;
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${label} did not print its URL within ${options.timeoutMs / 1000} s; stderr:\n${stderrTail()}`));
    }, options.timeoutMs);
    // The pipe is always drained: a full stderr pipe would stall the server mid-benchmark.
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        if (settings.verbose) process.stderr.write(`  ${label}| ${line}\n`);
        const match = /serving MCP on (http:\/\/\S+\/mcp)/.exec(line);
        if (!ready && match) {
          ready = true;
          clearTimeout(timer);
          resolve({ label, url: new URL(match[1] as string), child, stderrTail, stop });
        }
      }
    });
    child.once('exit', (code, signal) => {
      if (ready) return;
      clearTimeout(timer);
      reject(new Error(`${label} exited (${signal ?? code}) before serving; stderr:\n${stderrTail()}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Load

interface Target {
  label: 'anvil' | 'bare';
  url: URL;
  headers: Record<string, string>;
  /** The server process, whose CPU time is read around each measured run. */
  pid: number | undefined;
}

let clockTicks: number | undefined;

/**
 * CPU time (user + system, all threads) a process has used so far, in ms, from /proc; undefined
 * where there is no /proc. Unlike latency, this barely moves when other work shares the cores.
 */
function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    // The command name (field 2) may hold spaces; fields are counted after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / clockTicks) * 1000;
  } catch {
    return undefined;
  }
}

interface RunResult {
  latencies: number[];
  errors: number;
  elapsedMs: number;
  errorSamples: string[];
}

/**
 * Node's fetch hangs one abort listener per request on the transport's single AbortSignal and
 * drops it only when the request is garbage-collected, so a client making thousands of sequential
 * calls trips undici's MaxListenersExceededWarning (cap 1500). Lifting the cap on that signal
 * silences the warning and changes nothing else (the listeners are still released on GC).
 */
const fetchWithoutListenerCap = (url: string | URL, init?: RequestInit): Promise<Response> => {
  if (init?.signal) setMaxListeners(0, init.signal);
  return fetch(url, init);
};

async function connectClients(target: Target, count: number): Promise<Client[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const client = new Client({ name: `anvil-bench-${index}`, version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(target.url, { requestInit: { headers: target.headers }, fetch: fetchWithoutListenerCap });
      await client.connect(transport);
      return client;
    }),
  );
}

async function closeClients(clients: Client[]): Promise<void> {
  await Promise.all(clients.map((client) => client.close().catch(() => {})));
}

/** Every client calls `tool` sequentially until `calls` calls have been started or `maxMs` has passed. */
async function drive(clients: Client[], tool: string, calls: number, maxMs: number): Promise<RunResult> {
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let issued = 0;
  const started = performance.now();
  const deadline = started + maxMs;
  const noteError = (message: string) => {
    errors++;
    if (errorSamples.length < 3 && !errorSamples.includes(message)) errorSamples.push(message);
  };
  await Promise.all(
    clients.map(async (client) => {
      while (issued < calls && performance.now() < deadline) {
        issued++;
        const before = performance.now();
        try {
          const result = await client.callTool({ name: tool, arguments: {} }, undefined, { timeout: settings.callTimeoutMs });
          const after = performance.now();
          if (result.isError) {
            const content = Array.isArray(result.content) ? (result.content as Array<{ text?: unknown }>) : [];
            noteError(`isError: ${String(content[0]?.text ?? 'no text').slice(0, 200)}`);
          } else {
            latencies.push(after - before);
          }
        } catch (error) {
          noteError(error instanceof Error ? error.message.slice(0, 200) : String(error));
        }
      }
    }),
  );
  return { latencies, errors, elapsedMs: performance.now() - started, errorSamples };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

interface LevelStats {
  p50: number;
  p99: number;
  rps: number;
  errors: number;
  calls: number;
  /** Server CPU time per successful call (ms), when /proc can tell. */
  cpuPerCall: number | undefined;
  /** Load generator (this process) CPU time per successful call (ms). */
  clientCpuPerCall: number;
}

/** One side's running totals over the rounds of a level. */
class Tally {
  readonly latencies: number[] = [];
  readonly errorSamples: string[] = [];
  errors = 0;
  elapsedMs = 0;
  serverCpuMs: number | undefined = 0;
  clientCpuMs = 0;

  add(result: RunResult, serverCpuMs: number | undefined, clientCpuMs: number): void {
    for (const latency of result.latencies) this.latencies.push(latency);
    for (const sample of result.errorSamples) if (this.errorSamples.length < 3 && !this.errorSamples.includes(sample)) this.errorSamples.push(sample);
    this.errors += result.errors;
    this.elapsedMs += result.elapsedMs;
    this.serverCpuMs = this.serverCpuMs === undefined || serverCpuMs === undefined ? undefined : this.serverCpuMs + serverCpuMs;
    this.clientCpuMs += clientCpuMs;
  }

  stats(): LevelStats {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const calls = sorted.length;
    return {
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      rps: calls / (this.elapsedMs / 1000),
      errors: this.errors,
      calls,
      cpuPerCall: this.serverCpuMs === undefined || calls === 0 ? undefined : this.serverCpuMs / calls,
      clientCpuPerCall: calls === 0 ? Number.NaN : this.clientCpuMs / calls,
    };
  }
}

type Side = 'anvil' | 'bare';

/**
 * One concurrency level: both sides get their own `concurrency` clients and a warm-up, then the
 * measured budget is split into `rounds` slices run alternately (bare, anvil, anvil, bare, …), so
 * that a change in background load on the machine hits both sides alike. Only one side is under
 * load at any moment; the other side's clients sit idle on their keep-alive connections.
 */
async function measureLevel(
  context: BenchContext,
  targets: Record<Side, Target>,
  tools: Record<Side, string>,
  concurrency: number,
): Promise<Record<Side, LevelStats>> {
  const sides: Side[] = ['bare', 'anvil'];
  const clients = {} as Record<Side, Client[]>;
  const tallies: Record<Side, Tally> = { anvil: new Tally(), bare: new Tally() };
  const warmups: Record<Side, RunResult | undefined> = { anvil: undefined, bare: undefined };
  try {
    for (const side of sides) clients[side] = await connectClients(targets[side], concurrency);
    for (const side of sides) {
      const warm = await drive(clients[side], tools[side], Math.max(settings.warmup, concurrency), settings.warmupMaxMs);
      warmups[side] = warm;
      tallies[side].add({ ...warm, latencies: [], elapsedMs: 0 }, 0, 0);
    }
    const callsPerRound = Math.max(concurrency, Math.ceil(settings.calls / settings.rounds));
    const msPerRound = settings.maxMs / settings.rounds;
    for (let round = 0; round < settings.rounds; round++) {
      const order: Side[] = round % 2 === 0 ? ['bare', 'anvil'] : ['anvil', 'bare'];
      for (const side of order) {
        const target = targets[side];
        const serverBefore = cpuMs(target.pid);
        const clientBefore = process.cpuUsage();
        const result = await drive(clients[side], tools[side], callsPerRound, msPerRound);
        const clientUsage = process.cpuUsage(clientBefore);
        const serverAfter = cpuMs(target.pid);
        tallies[side].add(result, serverBefore === undefined || serverAfter === undefined ? undefined : serverAfter - serverBefore, (clientUsage.user + clientUsage.system) / 1000);
      }
    }
  } finally {
    await Promise.all(sides.map((side) => closeClients(clients[side] ?? [])));
  }
  const stats = { anvil: tallies.anvil.stats(), bare: tallies.bare.stats() };
  for (const side of sides) {
    const s = stats[side];
    const warm = warmups[side];
    context.log(
      `  ${side.padEnd(5)} ${tools[side].padEnd(12)} c=${String(concurrency).padStart(2)}: ` +
        `p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, ${s.rps.toFixed(0)} calls/s, ${s.calls} ok, ${s.errors} errors ` +
        `(warm-up ${warm?.latencies.length ?? 0} ok, ${warm?.errors ?? 0} errors); ` +
        `cpu/call: server ${s.cpuPerCall?.toFixed(3) ?? '?'} ms, load generator ${s.clientCpuPerCall.toFixed(3)} ms`,
    );
    for (const sample of tallies[side].errorSamples) context.log(`    ${side} error: ${sample}`);
  }
  return stats;
}

// ---------------------------------------------------------------------------------------------

interface StatusResult {
  storage?: { kind?: string; ok?: boolean };
  queue?: { kind?: string; ok?: boolean };
  version?: string;
}

export async function run(context: BenchContext): Promise<Figure[]> {
  settings = readSettings();
  const home = await mkdtemp(join(tmpdir(), 'anvil-bench-'));
  const onSignal = () => {
    killAll();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', killAll);
  const servers: ServerChild[] = [];
  let keyId: string | undefined;
  const anvilCli = (args: string[]) =>
    execFileAsync(process.execPath, ['bin/anvil.mjs', ...args, '--home', home], { cwd: context.root, env: process.env, timeout: 60_000 });
  try {
    context.log(
      `levels ${settings.levels.join(',')}; per level ${settings.warmup} warm-up calls (≤${settings.warmupMaxMs / 1000} s), ` +
        `then ${settings.calls} calls or ${settings.maxMs / 1000} s (whichever comes first) per side, in ${settings.rounds} alternating rounds`,
    );
    const distributed = [process.env.DATABASE_URL ? 'DATABASE_URL' : '', process.env.REDIS_URL ? 'REDIS_URL' : ''].filter(Boolean).join(' + ');
    context.log(`starting anvil (home ${home}${distributed ? `, ${distributed} from the environment` : ', embedded'}) and the bare server`);
    const [anvil, bare] = await Promise.all([
      startServer('anvil', process.execPath, [...settings.anvilNodeArgs, 'bin/anvil.mjs', 'serve', '--http', '--port', '0', '--home', home], { cwd: context.root, timeoutMs: 240_000 }),
      startServer('bare', process.execPath, [...settings.bareNodeArgs, '--import', 'tsx', 'test/bench/fixtures/bare-server.ts', '--port', '0'], { cwd: context.root, timeoutMs: 30_000 }),
    ]);
    servers.push(anvil, bare);

    const { stdout } = await anvilCli(['keys', 'create', '--project', 'bench', '--scopes', '*', '--name', 'bench', '--json']);
    const created = JSON.parse(stdout) as { key?: string; id?: string };
    if (!created.key) throw new Error(`anvil keys create printed no key: ${stdout}`);
    keyId = created.id;

    const targets: Record<Side, Target> = {
      anvil: { label: 'anvil', url: anvil.url, headers: { authorization: `Bearer ${created.key}` }, pid: anvil.child.pid },
      bare: { label: 'bare', url: bare.url, headers: {}, pid: bare.child.pid },
    };

    // One call first: proves the key works and says what Anvil is running on.
    const [probe] = await connectClients(targets.anvil, 1);
    const status = await (probe as Client).callTool({ name: 'anvil_status', arguments: {} });
    await closeClients([probe as Client]);
    if (status.isError) throw new Error(`anvil_status failed: ${JSON.stringify(status.content)}`);
    const info = (status.structuredContent ?? {}) as StatusResult;
    context.log(
      `anvil ${info.version ?? '?'} at ${anvil.url.href}: storage ${info.storage?.kind ?? '?'} (ok ${String(info.storage?.ok)}), ` +
        `queue ${info.queue?.kind ?? '?'} (ok ${String(info.queue?.ok)}); bare at ${bare.url.href}`,
    );

    const toolNames: Record<ToolKey, { anvil: string; bare: string }> = {
      whoami: { anvil: 'anvil_whoami', bare: 'bare_whoami' },
      status: { anvil: 'anvil_status', bare: 'bare_whoami' },
    };
    const tools = settings.tools.map((key) => ({ key, ...toolNames[key] }));
    const figures: Figure[] = [];
    const verdicts: string[] = [];
    for (const tool of tools) {
      for (const concurrency of settings.levels) {
        const stats = await measureLevel(context, targets, { anvil: tool.anvil, bare: tool.bare }, concurrency);
        const a = stats.anvil;
        const b = stats.bare;
        const prefix = `${tool.key}_c${concurrency}`;
        figures.push(
          { metric: `${prefix}_p50_ms`, value: a.p50, unit: 'ms', anchor: b.p50 },
          { metric: `${prefix}_p99_ms`, value: a.p99, unit: 'ms', anchor: b.p99 },
          { metric: `${prefix}_throughput_rps`, value: a.rps, unit: 'calls/s', anchor: b.rps },
          { metric: `${prefix}_errors`, value: a.errors, unit: 'count', anchor: 0 },
        );
        if (a.cpuPerCall !== undefined && b.cpuPerCall !== undefined) {
          figures.push({ metric: `${prefix}_server_cpu_ms_per_call`, value: a.cpuPerCall, unit: 'ms', anchor: b.cpuPerCall });
        }
        const ratio = a.p50 / b.p50;
        const p50Met = ratio <= p50Goal;
        const errorsMet = a.errors === 0;
        verdicts.push(
          `${prefix.padEnd(10)} p50 ${a.p50.toFixed(2)} ms vs bare ${b.p50.toFixed(2)} ms = ${ratio.toFixed(2)}x ` +
            `(goal ≤ ${p50Goal}x: ${p50Met ? 'met' : 'MISSED'}); errors ${a.errors}${concurrency === Math.max(...settings.levels) ? ` (goal 0: ${errorsMet ? 'met' : 'MISSED'})` : ''}`,
        );
      }
    }
    context.log(`storage ${info.storage?.kind ?? '?'}, queue ${info.queue?.kind ?? '?'}`);
    context.log(`goal: Anvil p50 ≤ ${p50Goal}x bare, 0 errors at ${Math.max(...settings.levels)} clients`);
    for (const verdict of verdicts) context.log(`  ${verdict}`);
    return figures;
  } catch (error) {
    for (const server of servers) context.log(`${server.label} stderr (tail):\n${server.stderrTail()}`);
    throw error;
  } finally {
    // A key in a shared database outlives the run; revoke it (an embedded home is deleted anyway).
    if (keyId && process.env.DATABASE_URL) await anvilCli(['keys', 'revoke', keyId, '--json']).catch(() => {});
    await Promise.all(servers.map((server) => server.stop()));
    killAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', killAll);
    await rm(home, { recursive: true, force: true }).catch(() => {});
  }
}
