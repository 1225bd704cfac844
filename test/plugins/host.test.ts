import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { definePlugin, z } from 'anvil/plugin';
import { createTestHost, flatten, type TestHost } from 'anvil/testing';

const base = definePlugin({
  id: 'base',
  version: '1.2.0',
  description: 'Exposes a counter service to its dependents.',
  register(ctx) {
    let count = 0;
    ctx.tool({
      name: 'count',
      description: 'Counts calls.',
      input: z.object({}),
      output: z.object({ count: z.number() }),
      scopes: ['base:read'],
      async handler() {
        count += 1;
        return { count };
      },
    });
    return { next: () => ++count };
  },
});

const dependent = definePlugin({
  id: 'dependent',
  version: '0.1.0',
  requires: { anvil: '>=0.1.0', plugins: { base: '^1.0.0' } },
  config: z.object({ greeting: z.string().default('hello') }),
  register(ctx) {
    const counter = ctx.use(base);
    ctx.tool({
      name: 'greet',
      description: 'Greets, numbering each greeting with the base plugin counter.',
      input: z.object({ name: z.string().min(1) }),
      output: z.object({ message: z.string() }),
      async handler({ name }) {
        return { message: `${ctx.config.greeting} ${name} #${counter.next()}` };
      },
    });
  },
});

describe('plugin host through the test harness', () => {
  let host: TestHost;
  before(async () => {
    host = await createTestHost({ plugins: [{ plugin: dependent, config: { greeting: 'hi' } }, base] });
  });
  after(async () => host?.close());

  it('namespaces third-party tools and orders dependencies before dependents', async () => {
    const { tools } = await host.client.listTools();
    const names = tools.map((tool) => tool.name);
    assert.ok(names.includes('base_count') && names.includes('dependent_greet'), names.join(', '));
    const greeting = await host.call('dependent_greet', { name: 'Ada' });
    assert.deepEqual(greeting.structured, { message: 'hi Ada #1' });
    assert.deepEqual((await host.call('base_count')).structured, { count: 2 });
  });

  it('shows a principal only the tools it may call, and refuses the others naming the scope', async () => {
    const narrow = await host.connect({ project: 'default', scopes: ['anvil:read'] });
    const names = (await narrow.listTools()).tools.map((tool) => tool.name);
    assert.ok(!names.includes('base_count'), names.join(', '));
    assert.ok(names.includes('dependent_greet') && names.includes('anvil_status'), names.join(', '));
    const refused = flatten(await narrow.callTool({ name: 'base_count', arguments: {} }));
    assert.equal(refused.isError, true);
    assert.match(refused.text, /^ANVIL_E_FORBIDDEN: base_count requires scope base:read/);
  });

  it('switches a plugin off for one project only, at run time', async () => {
    const other = await host.connect({ project: 'other', scopes: ['*'] });
    const off = await host.call('anvil_plugins_disable', { plugin: 'dependent' });
    assert.equal(off.isError, false, off.text);
    const names = (await host.client.listTools()).tools.map((tool) => tool.name);
    assert.ok(!names.includes('dependent_greet'), names.join(', '));
    const refused = await host.call('dependent_greet', { name: 'Ada' });
    assert.match(refused.text, /^ANVIL_E_TOOL_UNAVAILABLE: plugin dependent is switched off for project default/);
    const elsewhere = flatten(await other.callTool({ name: 'dependent_greet', arguments: { name: 'Bo' } }));
    assert.equal(elsewhere.isError, false, elsewhere.text);
    const listed = await host.call('anvil_plugins_list');
    const plugins = (listed.structured?.plugins ?? []) as Array<{ id: string; enabledForProject: boolean; status: string }>;
    assert.deepEqual(
      plugins.map((plugin) => [plugin.id, plugin.status, plugin.enabledForProject]),
      [
        ['anvil', 'active', true],
        ['base', 'active', true],
        ['dependent', 'active', false],
      ],
    );
    assert.equal((await host.call('anvil_plugins_enable', { plugin: 'dependent' })).isError, false);
    assert.equal((await host.call('dependent_greet', { name: 'Ada' })).isError, false);
  });
});
