/**
 * `mcpApp` and `ToolSpec.app` in the public plugin API, as a third-party plugin uses them: the app
 * and its per-record resource under `ui://<id>/`, the tool's `_meta.ui.resourceUri`, the result's
 * link, data loaded in the caller's project only, hostile data kept out of the markup, and the
 * refusals at registration (a URI outside the plugin's space, a script that would close its element).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AnvilError, definePlugin, ErrorCodes, MCP_APP_MIME_TYPE, mcpApp, z } from 'anvil/plugin';
import { createTestHost, type TestHost } from 'anvil/testing';

/** Notes per project, in memory: enough to show that `load` runs in the caller's project. */
const notes = new Map<string, string>([
  ['alpha/n1', 'alpha note </script><script>alert(1)</script>'],
  ['beta/n2', 'beta note'],
]);

const noteApp = mcpApp({
  name: 'note-card',
  uri: 'ui://notes/card',
  title: 'Note',
  description: 'A note as a card',
  scopes: ['notes:read'],
  script: 'function anvilRender(data, root, kit) { root.appendChild(kit.el("p", null, data.result.text)); }',
  async load(id, { project }) {
    const text = notes.get(`${project}/${id}`);
    if (text === undefined) throw new AnvilError(ErrorCodes.NOT_FOUND, `No note ${id}`);
    return { result: { id, text } };
  },
  idOf: (output) => (typeof output.id === 'string' ? output.id : undefined),
});

const notesPlugin = definePlugin({
  id: 'notes',
  version: '1.0.0',
  register(ctx) {
    ctx.tool({
      name: 'get',
      description: 'A note of your project',
      input: z.object({ id: z.string() }).strict(),
      output: z.object({ id: z.string(), text: z.string() }),
      annotations: { readOnlyHint: true, idempotentHint: true },
      scopes: ['notes:read'],
      app: noteApp.tool,
      async handler({ id }, { project }) {
        const text = notes.get(`${project}/${id}`);
        if (text === undefined) throw new AnvilError(ErrorCodes.NOT_FOUND, `No note ${id}`);
        return { id, text };
      },
    });
    for (const resource of noteApp.resources) ctx.resource(resource);
  },
});

describe('plugin API: MCP Apps', () => {
  let host: TestHost;
  before(async () => {
    host = await createTestHost({ plugins: [notesPlugin], principal: { project: 'alpha', scopes: ['notes:read'] } });
  });
  after(async () => {
    await host?.close();
  });

  test('the tool names its app, and a result links the app with its data', async () => {
    const { tools } = await host.client.listTools();
    const tool = tools.find((each) => each.name === 'notes_get');
    assert.deepEqual(tool?._meta, { ui: { resourceUri: 'ui://notes/card' }, 'ui/resourceUri': 'ui://notes/card' });
    const result = await host.client.callTool({ name: 'notes_get', arguments: { id: 'n1' } });
    assert.deepEqual(result._meta, { ui: { resourceUri: 'ui://notes/card/n1' } });
    const content = result.content as Array<{ type: string; text?: string; uri?: string; mimeType?: string }>;
    assert.equal(content[0]?.type, 'text');
    assert.deepEqual(JSON.parse(content[0]?.text ?? ''), result.structuredContent);
    assert.deepEqual(content[1], { type: 'resource_link', uri: 'ui://notes/card/n1', name: 'Note', title: 'Note', mimeType: MCP_APP_MIME_TYPE });
    const failed = await host.client.callTool({ name: 'notes_get', arguments: { id: 'missing' } });
    assert.equal(failed.isError, true);
    assert.equal((failed._meta as { ui?: unknown } | undefined)?.ui, undefined, 'a failed call links no app');
  });

  test('the per-record document embeds the data as JSON, never as markup', async () => {
    const read = await host.client.readResource({ uri: 'ui://notes/card/n1' });
    const [content] = read.contents;
    assert.equal(content?.mimeType, MCP_APP_MIME_TYPE);
    const html = content && 'text' in content ? content.text : '';
    assert.equal(html.split('</script>').length - 1, 3, 'only the app’s own three script elements close');
    const embedded = /<script type="application\/json" id="anvil-data">([^<]*)<\/script>/.exec(html)?.[1];
    assert.ok(embedded);
    assert.deepEqual(JSON.parse(embedded), { result: { id: 'n1', text: notes.get('alpha/n1') } });
  });

  test("another project's record reads as one that does not exist", async () => {
    const beta = await host.connect({ project: 'beta', scopes: ['notes:read'] });
    const message = (uri: string) => beta.readResource({ uri }).then(() => 'read', (error: unknown) => (error instanceof Error ? error.message : String(error)));
    const foreign = await message('ui://notes/card/n1');
    assert.match(foreign, /No note n1/);
    assert.equal((await message('ui://notes/card/zz')).replace('zz', 'n1'), foreign);
    assert.equal(await message('ui://notes/card/n2'), 'read', 'its own record reads');
    const unscoped = await host.connect({ project: 'alpha', scopes: ['other:read'] });
    await assert.rejects(unscoped.readResource({ uri: 'ui://notes/card/n1' }), /notes:read/);
  });

  test('registration refuses an app outside the plugin’s ui:// space and a script that closes its element', async () => {
    const stray = definePlugin({
      id: 'stray',
      version: '1.0.0',
      register(ctx) {
        const app = mcpApp({ name: 'x', uri: 'ui://notes/x', title: 't', description: 'd', scopes: [], script: 'function anvilRender() {}', load: async () => ({}), idOf: () => undefined });
        for (const resource of app.resources) ctx.resource(resource);
      },
    });
    const refused = await createTestHost({ plugins: [stray] }).then(
      async (other) => {
        const listed = (await other.client.listResources()).resources.some((resource) => resource.uri === 'ui://notes/x');
        await other.close();
        return listed ? 'registered' : 'left out';
      },
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    assert.notEqual(refused, 'registered');
    assert.throws(
      () => mcpApp({ name: 'bad', uri: 'ui://notes/bad', title: 't', description: 'd', scopes: [], script: 'var s = "</script>";', load: async () => ({}), idOf: () => undefined }),
      /must not contain "<\/script"/,
    );
    assert.throws(() => mcpApp({ name: 'bad', uri: 'https://example.com/app', title: 't', description: 'd', scopes: [], script: '', load: async () => ({}), idOf: () => undefined }), /ui:\/\//);
  });
});
