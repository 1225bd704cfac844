/**
 * Which tools a caller gets, end to end over HTTP with the 1.x SDK client against real
 * `anvil serve` processes: a key's tool allowlist (`anvil keys create --tools`, stored in
 * `api_keys.tools`) and a server's tool profile (`anvil serve --tools`), alone and together.
 * Both hide tools from tools/list and refuse calls with ANVIL_E_TOOL_UNAVAILABLE, whatever the
 * caller's scopes; the profile never hides the core anvil_* tools, an allowlist can.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { type AnvilServerProcess, type CreatedKey, createHome, isRecord, runCli, startAnvil, type TempHome, withHttpSession } from '../support/anvil-process.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/plugins/${name}`, import.meta.url));
/** The example plugin for authors (plugin id `hello`, tool `hello_greet`). */
const helloModule = fileURLToPath(new URL('../../plugins/examples/hello/index.ts', import.meta.url));

interface ListedPlugin {
  id: string;
  status: string;
  tools: string[];
}

const sorted = (names: readonly string[]) => [...names].sort();

async function listTools(server: AnvilServerProcess, key: CreatedKey): Promise<string[]> {
  return withHttpSession('sdk1', server.mcpUrl, { key: key.key }, async (session) => sorted(await session.listTools()));
}

/** Each plugin's tools as the server reports them (anvil_plugins_list), by plugin id. */
async function pluginTools(server: AnvilServerProcess, key: CreatedKey): Promise<Map<string, string[]>> {
  return withHttpSession('sdk1', server.mcpUrl, { key: key.key }, async (session) => {
    const listed = await session.callTool('anvil_plugins_list');
    assert.equal(listed.isError, false, listed.text);
    const plugins = (listed.structured?.plugins ?? []) as ListedPlugin[];
    for (const plugin of plugins) assert.equal(plugin.status, 'active', JSON.stringify(plugin));
    return new Map(plugins.map((plugin) => [plugin.id, plugin.tools]));
  });
}

async function keyWithTools(server: AnvilServerProcess, scopes: string, tools: string, name: string): Promise<CreatedKey & { tools: unknown }> {
  const result = await server.cli(['keys', 'create', '--project', 'default', '--scopes', scopes, '--tools', tools, '--name', name, '--json']);
  assert.equal(result.code, 0, result.stderr);
  const parsed: unknown = JSON.parse(result.stdout);
  assert.ok(isRecord(parsed), result.stdout);
  return { id: String(parsed.id), key: String(parsed.key), project: String(parsed.project), scopes: (parsed.scopes as unknown[]).map(String), tools: parsed.tools };
}

describe('tool allowlists on keys and tool profiles on servers', () => {
  let homes: TempHome[] = [];
  let open: AnvilServerProcess; // no profile
  let profiled: AnvilServerProcess; // --tools hello
  let everything: CreatedKey;
  let whoamiOnly: CreatedKey & { tools: unknown };
  let mixed: CreatedKey & { tools: unknown };
  let profiledEverything: CreatedKey;
  let coreTools: string[];
  let helloTools: string[];
  let otherTools: string[];

  before(async () => {
    homes = await Promise.all([createHome(), createHome()]);
    for (const { home } of homes) {
      writeFileSync(path.join(home, 'anvil.config.json'), JSON.stringify({ plugins: [helloModule, fixture('other.ts')] }));
    }
    const [first, second] = homes as [TempHome, TempHome];
    [open, profiled] = await Promise.all([startAnvil({ home: first.home }), startAnvil({ home: second.home, args: ['--tools', 'hello'] })]);
    everything = await open.createKey('default', '*', 'everything');
    whoamiOnly = await keyWithTools(open, '*', 'anvil_whoami', 'whoami-only');
    mixed = await keyWithTools(open, '*', 'hello, other_o*,anvil_status', 'mixed');
    profiledEverything = await profiled.createKey('default', '*', 'everything');
    const tools = await pluginTools(open, everything);
    coreTools = sorted(tools.get('anvil') ?? []);
    helloTools = sorted(tools.get('hello') ?? []);
    otherTools = sorted(tools.get('other') ?? []);
  });

  after(async () => {
    await Promise.all([open?.dispose(), profiled?.dispose()]);
    for (const home of homes) home.remove();
  });

  it('the plugins loaded, each with tools', () => {
    assert.ok(coreTools.includes('anvil_whoami') && coreTools.includes('anvil_status'), coreTools.join(', '));
    assert.ok(helloTools.length > 0 && helloTools.every((name) => name.startsWith('hello_')), helloTools.join(', '));
    assert.deepEqual(otherTools, ['other_one', 'other_two']);
  });

  it('keys create --tools stores the allowlist; keys list shows it (TOOLS, all when unset; tools in --json)', async () => {
    assert.deepEqual(whoamiOnly.tools, ['anvil_whoami']);
    assert.deepEqual(mixed.tools, ['hello', 'other_o*', 'anvil_status']);
    const listed = await open.cli(['keys', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const keys = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    const toolsById = new Map(keys.map((key) => [key.id, key.tools]));
    assert.deepEqual(toolsById.get(everything.id), null);
    assert.deepEqual(toolsById.get(whoamiOnly.id), ['anvil_whoami']);
    assert.deepEqual(toolsById.get(mixed.id), ['hello', 'other_o*', 'anvil_status']);

    const table = await open.cli(['keys', 'list']);
    assert.equal(table.code, 0, table.stderr);
    const [header, ...rows] = table.stdout.trimEnd().split('\n') as [string, ...string[]];
    assert.match(header, /^ID\s+PROJECT\s+NAME\s+SCOPES\s+TOOLS\s+CREATED/);
    const rowOf = (id: string) => rows.find((row) => row.startsWith(id)) ?? '';
    assert.match(rowOf(everything.id), /\* +all +\d{4}-/);
    assert.match(rowOf(whoamiOnly.id), /\* +anvil_whoami +\d{4}-/);
    assert.match(rowOf(mixed.id), /\* +hello,other_o\*,anvil_status +\d{4}-/);
  });

  it('keys create refuses a bad --tools item with a usage error naming --tools', async () => {
    // Refused before any storage is opened, so these may run side by side.
    const attempts = ['anvil_status,bad name', 'jobs_*_x*', ' , '];
    const results = await Promise.all(attempts.map((tools) => runCli(['keys', 'create', '--project', 'default', '--scopes', '*', '--tools', tools], open.env)));
    results.forEach((result, index) => {
      assert.equal(result.code, 2, `${attempts[index]}: ${result.stderr}`);
      assert.match(result.stderr, /^ANVIL_E_USAGE: --tools: /, attempts[index]);
      assert.equal(result.stdout, '');
    });
    assert.match(results[0]?.stderr ?? '', /"bad name" is not a tool name or prefix/);
  });

  it('a key limited to anvil_whoami lists only it and is refused anvil_status although it holds *', async () => {
    assert.deepEqual(await listTools(open, whoamiOnly), ['anvil_whoami']);
    await withHttpSession('sdk1', open.mcpUrl, { key: whoamiOnly.key }, async (session) => {
      const whoami = await session.callTool('anvil_whoami');
      assert.equal(whoami.isError, false, whoami.text);
      assert.equal(whoami.structured?.principal, `key:${whoamiOnly.id}`);
      assert.deepEqual(whoami.structured?.scopes, ['*']);
      const status = await session.callTool('anvil_status');
      assert.equal(status.isError, true);
      assert.equal(status.text, "ANVIL_E_TOOL_UNAVAILABLE: anvil_status is outside this API key's tool allowlist (anvil_whoami)");
      const greet = await session.callTool(helloTools[0] as string, { name: 'Ada' });
      assert.match(greet.text, /^ANVIL_E_TOOL_UNAVAILABLE: hello_\S+ is outside this API key's tool allowlist/);
    });
  });

  it('an allowlist matches names, plugin ids and prefixes', async () => {
    assert.deepEqual(await listTools(open, mixed), sorted(['anvil_status', ...helloTools, 'other_one']));
    await withHttpSession('sdk1', open.mcpUrl, { key: mixed.key }, async (session) => {
      assert.deepEqual((await session.callTool('other_one')).structured, { answer: 'one' });
      assert.match((await session.callTool('other_two')).text, /^ANVIL_E_TOOL_UNAVAILABLE: other_two is outside this API key's tool allowlist/);
    });
  });

  it('a key without an allowlist gets every tool', async () => {
    const loaded = [...(await pluginTools(open, everything)).values()].flat();
    for (const tool of [...coreTools, ...helloTools, ...otherTools, 'jobs_submit', 'datasets_import', 'models_get']) assert.ok(loaded.includes(tool), tool);
    assert.deepEqual(await listTools(open, everything), sorted(loaded));
  });

  it('anvil serve --tools hello offers the core tools and hello\'s only', async () => {
    const loaded = await pluginTools(profiled, profiledEverything);
    assert.deepEqual(sorted(loaded.get('other') ?? []), otherTools, 'other is loaded, only not offered');
    assert.deepEqual(await listTools(profiled, profiledEverything), sorted([...coreTools, ...helloTools]));
    await withHttpSession('sdk1', profiled.mcpUrl, { key: profiledEverything.key }, async (session) => {
      const refused = await session.callTool('other_one');
      assert.equal(refused.isError, true);
      assert.equal(refused.text, "ANVIL_E_TOOL_UNAVAILABLE: other_one is outside this server's tool profile (hello)");
    });
  });

  it('a profile and an allowlist apply together', async () => {
    const narrow = await keyWithTools(profiled, '*', 'other_*,anvil_whoami', 'narrow');
    assert.deepEqual(await listTools(profiled, narrow), ['anvil_whoami']);
  });
});
