import { accessSync, constants, existsSync, statfsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { unavailableRecipes } from '../../../gpu-workers/recipe-table.ts';
import { builtinRecipes } from '../../../gpu-workers/recipes/index.ts';
import type { AnvilConfig } from '../../config/schema.ts';
import { coreMigrations, migrationStatus } from '../../db/migrate.ts';
import { openStorage } from '../../db/open.ts';
import { errorMessage } from '../../errors.ts';
import { isLoopbackHost } from '../../http/env.ts';
import { commonOptions, loadCommandConfig } from '../common-options.ts';
import { checkOAuth } from './doctor-oauth.ts';
import { type CliIo, ExitCode } from '../io.ts';

type Status = 'ok' | 'warn' | 'fail' | 'skip';
export interface DoctorCheck {
  name: string;
  status: Status;
  message: string;
}

const MIN_NODE = [20, 19] as const;

function checkNode(): DoctorCheck {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return ok
    ? { name: 'node', status: 'ok', message: `Node ${process.versions.node}` }
    : { name: 'node', status: 'fail', message: `Node ${process.versions.node} is older than ${MIN_NODE.join('.')}; install Node 20.19 or newer` };
}

/** Built-in recipes this machine cannot run (e.g. torch-text-classifier without python3-torch): a warning, not a failure. */
function checkRecipes(): DoctorCheck {
  const missing = unavailableRecipes(builtinRecipes);
  const names = Object.keys(missing);
  if (names.length === 0) return { name: 'recipes', status: 'ok', message: `all ${builtinRecipes.length} built-in recipes can run here` };
  return { name: 'recipes', status: 'warn', message: `unavailable here: ${names.map((name) => `${name} (${missing[name] ?? ''})`).join('; ')}` };
}

function checkDataDir(home: string): DoctorCheck {
  const existing = existsSync(home) ? home : path.dirname(home);
  try {
    accessSync(existing, constants.W_OK);
  } catch {
    return { name: 'data dir', status: 'fail', message: `${existing} is not writable; choose another ANVIL_HOME (--home) or fix its permissions` };
  }
  const stats = statfsSync(existing);
  const freeGiB = (stats.bavail * stats.bsize) / 2 ** 30;
  const where = existsSync(home) ? home : `${home} (created on first start)`;
  if (freeGiB < 1) return { name: 'data dir', status: 'warn', message: `${where}: only ${freeGiB.toFixed(2)} GiB free; free some space before training` };
  return { name: 'data dir', status: 'ok', message: `${where}, ${freeGiB.toFixed(1)} GiB free` };
}

async function checkStorageAndMigrations(config: AnvilConfig): Promise<DoctorCheck[]> {
  const label = config.databaseUrl ? 'postgres' : 'pglite';
  let storage;
  try {
    storage = await openStorage(config, 'command');
  } catch (error) {
    const fix = config.databaseUrl ? 'check DATABASE_URL and that the server accepts connections' : `check ${config.home} (is another process holding it?)`;
    return [
      { name: label, status: 'fail', message: `cannot open storage: ${errorMessage(error)}; ${fix}` },
      { name: 'migrations', status: 'skip', message: 'storage unavailable' },
    ];
  }
  try {
    const { serverVersion, latencyMs } = await storage.ping();
    const major = Number(serverVersion.split('.')[0]);
    const storageCheck: DoctorCheck =
      major < 13
        ? { name: label, status: 'fail', message: `PostgreSQL ${serverVersion} is too old; BullMQ's Postgres backend needs 13 or newer` }
        : { name: label, status: 'ok', message: `PostgreSQL ${serverVersion} answered in ${latencyMs.toFixed(1)} ms${config.databaseUrl ? '' : ` (embedded, ${config.home})`}` };
    const reports = await migrationStatus(storage, [coreMigrations()]);
    const pending = reports.reduce((sum, report) => sum + Math.max(0, report.latest - report.current), 0);
    const summary = reports.map((report) => `${report.scope} ${report.current}/${report.latest}`).join(', ');
    const migrations: DoctorCheck =
      pending > 0
        ? { name: 'migrations', status: 'warn', message: `${pending} pending (${summary}); \`anvil serve\` applies them at start` }
        : { name: 'migrations', status: 'ok', message: `up to date (${summary})` };
    return [storageCheck, migrations];
  } finally {
    await storage.close();
  }
}

async function checkRedis(config: AnvilConfig): Promise<DoctorCheck> {
  const wantsRedis = config.queue === 'redis' || (config.queue === 'auto' && config.redisUrl !== undefined);
  if (!config.redisUrl) {
    return wantsRedis
      ? { name: 'redis', status: 'fail', message: 'ANVIL_QUEUE=redis but REDIS_URL is not set; set REDIS_URL or use ANVIL_QUEUE=postgres' }
      : { name: 'redis', status: 'skip', message: "not configured; the queue is BullMQ's Postgres backend" };
  }
  const client = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3_000, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    const info = await client.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    const note = wantsRedis ? 'queue: BullMQ on Redis' : 'reachable, but ANVIL_QUEUE=postgres keeps the queue on Postgres';
    return { name: 'redis', status: 'ok', message: `Redis ${version} (${note})` };
  } catch (error) {
    return { name: 'redis', status: 'fail', message: `cannot reach Redis: ${errorMessage(error)}; check REDIS_URL and that redis-server runs` };
  } finally {
    client.disconnect();
  }
}

function portFree(host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    server.listen(port, host, () => server.close(() => resolve(undefined)));
  });
}

async function checkPort(config: AnvilConfig): Promise<DoctorCheck> {
  const { host, port, auth } = config.http;
  if (!auth && !isLoopbackHost(host)) {
    return { name: 'port', status: 'fail', message: `auth is off but the host ${host} is not loopback; anvil serve will refuse to start` };
  }
  const error = await portFree(host, port);
  if (!error) return { name: 'port', status: 'ok', message: `${host}:${port} is free for anvil serve --http` };
  if (error.code === 'EADDRINUSE') {
    const shown = host.includes(':') ? `[${host}]` : host;
    const answer = await fetch(`http://${shown}:${port}/healthz`, { signal: AbortSignal.timeout(2_000) })
      .then(async (response) => (response.ok ? ((await response.json()) as { status?: string }).status : undefined))
      .catch(() => undefined);
    if (answer === 'ok') return { name: 'port', status: 'ok', message: `an Anvil server already answers on ${host}:${port}` };
    return { name: 'port', status: 'fail', message: `${host}:${port} is taken by another program; pick another with --port or ANVIL_PORT` };
  }
  return { name: 'port', status: 'fail', message: `cannot bind ${host}:${port} (${error.code ?? error.message}); pick another host or port` };
}

export async function runDoctor(config: AnvilConfig): Promise<DoctorCheck[]> {
  const [storageChecks, redis, port, oauth] = await Promise.all([checkStorageAndMigrations(config), checkRedis(config), checkPort(config), checkOAuth(config.auth.oauth)]);
  return [checkNode(), checkDataDir(config.home), ...storageChecks, redis, port, ...oauth, checkRecipes()];
}

export async function doctorCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const { values } = parseArgs({ args: argv, strict: true, options: { ...commonOptions, json: { type: 'boolean' } } });
  if (values.help) {
    io.out('Usage: anvil doctor [--home DIR] [--config PATH] [--json]\n\nChecks Node, the data dir, Postgres, Redis, migrations, the HTTP port and the OAuth issuer (when auth.oauth is set); one actionable line each.');
    return ExitCode.ok;
  }
  const { config } = loadCommandConfig(io, values);
  const checks = await runDoctor(config);
  if (values.json) io.out(JSON.stringify(checks));
  else for (const check of checks) io.out(`${check.status.padEnd(4)}  ${check.name.padEnd(10)}  ${check.message}`);
  return checks.some((check) => check.status === 'fail') ? ExitCode.failed : ExitCode.ok;
}
