import { parseArgs } from 'node:util';
import { redactConfig } from '../../config/redact.ts';
import { AnvilError, ErrorCodes } from '../../errors.ts';
import { commonOptions, loadCommandConfig } from '../common-options.ts';
import { type CliIo, ExitCode } from '../io.ts';

export const configHelp = `Usage:
  anvil config check [--home DIR] [--config PATH] [--json]

Prints the effective configuration (defaults < anvil.config.json < environment < flags) with
secrets redacted, and where each non-default value came from. Exits 2 naming the key when a value
is invalid.`;

export async function configCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const [action, ...rest] = argv;
  const { values } = parseArgs({ args: rest, strict: true, options: { ...commonOptions, json: { type: 'boolean' } } });
  if (values.help || action === undefined) {
    io.out(configHelp);
    return action === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (action !== 'check') throw new AnvilError(ErrorCodes.USAGE, `Unknown config action "${action}"\n${configHelp}`);
  const loaded = loadCommandConfig(io, values);
  const effective = redactConfig(loaded.config);
  if (values.json) {
    io.out(JSON.stringify({ config: effective, file: loaded.file, sources: loaded.sources }));
  } else {
    io.out(`Config file: ${loaded.file.path}${loaded.file.found ? '' : ' (not present; defaults apply)'}`);
    io.out(JSON.stringify(effective, null, 2));
    const sourced = Object.entries(loaded.sources).filter(([, source]) => source !== 'default');
    if (sourced.length > 0) io.out(`Set by:\n${sourced.map(([key, source]) => `  ${key} ← ${source}`).join('\n')}`);
    io.out('Configuration is valid.');
  }
  return ExitCode.ok;
}
