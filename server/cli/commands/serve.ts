import { parseArgs } from 'node:util';
import path from 'node:path';
import { AnvilError, ErrorCodes } from '../../errors.ts';
import { isLoopbackHost } from '../../http/env.ts';
import { createLogger } from '../../log.ts';
import { startAnvilServer } from '../../server.ts';
import { anvilVersion } from '../../version.ts';
import { commonOptions, loadCommandConfig } from '../common-options.ts';
import { type CliIo, ExitCode } from '../io.ts';

export const serveHelp = `Usage:
  anvil serve [--http] [--stdio] [--host 127.0.0.1] [--port 7420] [--no-auth] [--tools a,b] [--home DIR] [--config PATH]

  --http       Streamable HTTP at /mcp, plus /healthz, /readyz and /metrics (the default)
  --stdio      MCP on stdin/stdout as the configured local principal; logs go to stderr
  --host       address to bind (default 127.0.0.1; anything else requires API keys)
  --port       port to bind (default 7420; 0 picks a free one)
  --no-auth    accept HTTP requests without a key (refused unless --host is loopback)
  --tools      tool profile: plugin ids or tool names (prefix*) to offer besides anvil_*, e.g. training,knowledge

Runs embedded (PGlite + BullMQ on it, data in ANVIL_HOME) unless DATABASE_URL is set; with
REDIS_URL the queue is BullMQ on Redis (ANVIL_QUEUE=postgres keeps it on Postgres).`;

export async function serveCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...commonOptions,
      http: { type: 'boolean' },
      stdio: { type: 'boolean' },
      host: { type: 'string' },
      port: { type: 'string' },
      'no-auth': { type: 'boolean' },
      tools: { type: 'string' },
    },
  });
  if (values.help) {
    io.out(serveHelp);
    return ExitCode.ok;
  }
  let port: number | undefined;
  if (values.port !== undefined) {
    if (!/^\d+$/.test(values.port)) throw new AnvilError(ErrorCodes.USAGE, `--port: expected a number from 0 to 65535, got "${values.port}"`);
    port = Number(values.port);
  }
  const tools = values.tools?.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
  const { config, file } = loadCommandConfig(io, values, {
    ...(tools ? { tools } : {}),
    http: { ...(values.host !== undefined ? { host: values.host } : {}), ...(port !== undefined ? { port } : {}), ...(values['no-auth'] ? { auth: false } : {}) },
  });
  const wantStdio = values.stdio === true;
  const wantHttp = values.http === true || !wantStdio;
  if (!config.http.auth && wantHttp && !isLoopbackHost(config.http.host)) {
    throw new AnvilError(ErrorCodes.UNSAFE_BIND, `--no-auth is refused on ${config.http.host}: without keys, only a loopback host (127.0.0.1, ::1, localhost) is allowed`);
  }

  const log = createLogger(config);
  const server = await startAnvilServer({ config, log, http: wantHttp, stdio: wantStdio, pluginBaseDir: path.dirname(file.path), configFile: file.path });
  const { storage, queue } = server.runtime.services;

  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      io.err(`Received ${signal} again; exiting now.`);
      process.exit(ExitCode.failed);
    }
    signalled = true;
    server.shutdown(signal).catch(() => {});
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const where = [server.http ? `${server.http.url}/mcp` : undefined, wantStdio ? 'stdio' : undefined].filter(Boolean).join(' and ');
  log.info({ version: anvilVersion, http: server.http?.url, stdio: wantStdio, storage: storage.kind, queue: queue.kind, home: config.home }, 'anvil serving');
  io.err(`Anvil ${anvilVersion} serving MCP on ${where} (storage ${storage.kind}, queue ${queue.kind}, home ${config.home})`);
  if (server.http && config.http.auth) io.err('HTTP requires an API key: anvil keys create --project default --scopes "*"');

  await server.stopped;
  // Whoever started the shutdown (a signal, or the stdio client leaving), its outcome is memoised.
  let exitCode: ExitCode = ExitCode.ok;
  await server.shutdown('stopped').catch((error: unknown) => {
    exitCode = ExitCode.failed;
    log.error({ err: error }, 'shutdown failed');
  });
  log.flush();
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  return exitCode;
}
