/**
 * The model registry on a real embedded server (PGlite): the plugin is loaded as the built-in it is
 * (`{"id": "models"}`), so its tools are models_* and its registry comes from exportsOf.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestHost, flatten, type TestHost } from 'anvil/testing';
import { isAnvilError } from 'anvil/plugin';
import { modelsPlugin } from '../../tools/models/index.ts';
import type { ModelRegistry, RegisterVersionInput } from '../../tools/models/registry.ts';

const SHA = (digit: string) => digit.repeat(64);

function registration(name: string, overrides: Partial<RegisterVersionInput> = {}): RegisterVersionInput {
  return {
    name,
    description: 'Routes support messages to the right team.',
    task: 'text-classification',
    recipe: 'text-classifier-finetune',
    metrics: { accuracy: 0.9123, macroF1: 0.8765, threshold: 0.42 },
    signature: { inputs: [{ name: 'text', type: 'string' }], outputs: [{ name: 'label', type: 'string' }], labels: ['billing', 'refund', 'shipping', 'oos'] },
    lineage: { dataset: { name: 'support-intents', version: 3, sha256: SHA('a') }, jobId: null, codeVersion: 'git:abc123', params: { epochs: 3, lr: 0.00002 } },
    artifacts: [{ name: 'model.onnx', sha256: SHA('b'), size: 4_200_000, mediaType: 'application/onnx' }],
    createdBy: 'local:test',
    ...overrides,
  };
}

async function rejectsWith(promise: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isAnvilError(error), `expected an AnvilError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

let host: TestHost;
let registry: ModelRegistry;

before(async () => {
  host = await createTestHost({ plugins: [] });
  const exported = host.server.plugins.exportsOf(modelsPlugin);
  if (!exported) throw new Error('the models plugin is not active');
  registry = exported.registry();
});
after(() => host?.close());

describe('registration', () => {
  it('gives concurrent registrations of one model the versions 1..N without gaps', async () => {
    const count = 16;
    const results = await Promise.all(Array.from({ length: count }, (_, i) => registry.registerVersion('default', registration('concurrent', { lineage: { jobId: `job-${i}`, params: {} } }))));
    assert.deepEqual(
      results.map((result) => result.version).sort((a, b) => a - b),
      Array.from({ length: count }, (_, i) => i + 1),
    );
    assert.ok(results.every((result) => result.created && result.name === 'concurrent'));
    const page = await registry.list('default', { name: 'concurrent', limit: 100 });
    assert.equal(page.versions?.length, count);
    assert.equal(page.models[0]?.latestVersion, count);
    assert.equal(page.models[0]?.versionCount, count);
  });

  it('is idempotent on the training job: the same job registers one version, even concurrently', async () => {
    const first = await registry.registerVersion('default', registration('idem', { lineage: { jobId: 'job-A', params: {} } }));
    assert.deepEqual(first, { name: 'idem', version: 1, created: true });
    const again = await registry.registerVersion('default', registration('idem', { lineage: { jobId: 'job-A', params: { different: true } }, metrics: { accuracy: 0.1 } }));
    assert.deepEqual(again, { name: 'idem', version: 1, created: false });

    const racing = await Promise.all(Array.from({ length: 5 }, () => registry.registerVersion('default', registration('idem', { lineage: { jobId: 'job-B', params: {} } }))));
    assert.deepEqual(new Set(racing.map((result) => result.version)), new Set([2]));
    assert.equal(racing.filter((result) => result.created).length, 1);

    // Without a job id every registration is a new version; another project numbers from 1.
    assert.equal((await registry.registerVersion('default', registration('idem'))).version, 3);
    assert.equal((await registry.registerVersion('other', registration('idem', { lineage: { jobId: 'job-A', params: {} } }))).version, 1);
  });

  it('refuses a bad registration naming the fields, before any SQL', async () => {
    await rejectsWith(
      registry.registerVersion('default', registration('bad', { signature: { inputs: [], outputs: [], labels: [] } })),
      'ANVIL_E_INVALID_INPUT',
      /signature\.labels/,
    );
    await rejectsWith(registry.registerVersion('default', registration('has/slash')), 'ANVIL_E_INVALID_INPUT', /name/);
    await rejectsWith(
      registry.registerVersion('default', registration('bad', { artifacts: [{ name: 'm', sha256: 'nothex', size: 1, mediaType: 'x' }] })),
      'ANVIL_E_INVALID_INPUT',
      /artifacts\.0\.sha256/,
    );
    await rejectsWith(registry.model('default', 'bad'), 'ANVIL_E_NOT_FOUND');
  });

  it('stores a model card generated from the record', async () => {
    const { version } = await registry.registerVersion('default', registration('carded', { lineage: { dataset: { name: 'support-intents', version: 3, sha256: SHA('a') }, jobId: 'job-card', codeVersion: 'git:abc123', params: { epochs: 3 } } }));
    const record = await registry.resolve('default', 'carded', version);
    const card = record.cardMd;
    assert.match(card, /^# carded — version 1/);
    assert.match(card, /Routes support messages/);
    assert.match(card, /\| Task \| text-classification \|/);
    assert.match(card, /4 labels: `billing`, `refund`, `shipping`, `oos`\./);
    assert.match(card, /\| accuracy \| 0\.9123 \|/);
    assert.match(card, /\| support-intents \| 3 \| a{64} \|/);
    assert.match(card, /\| epochs \| 3 \|/);
    assert.match(card, /\| model\.onnx \| application\/onnx \| 4\.0 MiB \| b{64} \|/);
    assert.match(card, /below 0\.42, the prediction should be treated as out of scope/);
    assert.match(card, /job-card/);
  });
});

describe('aliases', () => {
  before(async () => {
    for (const jobId of ['a1', 'a2', 'a3']) await registry.registerVersion('default', registration('aliased', { lineage: { jobId, params: {} } }));
  });

  it('sets, moves and clears an alias, recording each change', async () => {
    assert.deepEqual(await registry.setAlias('default', 'aliased', 'champion', 1, 'local:alice', 'first model'), { alias: 'champion', version: 1, previous: null, action: 'set' });
    assert.deepEqual(await registry.setAlias('default', 'aliased', 'champion', 2, 'local:bob', 'better macro F1'), { alias: 'champion', version: 2, previous: 1, action: 'move' });
    assert.deepEqual(await registry.setAlias('default', 'aliased', 'champion', 2, 'local:bob'), { alias: 'champion', version: 2, previous: 2, action: 'unchanged' });
    assert.deepEqual(await registry.setAlias('default', 'aliased', 'challenger', 3, 'local:bob'), { alias: 'challenger', version: 3, previous: null, action: 'set' });
    assert.equal((await registry.resolve('default', 'aliased', 'champion')).version, 2);
    assert.equal((await registry.resolve('default', 'aliased', 'challenger')).version, 3);
    assert.equal((await registry.resolve('default', 'aliased')).version, 3, 'latest by default');

    assert.deepEqual(await registry.setAlias('default', 'aliased', 'challenger', null, 'local:carol', 'retired'), { alias: 'challenger', version: null, previous: 3, action: 'clear' });
    assert.deepEqual(await registry.setAlias('default', 'aliased', 'challenger', null, 'local:carol'), { alias: 'challenger', version: null, previous: null, action: 'unchanged' });
    await rejectsWith(registry.resolve('default', 'aliased', 'challenger'), 'ANVIL_E_NOT_FOUND', /no alias "challenger"/);

    const history = await registry.aliasHistory('default', 'aliased');
    assert.deepEqual(
      history.map(({ alias, action, fromVersion, toVersion, by, reason }) => ({ alias, action, fromVersion, toVersion, by, reason })),
      [
        { alias: 'challenger', action: 'clear', fromVersion: 3, toVersion: null, by: 'local:carol', reason: 'retired' },
        { alias: 'challenger', action: 'set', fromVersion: null, toVersion: 3, by: 'local:bob', reason: null },
        { alias: 'champion', action: 'move', fromVersion: 1, toVersion: 2, by: 'local:bob', reason: 'better macro F1' },
        { alias: 'champion', action: 'set', fromVersion: null, toVersion: 1, by: 'local:alice', reason: 'first model' },
      ],
    );
    assert.equal((await registry.aliasHistory('default', 'aliased', { alias: 'champion' })).length, 2);
    assert.ok(history.every((change) => !Number.isNaN(Date.parse(change.at))));
  });

  it('refuses an alias at a version that does not exist, and bad alias names naming the field', async () => {
    await rejectsWith(registry.setAlias('default', 'aliased', 'champion', 99, 'local:bob'), 'ANVIL_E_NOT_FOUND', /no version 99/);
    await rejectsWith(registry.setAlias('default', 'aliased', 'Champion', 1, 'local:bob'), 'ANVIL_E_INVALID_INPUT', /^alias: /);
    await rejectsWith(registry.setAlias('default', 'aliased', 'latest', 1, 'local:bob'), 'ANVIL_E_INVALID_INPUT', /reserved/);
    await rejectsWith(registry.setAlias('default', 'missing', 'champion', 1, 'local:bob'), 'ANVIL_E_NOT_FOUND', /No model "missing"/);
  });
});

describe('tools and resources', () => {
  before(async () => {
    await registry.registerVersion('default', registration('intents', { lineage: { jobId: 't1', params: {} } }));
    await registry.registerVersion('default', registration('intents', { lineage: { jobId: 't2', params: {} }, metrics: { accuracy: 0.95 }, signature: { inputs: [{ name: 'text', type: 'string' }], outputs: [], labels: ['a', 'b'], threshold: 0.3 } }));
  });

  it('models_set_alias and models_get by alias', async () => {
    const set = await host.call('models_set_alias', { name: 'intents', alias: 'champion', version: 1, reason: 'baseline' });
    assert.equal(set.isError, false, set.text);
    assert.deepEqual(set.structured, { alias: 'champion', version: 1, previous: null, action: 'set' });

    const byAlias = await host.call('models_get', { name: 'intents', version: 'champion' });
    assert.equal(byAlias.isError, false, byAlias.text);
    const got = byAlias.structured as { version: number; aliases: string[]; card: string; cardUri: string; model: { latestVersion: number; aliases: Record<string, number> }; lineage: { jobId: string } };
    assert.equal(got.version, 1);
    assert.deepEqual(got.aliases, ['champion']);
    assert.equal(got.lineage.jobId, 't1');
    assert.equal(got.model.latestVersion, 2);
    assert.deepEqual(got.model.aliases, { champion: 1 });
    assert.match(got.card, /^# intents — version 1/);
    assert.equal(got.cardUri, 'anvil://models/intents/1/card');

    const latest = await host.call('models_get', { name: 'intents' });
    assert.equal((latest.structured as { version: number }).version, 2);
    const byNumber = await host.call('models_get', { name: 'intents', version: 1 });
    assert.equal((byNumber.structured as { version: number }).version, 1);
  });

  it('models_set_alias names the alias field when the name is bad', async () => {
    const bad = await host.call('models_set_alias', { name: 'intents', alias: 'Not An Alias', version: 1 });
    assert.equal(bad.isError, true);
    assert.match(bad.text, /^ANVIL_E_INVALID_INPUT/);
    assert.match(bad.text, /alias: /);
    const missing = await host.call('models_get', { name: 'intents', version: 'nope' });
    assert.match(missing.text, /^ANVIL_E_NOT_FOUND.*no alias "nope"/);
  });

  it('serves the model card as a Markdown resource, by number, alias or latest', async () => {
    const byAlias = await host.client.readResource({ uri: 'anvil://models/intents/champion/card' });
    const content = byAlias.contents[0] as { mimeType?: string; text?: string; uri: string };
    assert.equal(content.mimeType, 'text/markdown');
    assert.match(content.text ?? '', /^# intents — version 1/);
    assert.match(content.text ?? '', /below 0\.42/);

    const latest = await host.client.readResource({ uri: 'anvil://models/intents/latest/card' });
    const text = (latest.contents[0] as { text?: string }).text ?? '';
    assert.match(text, /^# intents — version 2/);
    assert.match(text, /below 0\.3,/, 'the signature threshold wins');
    assert.match(text, /2 labels: `a`, `b`\./);

    const templates = await host.client.listResourceTemplates();
    assert.ok(templates.resourceTemplates.some((template) => template.uriTemplate === 'anvil://models/{name}/{version}/card'));
  });

  it('models_list pages through models and versions', async () => {
    const first = await host.call('models_list', { limit: 2 });
    assert.equal(first.isError, false, first.text);
    const page1 = first.structured as { models: Array<{ name: string }>; nextCursor: string | null };
    assert.equal(page1.models.length, 2);
    assert.ok(page1.nextCursor);
    const seen = page1.models.map((model) => model.name);
    let cursor: string | null = page1.nextCursor;
    while (cursor) {
      const next = (await host.call('models_list', { limit: 2, cursor })).structured as { models: Array<{ name: string }>; nextCursor: string | null };
      seen.push(...next.models.map((model) => model.name));
      cursor = next.nextCursor;
    }
    assert.deepEqual(seen, [...seen].sort());
    assert.ok(seen.includes('intents') && seen.includes('aliased') && seen.includes('concurrent'));
    assert.equal(new Set(seen).size, seen.length);

    const versions = (await host.call('models_list', { name: 'intents', limit: 1 })).structured as { versions: Array<{ version: number; aliases: string[] }>; nextCursor: string };
    assert.deepEqual(versions.versions.map((v) => v.version), [2]);
    const older = (await host.call('models_list', { name: 'intents', limit: 1, cursor: versions.nextCursor })).structured as { versions: Array<{ version: number; aliases: string[] }>; nextCursor: string | null };
    assert.deepEqual(older.versions.map((v) => [v.version, v.aliases]), [[1, ['champion']]]);
    assert.equal(older.nextCursor, null);

    const wrongCursor = await host.call('models_list', { limit: 1, cursor: versions.nextCursor });
    assert.match(wrongCursor.text, /^ANVIL_E_INVALID_INPUT.*cursor/);
  });

  it("answers NOT_FOUND for another project's model, in tools, resources and the registry", async () => {
    const other = await host.connect({ project: 'elsewhere' });
    const get = flatten(await other.callTool({ name: 'models_get', arguments: { name: 'intents' } }));
    assert.equal(get.isError, true);
    assert.match(get.text, /^ANVIL_E_NOT_FOUND/);
    const alias = flatten(await other.callTool({ name: 'models_set_alias', arguments: { name: 'intents', alias: 'champion', version: 2 } }));
    assert.match(alias.text, /^ANVIL_E_NOT_FOUND/);
    const list = flatten(await other.callTool({ name: 'models_list', arguments: {} }));
    assert.deepEqual((list.structured as { models: unknown[] }).models, []);
    await assert.rejects(other.readResource({ uri: 'anvil://models/intents/1/card' }));
    await rejectsWith(registry.get('elsewhere', 'intents', 1), 'ANVIL_E_NOT_FOUND');
    // Nothing moved in the owning project.
    assert.equal((await registry.resolve('default', 'intents', 'champion')).version, 1);
  });

  it('needs models:write to move an alias', async () => {
    const reader = await host.connect({ scopes: ['models:read'] });
    const { tools } = await reader.listTools();
    assert.ok(tools.some((tool) => tool.name === 'models_get'));
    assert.ok(!tools.some((tool) => tool.name === 'models_set_alias'));
    const denied = flatten(await reader.callTool({ name: 'models_set_alias', arguments: { name: 'intents', alias: 'champion', version: 2 } }));
    assert.match(denied.text, /^ANVIL_E_FORBIDDEN/);
    const setTool = tools.find((tool) => tool.name === 'models_get');
    assert.equal(setTool?.annotations?.readOnlyHint, true);
  });
});

describe('loaded again as a third-party plugin', () => {
  it('is refused as a duplicate; the built-in keeps serving models_*', async () => {
    const thirdParty = await createTestHost({ plugins: [modelsPlugin] });
    try {
      const { tools } = await thirdParty.client.listTools();
      const names = tools.map((tool) => tool.name).filter((name) => name.startsWith('models_')).sort();
      assert.deepEqual(names, ['models_alias_history', 'models_get', 'models_list', 'models_set_alias']);
      const duplicate = thirdParty.server.plugins.reports.find((report) => report.id.startsWith('models (inline'));
      assert.equal(duplicate?.error?.code, 'ANVIL_E_PLUGIN_DUPLICATE');
      const exported = thirdParty.server.plugins.exportsOf(modelsPlugin);
      await exported?.registry().registerVersion('default', registration('third'));
      const got = await thirdParty.call('models_get', { name: 'third' });
      assert.equal(got.isError, false, got.text);
    } finally {
      await thirdParty.close();
    }
  });
});
