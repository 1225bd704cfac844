/**
 * Plugins the host must refuse: each bad fixture (test/fixtures/plugins/) is loaded from a real
 * `plugins` config next to good ones, in one server. The server starts anyway; every bad plugin is
 * reported `failed` with exactly its stable code and a message naming it (both plugins for a
 * dependency problem), contributes no tools, and the good ones run. A `strict` entry that fails
 * stops the start with its code instead. Also: `orderPlugins` on its own.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { definePlugin, type PluginDescriptor, type PluginReport } from 'anvil/plugin';
import { createTestHost, type TestHost } from 'anvil/testing';
import { orderPlugins } from '../../plugins/host/validate.ts';
import { AnvilError, ErrorCodes } from '../../server/errors.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/plugins/${name}`, import.meta.url));
const missingModule = fixture('does-not-exist.ts');

interface Expected {
  /** The report's id: the plugin id, or what the entry named when no descriptor was read. */
  id: string;
  code: string;
  /** What the message must name (the plugin, and for dependency errors the other plugin too). */
  names: readonly string[];
}

const expectedFailures: readonly Expected[] = [
  { id: 'bad-api-version', code: 'ANVIL_E_PLUGIN_API_VERSION', names: ['bad-api-version', 'API 99'] },
  { id: 'needs-future-anvil', code: 'ANVIL_E_PLUGIN_ANVIL_VERSION', names: ['needs-future-anvil', '>=99'] },
  { id: 'missing-dependency', code: 'ANVIL_E_PLUGIN_MISSING_DEPENDENCY', names: ['missing-dependency', 'ghost'] },
  { id: 'needs-refused', code: 'ANVIL_E_PLUGIN_MISSING_DEPENDENCY', names: ['needs-refused', 'bad-api-version', 'failed to load'] },
  { id: 'wrong-dependency-version', code: 'ANVIL_E_PLUGIN_DEPENDENCY_VERSION', names: ['wrong-dependency-version', 'base-one', '^2.0.0', '1.0.0'] },
  { id: 'cycle-a', code: 'ANVIL_E_PLUGIN_DEPENDENCY_CYCLE', names: ['cycle-a', 'cycle-b'] },
  { id: 'cycle-b', code: 'ANVIL_E_PLUGIN_DEPENDENCY_CYCLE', names: ['cycle-b', 'cycle-a'] },
  { id: 'strict-config', code: 'ANVIL_E_PLUGIN_CONFIG', names: ['strict-config', 'endpoint', 'retries'] },
  { id: `base-one (${fixture('base-one.ts')})`, code: 'ANVIL_E_PLUGIN_DUPLICATE', names: ['base-one', 'twice'] },
  { id: 'same-tool-twice', code: 'ANVIL_E_PLUGIN_TOOL_CONFLICT', names: ['same-tool-twice', 'same-tool-twice_x'] },
  { id: 'register-throws', code: 'ANVIL_E_PLUGIN_REGISTER_FAILED', names: ['register-throws', 'the upstream API token is missing'] },
  { id: missingModule, code: 'ANVIL_E_PLUGIN_LOAD_FAILED', names: [missingModule] },
  { id: fixture('no-descriptor.ts'), code: 'ANVIL_E_PLUGIN_INVALID', names: [fixture('no-descriptor.ts'), 'definePlugin'] },
  { id: 'wants-sql', code: 'ANVIL_E_PLUGIN_PERMISSION', names: ['wants-sql', 'sql'] },
  { id: 'wants-admin', code: 'ANVIL_E_PLUGIN_PERMISSION', names: ['wants-admin', 'admin, redis', '"permissions": ["admin","redis"]'] },
  { id: 'builtin:no-such-builtin', code: 'ANVIL_E_PLUGIN_NOT_FOUND', names: ['no-such-builtin'] },
  { id: 'undeclared-sql', code: 'ANVIL_E_PLUGIN_PERMISSION', names: ['undeclared-sql', 'ctx.sql'] },
];

const entries: unknown[] = [
  fixture('base-one.ts'),
  { module: fixture('good-dependent.ts'), permissions: [] },
  fixture('bad-api-version.ts'),
  fixture('needs-future-anvil.ts'),
  fixture('missing-dependency.ts'),
  fixture('needs-refused.ts'),
  fixture('wrong-dependency-version.ts'),
  fixture('cycle-a.ts'),
  fixture('cycle-b.ts'),
  { module: fixture('strict-config.ts'), config: { endpoint: 'not a url', retries: 9 } },
  fixture('base-one.ts'),
  fixture('same-tool-twice.ts'),
  fixture('register-throws.ts'),
  missingModule,
  fixture('no-descriptor.ts'),
  { module: fixture('wants-sql.ts'), permissions: [] },
  fixture('wants-admin.ts'),
  { id: 'no-such-builtin' },
  fixture('undeclared-sql.ts'),
];

interface ListedPlugin {
  id: string;
  status: string;
  error: { code: string; message: string } | null;
  tools: string[];
}

describe('plugins the host refuses', () => {
  let host: TestHost;
  before(async () => {
    host = await createTestHost({ plugins: [], config: { plugins: entries } });
  });
  after(async () => host?.close());

  it('starts anyway, with the core and the good plugins active', async () => {
    const byId = new Map(host.server.plugins.reports.map((report) => [report.id, report]));
    for (const id of ['anvil', 'base-one', 'good-dependent']) assert.equal(byId.get(id)?.status, 'active', `${id}: ${JSON.stringify(byId.get(id))}`);
    const names = (await host.client.listTools()).tools.map((tool) => tool.name);
    assert.ok(names.includes('base-one_ping') && names.includes('good-dependent_echo') && names.includes('anvil_status'), names.join(', '));
    assert.deepEqual((await host.call('good-dependent_echo', { text: 'still here' })).structured, { text: 'still here' });
  });

  it('reports each bad plugin failed with exactly its code and a message naming it', () => {
    const reports = host.server.plugins.reports;
    const failed = reports.filter((report) => report.status === 'failed');
    assert.deepEqual(failed.map((report) => report.id).sort(), expectedFailures.map((expected) => expected.id).sort());
    for (const expected of expectedFailures) {
      const report = reports.find((candidate) => candidate.id === expected.id) as PluginReport;
      assert.equal(report.error?.code, expected.code, `${expected.id}: ${report.error?.message}`);
      for (const name of expected.names) assert.ok(report.error?.message.includes(name), `${expected.id}: "${report.error?.message}" should name ${name}`);
      assert.deepEqual(report.tools, [], `${expected.id} contributes no tools`);
    }
  });

  it('shows the same through anvil_plugins_list, and lists no tool of a failed plugin', async () => {
    const listed = await host.call('anvil_plugins_list');
    assert.equal(listed.isError, false, listed.text);
    const plugins = (listed.structured?.plugins ?? []) as ListedPlugin[];
    for (const expected of expectedFailures) {
      const plugin = plugins.find((candidate) => candidate.id === expected.id);
      assert.equal(plugin?.status, 'failed', expected.id);
      assert.equal(plugin?.error?.code, expected.code, expected.id);
    }
    assert.deepEqual(
      plugins.filter((plugin) => plugin.status === 'active').map((plugin) => plugin.id),
      ['anvil', 'jobs', 'datasets', 'models', 'training', 'evaluation', 'deployments', 'kb', 'approvals', 'payments', 'dashboard', 'base-one', 'good-dependent'],
    );
    const names = (await host.client.listTools()).tools.map((tool) => tool.name);
    for (const prefix of ['same-tool-twice_', 'register-throws_', 'undeclared-sql_']) {
      assert.ok(!names.some((name) => name.startsWith(prefix)), `${prefix}*: ${names.join(', ')}`);
    }
  });
});

describe('strict entries', () => {
  const cases: ReadonlyArray<{ what: string; entries: unknown[]; code: string }> = [
    { what: 'a descriptor check', entries: [{ module: fixture('bad-api-version.ts'), strict: true }], code: ErrorCodes.PLUGIN_API_VERSION },
    { what: 'a dependency check', entries: [fixture('base-one.ts'), { module: fixture('wrong-dependency-version.ts'), strict: true }], code: ErrorCodes.PLUGIN_DEPENDENCY_VERSION },
    { what: 'register', entries: [{ module: fixture('register-throws.ts'), strict: true }], code: ErrorCodes.PLUGIN_REGISTER_FAILED },
    { what: 'loading', entries: [{ module: missingModule, strict: true }], code: ErrorCodes.PLUGIN_LOAD_FAILED },
    { what: 'an unknown built-in', entries: [{ id: 'no-such-builtin', strict: true }], code: ErrorCodes.PLUGIN_NOT_FOUND },
  ];
  for (const { what, entries: strictEntries, code } of cases) {
    it(`stop the start when ${what} fails, with ${code}`, async () => {
      await assert.rejects(createTestHost({ plugins: [], config: { plugins: strictEntries } }), (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.equal((error as { code?: unknown }).code, code, error.message);
        return true;
      });
    });
  }

  it('do not stop the start when another, non-strict entry fails', async () => {
    const host = await createTestHost({ plugins: [], config: { plugins: [{ module: fixture('base-one.ts'), strict: true }, fixture('register-throws.ts')] } });
    try {
      const byId = new Map(host.server.plugins.reports.map((report) => [report.id, report.status]));
      assert.equal(byId.get('base-one'), 'active');
      assert.equal(byId.get('register-throws'), 'failed');
    } finally {
      await host.close();
    }
  });
});

describe('orderPlugins', () => {
  const plugin = (id: string, version = '1.0.0', plugins: Record<string, string> = {}): PluginDescriptor =>
    definePlugin({ id, version, requires: { plugins }, register() {} });
  const ids = (order: readonly PluginDescriptor[]) => order.map((descriptor) => descriptor.id);

  it('puts dependencies first and otherwise keeps the configured order', () => {
    const { order, refused } = orderPlugins([
      plugin('app', '1.0.0', { db: '^2.0.0', log: '*' }),
      plugin('x'),
      plugin('db', '2.3.0', { log: '>=1' }),
      plugin('log', '1.5.0'),
      plugin('y'),
    ]);
    assert.deepEqual(refused.size, 0);
    assert.deepEqual(ids(order), ['x', 'log', 'db', 'app', 'y']);
  });

  it('names every plugin of a cycle, in order, and refuses what depends on it', () => {
    const { order, refused } = orderPlugins([plugin('ok'), plugin('user', '1.0.0', { a: '*' }), plugin('a', '1.0.0', { b: '*' }), plugin('b', '1.0.0', { c: '*' }), plugin('c', '1.0.0', { a: '*' })]);
    assert.deepEqual(ids(order), ['ok']);
    assert.deepEqual([...refused.keys()].sort(), ['a', 'b', 'c', 'user']);
    for (const [id, error] of refused) {
      assert.equal(error.code, ErrorCodes.PLUGIN_DEPENDENCY_CYCLE, id);
      assert.ok(error.message.includes(`Plugin ${id} `), error.message);
      assert.match(error.message, /a -> b -> c -> a$/);
    }
  });

  it('names a cycle of two from either side', () => {
    const { order, refused } = orderPlugins([plugin('p', '1.0.0', { q: '*' }), plugin('q', '1.0.0', { p: '*' })]);
    assert.deepEqual(order, []);
    assert.match(refused.get('p')?.message ?? '', /Plugin p .*p -> q -> p$/);
    assert.match(refused.get('q')?.message ?? '', /Plugin q .*p -> q -> p$/);
  });

  it('refuses a missing dependency, a wrong version, and a dependent of a refused plugin, naming both', () => {
    const earlier = new Map([['broken', new AnvilError(ErrorCodes.PLUGIN_CONFIG, 'Invalid config for plugin broken: token: required')]]);
    const { order, refused } = orderPlugins(
      [
        plugin('lib', '1.4.0'),
        plugin('needs-ghost', '1.0.0', { ghost: '^1.0.0' }),
        plugin('needs-lib2', '1.0.0', { lib: '^2.0.0' }),
        plugin('needs-broken', '1.0.0', { broken: '*' }),
        plugin('needs-needs-ghost', '1.0.0', { 'needs-ghost': '*' }),
      ],
      earlier,
    );
    assert.deepEqual(ids(order), ['lib']);
    const codeAndMessage = (id: string) => [refused.get(id)?.code, refused.get(id)?.message];
    assert.deepEqual(codeAndMessage('needs-ghost'), [
      ErrorCodes.PLUGIN_MISSING_DEPENDENCY,
      'Plugin needs-ghost requires plugin ghost (^1.0.0), which is not installed; add it to "plugins" in anvil.config.json',
    ]);
    assert.deepEqual(codeAndMessage('needs-lib2'), [ErrorCodes.PLUGIN_DEPENDENCY_VERSION, 'Plugin needs-lib2 requires plugin lib ^2.0.0, but lib@1.4.0 is installed']);
    assert.equal(refused.get('needs-broken')?.code, ErrorCodes.PLUGIN_MISSING_DEPENDENCY);
    assert.match(refused.get('needs-broken')?.message ?? '', /^Plugin needs-broken requires plugin broken, which failed to load: Invalid config for plugin broken/);
    assert.equal(refused.get('needs-needs-ghost')?.code, ErrorCodes.PLUGIN_MISSING_DEPENDENCY);
    assert.match(refused.get('needs-needs-ghost')?.message ?? '', /needs-needs-ghost requires plugin needs-ghost, which failed to load/);
    assert.equal(refused.get('broken'), earlier.get('broken'), 'what was refused before stays refused as it was');
  });
});
