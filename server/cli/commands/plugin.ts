import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pluginIdPattern } from '../../../plugins/host/validate.ts';
import { AnvilError, ErrorCodes } from '../../errors.ts';
import { type CliIo, ExitCode } from '../io.ts';
import { packageRoot } from '../../package-root.ts';

export const pluginHelp = `Usage:
  anvil plugin new <name> [--dir <dir>]

Writes a working plugin package to <dir> (default ./anvil-plugin-<name>): package.json,
tsconfig.json, index.ts with one tool (<name>_greet, scope <name>:read), a test that runs it in
createTestHost from anvil/testing, and a README on running, testing, configuring and publishing.
<name> is the plugin id: lowercase letters, digits, - or _, starting with a letter, at most 40
characters (it is also the area of the plugin's scopes). <dir> must not exist or be empty.

Then: cd <dir> && npm install && npm test`;

interface AnvilPackage {
  name?: string;
  version?: string;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** Anvil's own package.json, and where it lives. */
function anvilPackage(): { root: string; manifest: AnvilPackage } {
  const root = packageRoot;
  return { root, manifest: JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as AnvilPackage };
}

/**
 * How the scaffold depends on Anvil: a checkout (a package named anvil that is not itself installed
 * under some node_modules/anvil) is linked with `file:`, an installed Anvil by its version range.
 */
export function anvilDependency(root: string, manifest: AnvilPackage): string {
  const real = realpathSync(root).replace(/[\\/]+$/, '');
  const installed = path.basename(real) === 'anvil' && path.basename(path.dirname(real)) === 'node_modules';
  if (manifest.name === 'anvil' && !installed) return `file:${real}`;
  return `^${manifest.version ?? '0.0.0'}`;
}

function versionOf(manifest: AnvilPackage, name: string, fallback: string): string {
  return manifest.devDependencies?.[name] ?? manifest.dependencies?.[name] ?? fallback;
}

export function validatePluginName(name: string | undefined): string {
  if (!name) throw new AnvilError(ErrorCodes.USAGE, `anvil plugin new needs a name, e.g. anvil plugin new weather\n${pluginHelp}`);
  if (!pluginIdPattern.test(name)) {
    throw new AnvilError(
      ErrorCodes.USAGE,
      `"${name}" is not a plugin name: use lowercase letters, digits, - or _, starting with a letter, at most 40 characters (e.g. weather or acme-crm)`,
    );
  }
  return name;
}

/** Every file of the scaffold, by path relative to its folder. */
export function scaffoldFiles(name: string, options: { anvil: string; tsx: string; typescript: string; typesNode: string; node: string }): Record<string, string> {
  const packageJson = {
    name: `anvil-plugin-${name}`,
    version: '0.1.0',
    description: `An Anvil plugin: ${name}`,
    type: 'module',
    private: true,
    exports: { '.': './index.ts' },
    engines: { node: options.node },
    scripts: {
      test: 'node --import tsx --test test/*.test.ts',
      typecheck: 'tsc --noEmit',
    },
    dependencies: { anvil: options.anvil },
    devDependencies: { '@types/node': options.typesNode, tsx: options.tsx, typescript: options.typescript },
  };
  const tsconfig = {
    compilerOptions: {
      target: 'ES2023',
      lib: ['ES2023'],
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      types: ['node'],
      strict: true,
      noUncheckedIndexedAccess: true,
      allowImportingTsExtensions: true,
      verbatimModuleSyntax: true,
      noEmit: true,
      skipLibCheck: true,
    },
    include: ['index.ts', 'test'],
  };
  const tool = `${name}_greet`;
  const index = `import { definePlugin, z } from 'anvil/plugin';

/**
 * The ${name} plugin. Anvil loads it from anvil.config.json, checks its versions, permissions and
 * configuration, then calls register once. Its tools are listed as ${name}_<tool name>.
 */
export default definePlugin({
  id: '${name}',
  version: '0.1.0',
  description: 'Greets people (a starting point: replace with your own tools).',
  requires: { anvil: '>=0.1.0' },
  // What the host may give this plugin: add 'sql' for ctx.sql, 'queue' for ctx.queue.
  permissions: [],
  // Validated against the "config" of this plugin's entry in anvil.config.json.
  config: z.object({ greeting: z.string().min(1).default('Hello') }),
  register(ctx) {
    ctx.tool({
      name: 'greet',
      title: 'Greet',
      description: 'Greets someone by name.',
      input: z.object({ name: z.string().min(1).describe('Who to greet') }),
      output: z.object({ message: z.string() }),
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      // Callers need this scope to see and call the tool (an API key with ${name}:read or *).
      scopes: ['${name}:read'],
      async handler({ name }, { log }) {
        log.debug({ name }, 'greeting');
        return { message: \`\${ctx.config.greeting}, \${name}!\` };
      },
    });
  },
});
`;
  const test = `import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestHost, flatten, type TestHost } from 'anvil/testing';
import plugin from '../index.ts';

describe('${name} plugin', () => {
  let host: TestHost;
  before(async () => {
    // A real Anvil (embedded database in a temp dir) with this plugin, and an MCP client holding *.
    host = await createTestHost({ plugins: [{ plugin, config: { greeting: 'Hi' } }] });
  });
  after(async () => host?.close());

  it('greets', async () => {
    const result = await host.call('${tool}', { name: 'Ada' });
    assert.equal(result.isError, false, result.text);
    assert.deepEqual(result.structured, { message: 'Hi, Ada!' });
  });

  it('rejects bad input with a clear error', async () => {
    const result = await host.call('${tool}', { name: '' });
    assert.equal(result.isError, true);
    assert.match(result.text, /^ANVIL_E_INVALID_INPUT/);
  });

  it('is hidden from, and refused to, a principal without ${name}:read', async () => {
    const client = await host.connect({ scopes: ['anvil:read'] });
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    assert.ok(!names.includes('${tool}'), names.join(', '));
    const refused = flatten(await client.callTool({ name: '${tool}', arguments: { name: 'Ada' } }));
    assert.equal(refused.isError, true);
    assert.match(refused.text, /^ANVIL_E_FORBIDDEN: ${tool} requires scope ${name}:read/);
  });
});
`;
  const readme = `# anvil-plugin-${name}

An Anvil plugin. It adds the tool \`${tool}\` (scope \`${name}:read\`) to an
Anvil server, for every MCP client connected to it.

## Develop

\`\`\`sh
npm install
npm test            # runs test/*.test.ts against a real in-process Anvil (createTestHost)
npx tsc             # typecheck (tsconfig.json has noEmit)
\`\`\`

\`index.ts\` describes the plugin with \`definePlugin\` from \`anvil/plugin\`: its id, version, the Anvil
versions and other plugins it requires, the permissions it needs (\`sql\`, \`queue\`, \`network\`,
\`subprocess\`), a zod schema for its configuration, and \`register(ctx)\`, where it adds tools
(\`ctx.tool\`), resources, prompts, SQL migrations and more. A tool named \`greet\` is listed as
\`${tool}\`: third-party tools always carry their plugin's id.

\`test/plugin.test.ts\` starts Anvil with the plugin through \`createTestHost\` from \`anvil/testing\`,
calls the tool through a real MCP client, and checks that a principal without the scope neither sees
nor can call it. \`host.connect({ project, scopes })\` gives more clients as other principals.

## Run it in Anvil

Add the plugin to the \`plugins\` list of the server's \`anvil.config.json\` (in \`ANVIL_HOME\`, or the file
given with \`--config\`). Relative paths are resolved from that file's folder; a package name is
resolved from there too (install it next to the config, or globally beside Anvil):

\`\`\`json
{
  "plugins": [
    { "module": "/abs/path/to/anvil-plugin-${name}/index.ts", "config": { "greeting": "Hello" }, "permissions": [] }
  ]
}
\`\`\`

or, once published and installed, \`"plugins": ["anvil-plugin-${name}"]\`. \`permissions\` in the
entry is what the operator grants: a plugin asking for more is refused. Add \`"strict": true\` to make
the server refuse to start when this plugin fails to load; otherwise it is left out and reported.

Then \`anvil serve\` and check it loaded:

\`\`\`sh
npx anvil serve                 # logs "plugins registered" with ${name}@0.1.0
\`\`\`

Call \`anvil_plugins_list\` from any client to see every plugin, its status and its tools; a key needs
\`${name}:read\` (or \`*\`) to call \`${tool}\`:
\`npx anvil keys create --project default --scopes anvil:read,${name}:read\`. Operators can switch the
plugin off per project with \`anvil_plugins_disable\`, or offer only some tools with
\`anvil serve --tools ${name}\` or a key's \`--tools\` allowlist.

## Publish

1. Give it a version (semver) in both \`package.json\` and \`definePlugin({ version })\`.
2. Remove \`"private": true\` from \`package.json\`.
3. Make \`anvil\` a peer dependency (\`"peerDependencies": { "anvil": "^0.1.0" }\`) so that the plugin
   uses the Anvil that loads it, and keep it in \`devDependencies\` for the tests.
4. \`npm publish\`. The package's \`exports\` point at \`index.ts\`: Anvil loads TypeScript plugins
   through tsx. To ship JavaScript instead, compile with \`tsc\` (drop \`noEmit\`) and point \`exports\`
   at the output.
`;
  const gitignore = 'node_modules/\n';
  return {
    'package.json': `${JSON.stringify(packageJson, null, 2)}\n`,
    'tsconfig.json': `${JSON.stringify(tsconfig, null, 2)}\n`,
    'index.ts': index,
    'test/plugin.test.ts': test,
    'README.md': readme,
    '.gitignore': gitignore,
  };
}

export async function pluginCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const [action, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: { dir: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help || action === undefined || action === 'help' || action === '--help' || action === '-h') {
    io.out(pluginHelp);
    return action === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (action !== 'new') throw new AnvilError(ErrorCodes.USAGE, `Unknown plugin action "${action}"\n${pluginHelp}`);
  if (positionals.length > 1) throw new AnvilError(ErrorCodes.USAGE, `anvil plugin new takes one name, got ${positionals.join(' ')}`);
  const name = validatePluginName(positionals[0]);
  const dir = path.resolve(io.cwd, values.dir ?? `anvil-plugin-${name}`);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new AnvilError(ErrorCodes.USAGE, `--dir: ${dir} exists and is not a directory`);
    if (readdirSync(dir).length > 0) throw new AnvilError(ErrorCodes.USAGE, `--dir: ${dir} is not empty; choose a new or empty directory`);
  }

  const { root, manifest } = anvilPackage();
  const files = scaffoldFiles(name, {
    anvil: anvilDependency(root, manifest),
    tsx: versionOf(manifest, 'tsx', '^4.0.0'),
    typescript: versionOf(manifest, 'typescript', '^5.9.0'),
    typesNode: versionOf(manifest, '@types/node', '^20.19.0'),
    node: manifest.engines?.node ?? '>=20.19',
  });
  for (const [relative, text] of Object.entries(files)) {
    const target = path.join(dir, relative);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, text, { flag: 'wx' });
  }
  io.err(`Created plugin "${name}" in ${dir}:`);
  for (const relative of Object.keys(files)) io.err(`  ${relative}`);
  const relative = path.relative(io.cwd, dir);
  io.err(`\nNext: cd ${relative === '' ? '.' : relative.startsWith('..') ? dir : relative} && npm install && npm test`);
  io.out(dir);
  return ExitCode.ok;
}
