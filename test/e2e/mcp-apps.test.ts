/**
 * MCP Apps end to end through a real MCP client: a Banking77 slice trained twice (a good and a
 * shuffled-labels version), evaluated, deployed with a canary of the bad one. `jobs_get`, `eval_get`
 * and `deployments_monitor` list their app (`_meta.ui.resourceUri`) and their results link it
 * (`_meta.ui.resourceUri` and a `resource_link`) beside the unchanged text and structured content;
 * the `ui://` resources read as `text/html;profile=mcp-app` documents that are self-contained (no
 * external URL), whose scripts compile and whose embedded data is the caller's. Another project
 * reads nothing through them. In a real Chromium (when installed) the embedded app draws its
 * charts, and the bare app draws a tool result a test host sends it over the SEP-1865 handshake.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { MCP_APP_MIME_TYPE } from 'anvil/plugin';
import { createTestHost, type TestHost } from 'anvil/testing';
import { createDatasetRoot, type DatasetRoot } from '../support/dataset-root.ts';
import { type AppResult, appLinkOf, checkAppDocument, needsChromium, readApp, readRefusal, withChromiumPage } from '../support/mcp-app.ts';
import { banking77Missing, banking77Slice, ok, trainVersion, writeSliceCsv } from '../deployments/support.ts';

const missing = banking77Missing();

async function callLinked(client: Client, name: string, args: Record<string, unknown>): Promise<AppResult> {
  const result = (await client.callTool({ name, arguments: args })) as AppResult;
  assert.notEqual(result.isError, true, JSON.stringify(result.content));
  return result;
}

/** A structural parse: one document, balanced elements, scripts that compile, no URL but the SVG namespace; returns the embedded data. */
function checkDocument(html: string): Record<string, unknown> | undefined {
  for (const tag of ['html', 'head', 'body', 'main', 'style', 'title']) {
    assert.equal(html.split(`<${tag}`).length - 1, 1, `one <${tag}>`);
    assert.equal(html.split(`</${tag}>`).length - 1, 1, `one </${tag}>`);
  }
  return checkAppDocument(html);
}

/** The host side of SEP-1865 in a page: answers ui/initialize, sends the tool result after initialized, proxies deployments_get. */
const testHostScript = String.raw`function (args) {
  var frame = document.getElementById('view');
  var methods = [];
  var done = new Promise(function (resolve) {
    window.addEventListener('message', function (event) {
      var message = event.data;
      if (!message || !message.method) return;
      methods.push(message.method);
      var reply = function (payload) { frame.contentWindow.postMessage({ jsonrpc: '2.0', id: message.id, result: payload }, '*'); };
      if (message.method === 'ui/initialize') reply({ protocolVersion: '2026-01-26', hostInfo: { name: 'test-host', version: '1' }, hostCapabilities: { serverTools: {} }, hostContext: { theme: 'dark' } });
      if (message.method === 'ui/notifications/initialized') {
        frame.contentWindow.postMessage({ jsonrpc: '2.0', method: 'ui/notifications/tool-input', params: { arguments: { name: 'canary' } } }, '*');
        frame.contentWindow.postMessage({ jsonrpc: '2.0', method: 'ui/notifications/tool-result', params: { content: [], structuredContent: args.result } }, '*');
      }
      if (message.method === 'tools/call' && message.params && message.params.name === 'deployments_get') {
        reply({ content: [], structuredContent: args.view });
        setTimeout(function () { resolve(methods); }, 300);
      }
    });
  });
  frame.srcdoc = args.html;
  return done;
}`;

describe('MCP Apps', { skip: missing ?? false }, () => {
  let host: TestHost;
  let data: DatasetRoot | undefined;
  let other: Client;
  let trainingJob: string;
  let evaluationId: string;

  before(async () => {
    data = createDatasetRoot();
    host = await createTestHost({ plugins: [], env: data.env });
    const slice = banking77Slice();
    const good = await trainVersion(host.call.bind(host), writeSliceCsv(data.dir, 'good.csv', slice.train), 'b77-good', 'intents');
    const bad = await trainVersion(host.call.bind(host), writeSliceCsv(data.dir, 'bad.csv', slice.train, 99), 'b77-shuffled', 'intents');
    const jobs = ok<{ jobs: Array<{ id: string; recipe: string }> }>(await host.call('jobs_list', {})).jobs;
    trainingJob = (jobs.find((job) => job.recipe !== 'evaluation') as { id: string }).id;
    const submitted = ok<{ jobId: string }>(await host.call('eval_run', { model: 'intents', dataset: 'b77-good' }));
    evaluationId = submitted.jobId;
    for (;;) {
      const view = ok<{ state: string; timedOut: boolean }>(await host.call('jobs_get', { id: evaluationId, waitSeconds: 60 }));
      if (!view.timedOut) {
        assert.equal(view.state, 'succeeded');
        break;
      }
    }
    ok(await host.call('deployments_create', { name: 'canary', model: 'intents', version: good }));
    ok(
      await host.call('deployments_canary', {
        name: 'canary',
        candidate: bad,
        steps: [{ percent: 50, pauseSeconds: 60 }],
        guardrails: [{ metric: 'accuracy', op: '>=', threshold: 0.6, minSamples: 15 }],
      }),
    );
    other = await host.connect({ project: 'other' });
  });
  after(async () => {
    await host?.close();
    data?.remove();
  });

  test('the apps are listed as ui:// resources of the MCP App type, and their tools name them', async () => {
    const { resources } = await host.client.listResources();
    const apps = resources.filter((resource) => resource.uri.startsWith('ui://'));
    assert.deepEqual(apps.map((resource) => resource.uri).sort(), ['ui://anvil/deployments/canary', 'ui://anvil/evaluations/confusion', 'ui://anvil/jobs/curves']);
    for (const app of apps) assert.equal(app.mimeType, MCP_APP_MIME_TYPE);
    const { resourceTemplates } = await host.client.listResourceTemplates();
    assert.ok(resourceTemplates.some((template) => template.uriTemplate === 'ui://anvil/jobs/curves/{id}'));
    const { tools } = await host.client.listTools();
    const meta = (name: string) => (tools.find((tool) => tool.name === name)?._meta as { ui?: { resourceUri?: string } } | undefined)?.ui?.resourceUri;
    assert.equal(meta('jobs_get'), 'ui://anvil/jobs/curves');
    assert.equal(meta('eval_get'), 'ui://anvil/evaluations/confusion');
    assert.equal(meta('deployments_monitor'), 'ui://anvil/deployments/canary');
    assert.equal(meta('jobs_list'), undefined, 'tools without an app carry no link');
    for (const app of apps) assert.equal(checkDocument(await readApp(host.client, app.uri)), undefined, 'the bare app embeds no data');
  });

  test('jobs_get links the curves app; the per-job document embeds the job and its loss curve', async () => {
    const uri = appLinkOf(await callLinked(host.client, 'jobs_get', { id: trainingJob }), 'ui://anvil/jobs/curves/');
    assert.equal(uri, `ui://anvil/jobs/curves/${trainingJob}`);
    const embedded = checkDocument(await readApp(host.client, uri)) as { result: { id: string; state: string }; metrics: Array<{ name: string; points: unknown[] }> };
    assert.equal(embedded.result.id, trainingJob);
    assert.equal(embedded.result.state, 'succeeded');
    const loss = embedded.metrics.find((series) => /loss/.test(series.name));
    assert.ok(loss && loss.points.length > 1, `a loss curve: ${embedded.metrics.map((series) => series.name).join(', ')}`);
  });

  test('eval_get links the confusion app; the document embeds the confusion matrix over the intents', async () => {
    const uri = appLinkOf(await callLinked(host.client, 'eval_get', { id: evaluationId }), 'ui://anvil/evaluations/confusion/');
    const embedded = checkDocument(await readApp(host.client, uri)) as { result: { id: string }; confusion: { kind: string; classes: string[]; matrix: number[][] } };
    assert.equal(embedded.result.id, evaluationId);
    assert.equal(embedded.confusion.kind, 'full');
    // The four intents, and the out-of-scope label the metrics always carry.
    assert.ok(embedded.confusion.classes.length >= 4, embedded.confusion.classes.join(', '));
    assert.equal(embedded.confusion.matrix.length, embedded.confusion.classes.length);
    assert.ok(embedded.confusion.matrix.flat().reduce((sum, count) => sum + count, 0) > 0);
  });

  test('deployments_monitor links the canary app; the document embeds the guardrails and the rollout', async () => {
    const uri = appLinkOf(await callLinked(host.client, 'deployments_monitor', { name: 'canary' }), 'ui://anvil/deployments/canary/');
    assert.equal(uri, 'ui://anvil/deployments/canary/canary');
    const embedded = checkDocument(await readApp(host.client, uri)) as { result: { rollout: { state: string } | null }; deployment: { rollout: { guardrails: unknown[] } | null } };
    assert.ok(embedded.result.rollout, 'the canary is under way');
    assert.equal(embedded.deployment.rollout?.guardrails.length, 1);
  });

  test("another project reads nothing through an app resource: its ids look like ids that do not exist", async () => {
    const refusals: string[] = [];
    for (const uri of [`ui://anvil/jobs/curves/${trainingJob}`, `ui://anvil/evaluations/confusion/${evaluationId}`, 'ui://anvil/deployments/canary/canary']) {
      const error = await readRefusal(other, uri);
      assert.notEqual(error, 'read', `${uri} must be refused to another project`);
      assert.doesNotMatch(error, /succeeded|matrix|guardrail/);
      refusals.push(error.replaceAll(trainingJob, '<id>').replaceAll(evaluationId, '<id>').replace(/project \w+/, 'project'));
    }
    // The same answer as for an id that exists nowhere.
    const unknown = '00000000-0000-4000-8000-000000000000';
    const nowhere = await readRefusal(other, `ui://anvil/jobs/curves/${unknown}`);
    assert.equal(nowhere.replaceAll(unknown, '<id>').replace(/project \w+/, 'project'), refusals[0]);
    // A hostile id in the URI is data, never markup: refused, not echoed into HTML.
    const injected = await host.client.readResource({ uri: 'ui://anvil/deployments/canary/%3Cscript%3Ealert(1)%3C%2Fscript%3E' }).then(
      () => 'read',
      () => 'refused',
    );
    assert.equal(injected, 'refused');
  });

  test('in Chromium the embedded app draws its charts and the bare app draws a result sent over the SEP-1865 handshake', { skip: needsChromium }, () =>
    withChromiumPage(async (page, errors) => {
      const evaluationHtml = await readApp(host.client, `ui://anvil/evaluations/confusion/${evaluationId}`);
      const classes = ((checkDocument(evaluationHtml) as { confusion: { classes: string[] } }).confusion.classes).length;
      await page.setContent(evaluationHtml);
      await page.waitForSelector('svg.heatmap rect');
      assert.equal(await page.locator('svg.heatmap rect').count(), classes * classes, 'one cell per (true, predicted) pair');
      await page.setContent(await readApp(host.client, `ui://anvil/jobs/curves/${trainingJob}`));
      await page.waitForSelector('svg.chart polyline');

      // A test host: answers ui/initialize, waits for initialized, then sends the tool result.
      const bare = await readApp(host.client, 'ui://anvil/deployments/canary');
      const monitor = (await callLinked(host.client, 'deployments_monitor', { name: 'canary' })).structuredContent;
      const deployment = ok<Record<string, unknown>>(await host.call('deployments_get', { name: 'canary' }));
      await page.setContent('<iframe id="view" style="width:800px;height:600px"></iframe>');
      // Browser code as a string: this file is type-checked without the DOM library.
      const seen = (await page.evaluate(`(${testHostScript})(${JSON.stringify({ html: bare, result: monitor, view: deployment })})`)) as string[];
      assert.deepEqual(seen.slice(0, 2), ['ui/initialize', 'ui/notifications/initialized'], 'nothing before the handshake');
      assert.ok(seen.includes('tools/call'));
      const inner = page.frameLocator('#view');
      assert.match((await inner.locator('h1').textContent()) ?? '', /Deployment canary/);
      assert.equal(await inner.locator('html').getAttribute('data-theme'), 'dark');
      assert.ok((await inner.locator('table').count()) >= 2, 'guardrails and variants drawn');
      assert.deepEqual(errors, []);
    }));
});
