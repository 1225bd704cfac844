import { parseArgs } from 'node:util';
import { KeyStore, parseToolAllowlist, type ApiKeyInfo } from '../../auth/keys.ts';
import { AnvilError, ErrorCodes, isAnvilError } from '../../errors.ts';
import { withCommandStorage } from '../command-storage.ts';
import { commonOptions, loadCommandConfig } from '../common-options.ts';
import { type CliIo, ExitCode, table } from '../io.ts';

export const keysHelp = `Usage:
  anvil keys create --project <id> --scopes <s1,s2|*> [--tools <t1,prefix_*>] [--name <label>] [--json]
  anvil keys list [--project <id>] [--json]
  anvil keys revoke <key-id> [--json]

Scopes are <area>:<read|write|admin> (admin implies write implies read) or * for everything.
--tools limits the key to those tools (names, plugin ids, or prefixes ending in *, e.g.
'jobs_*,anvil_status'), whatever its scopes allow; without it the key may use every tool.
The key is printed once, at creation; only its hash is stored.`;

/** The --tools allowlist, or a usage error naming the option. */
function toolsOption(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  try {
    return parseToolAllowlist(raw, '--tools');
  } catch (error) {
    if (isAnvilError(error)) throw new AnvilError(ErrorCodes.USAGE, error.message);
    throw error;
  }
}

function row(key: ApiKeyInfo): Record<string, string> {
  return {
    id: key.id,
    project: key.project,
    name: key.name ?? '',
    scopes: key.scopes.join(','),
    tools: key.tools ? key.tools.join(',') : 'all',
    created: key.createdAt,
    'last used': key.lastUsedAt ?? 'never',
    status: key.revokedAt ? `revoked ${key.revokedAt}` : 'active',
  };
}

export async function keysCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const [action, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: { ...commonOptions, project: { type: 'string' }, scopes: { type: 'string' }, name: { type: 'string' }, tools: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (values.help || action === undefined || action === 'help') {
    io.out(keysHelp);
    return action === undefined ? ExitCode.usage : ExitCode.ok;
  }
  const { config } = loadCommandConfig(io, values);

  switch (action) {
    case 'create': {
      if (!values.project) throw new AnvilError(ErrorCodes.USAGE, '--project is required, e.g. --project default');
      if (!values.scopes) throw new AnvilError(ErrorCodes.USAGE, '--scopes is required, e.g. --scopes anvil:read,training:write (or * for all)');
      const tools = toolsOption(values.tools);
      const created = await withCommandStorage(config, (storage) =>
        new KeyStore(storage).create({
          project: values.project as string,
          scopes: values.scopes as string,
          ...(values.name ? { name: values.name } : {}),
          ...(tools ? { tools } : {}),
        }),
      );
      if (values.json) {
        io.out(JSON.stringify(created));
      } else {
        if (created.projectCreated) io.err(`Created project "${created.project}".`);
        io.err(`Created API key ${created.id} for project "${created.project}" with scopes ${created.scopes.join(',')}${created.tools ? `, limited to tools ${created.tools.join(',')}` : ''}.`);
        io.err('Store it now; it is not shown again:');
        io.out(created.key);
      }
      return ExitCode.ok;
    }
    case 'list': {
      const keys = await withCommandStorage(config, (storage) => new KeyStore(storage).list(values.project));
      if (values.json) io.out(JSON.stringify(keys));
      else io.out(keys.length === 0 ? 'No API keys yet; create one with `anvil keys create`.' : table(keys.map(row), ['id', 'project', 'name', 'scopes', 'tools', 'created', 'last used', 'status']));
      return ExitCode.ok;
    }
    case 'revoke': {
      const id = positionals[0];
      if (!id) throw new AnvilError(ErrorCodes.USAGE, 'anvil keys revoke needs the key id, e.g. anvil keys revoke k3x9q2m7a1b0');
      const revoked = await withCommandStorage(config, (storage) => new KeyStore(storage).revoke(id));
      if (values.json) io.out(JSON.stringify(revoked));
      else io.out(`Revoked ${revoked.id} (project "${revoked.project}"); servers stop accepting it within ${config.auth.keyCacheTtlMs / 1000} s.`);
      return ExitCode.ok;
    }
    default:
      throw new AnvilError(ErrorCodes.USAGE, `Unknown keys action "${action}"\n${keysHelp}`);
  }
}
