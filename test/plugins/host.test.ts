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
        // The built-in skills, always loaded.
        ['jobs', 'active', true],
        ['datasets', 'active', true],
        ['models', 'active', true],
        ['training', 'active', true],
        ['evaluation', 'active', true],
        ['deployments', 'active', true],
        ['kb', 'active', true],
        ['approvals', 'active', true],
        ['payments', 'active', true],
        ['dashboard', 'active', true],
        ['base', 'active', true],
        ['dependent', 'active', false],
      ],
    );
    assert.equal((await host.call('anvil_plugins_enable', { plugin: 'dependent' })).isError, false);
    assert.equal((await host.call('dependent_greet', { name: 'Ada' })).isError, false);
  });
});

const guard = definePlugin({
  id: 'guard',
  version: '1.0.0',
  description: 'A policy plugin: denies one tool for one project, asks approval for large amounts, redacts card numbers.',
  register(ctx) {
    ctx.tool({
      name: 'card',
      description: 'Returns a card number (to be redacted by the after hook).',
      input: z.object({ amount: z.number().default(1) }),
      output: z.object({ card: z.string(), amount: z.number() }),
      async handler({ amount }) {
        return { card: '4242424242424242', amount };
      },
    });
    ctx.beforeTool((call) => {
      if (call.tool === 'base_count' && call.principal.project === 'locked') return { action: 'deny', reason: 'base_count is locked for this project' };
      if (call.tool === 'guard_card' && Number(call.args.amount) > 100) return { action: 'require-approval', reason: 'amounts over 100 need an approval' };
      return undefined;
    });
    ctx.afterTool((call, result) => {
      if (call.tool !== 'guard_card') return undefined;
      const text = JSON.stringify(result).replace(/\d{12}(\d{4})/g, '************$1');
      return JSON.parse(text) as typeof result;
    });
  },
});

describe('policy hooks', () => {
  let host: TestHost;
  before(async () => {
    host = await createTestHost({ plugins: [base, guard] });
  });
  after(async () => host?.close());

  it('tool.before denies, and the refusal is audited as denied', async () => {
    const locked = await host.connect({ project: 'locked', scopes: ['*'] });
    const refused = flatten(await locked.callTool({ name: 'base_count', arguments: {} }));
    assert.equal(refused.isError, true);
    assert.equal(refused.text, 'ANVIL_E_POLICY_DENIED: base_count is locked for this project');
    assert.equal((await host.call('base_count')).isError, false, 'other projects are not affected');
    await host.server.runtime.audit.flush();
    const { rows } = await host.server.runtime.services.storage.query<{ outcome: string; error_code: string }>(
      "select outcome, error_code from anvil.audit_log where tool = 'base_count' and project_id = 'locked'",
    );
    assert.deepEqual(rows, [{ outcome: 'denied', error_code: 'ANVIL_E_POLICY_DENIED' }]);
  });

  it('tool.before can require an approval', async () => {
    const refused = await host.call('guard_card', { amount: 500 });
    assert.match(refused.text, /^ANVIL_E_APPROVAL_REQUIRED: amounts over 100 need an approval/);
  });

  it('tool.after redacts the result', async () => {
    const result = await host.call('guard_card', { amount: 5 });
    assert.equal(result.isError, false, result.text);
    assert.deepEqual(result.structured, { card: '************4242', amount: 5 });
    assert.doesNotMatch(result.text, /4242424242424242/);
  });
});
