import { ErrorCodes, errorMessage, isAnvilError } from '../errors.ts';
import { anvilVersion } from '../version.ts';
import { configCommand } from './commands/config.ts';
import { doctorCommand } from './commands/doctor.ts';
import { keysCommand } from './commands/keys.ts';
import { pluginCommand } from './commands/plugin.ts';
import { sandboxPspCommand } from './commands/sandbox-psp.ts';
import { serveCommand } from './commands/serve.ts';
import { workerCommand } from './commands/worker.ts';
import { type CliIo, ExitCode, processIo } from './io.ts';

const usage = `Anvil ${anvilVersion} — agent-native MLOps and payments tool server (MCP)

Usage: anvil <command> [options]

Commands:
  serve           run the server (HTTP at /mcp by default; --stdio for a local assistant)
  worker          run a worker node: runs jobs from the queues this machine can serve
  keys            create, list and revoke API keys
  config check    print the effective configuration, secrets redacted
  plugin new      scaffold a plugin package (index.ts, test, README) to build on
  doctor          check Node, data dir, Postgres, Redis, migrations and ports
  sandbox-psp     run the sandbox payment provider network (simulated acquirers, signed webhooks)

Common options: --home DIR (default ./.anvil or ANVIL_HOME), --config PATH, --help
Run \`anvil <command> --help\` for a command's options.`;

const commands: Record<string, (argv: string[], io: CliIo) => Promise<ExitCode>> = {
  serve: serveCommand,
  worker: workerCommand,
  keys: keysCommand,
  config: configCommand,
  doctor: doctorCommand,
  plugin: pluginCommand,
  'sandbox-psp': sandboxPspCommand,
};

const usageCodes = new Set<string>([ErrorCodes.USAGE, ErrorCodes.CONFIG_INVALID, ErrorCodes.CONFIG_UNREADABLE, ErrorCodes.UNSAFE_BIND]);

export async function runCli(argv: string[], io: CliIo = processIo): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    io.out(anvilVersion);
    return ExitCode.ok;
  }
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.out(usage);
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  const command = commands[name];
  if (!command) {
    io.err(`Unknown command "${name}".\n\n${usage}`);
    return ExitCode.usage;
  }
  try {
    return await command(rest, io);
  } catch (error) {
    if (isAnvilError(error)) {
      io.err(`${error.code}: ${error.message}`);
      return usageCodes.has(error.code) ? ExitCode.usage : ExitCode.failed;
    }
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      io.err(`${ErrorCodes.USAGE}: ${errorMessage(error)}\nRun \`anvil ${name} --help\` for its options.`);
      return ExitCode.usage;
    }
    io.err(`${ErrorCodes.INTERNAL}: ${errorMessage(error)}`);
    if (io.env.ANVIL_DEBUG && error instanceof Error && error.stack) io.err(error.stack);
    return ExitCode.failed;
  }
}
