/**
 * MCP Apps end to end through a real MCP client: a Banking77 slice trained twice (a good and a
 * shuffled-labels version), evaluated, deployed with a canary of the bad one. `jobs_get`, `eval_get`
 * and `deployments_monitor` list their app (`_meta.ui.resourceUri`) and their results link it
 * (`_meta.ui.resourceUri` and a `resource_link`) beside the unchanged text and structured content;
 * the `ui://` resources read as `text/html;profile=mcp-app` documents that are self-contained (no
 * external URL), whose scripts compile and whose embedded data is the caller's. Another project
 * reads nothing through them. In a real Chromium (when installed) the embedded app draws its
 * charts, and the bare app draws a tool result a test host sends it over the SEP-1865 handshake.
 * The canary app charts the server's series (`deployments_monitor` with `series: {points}`): the
 * embedded one the series read with its report, the bare one the series it asks the host for; each
 * chart's "Show data" table holds exactly those buckets.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import type { Locator } from 'playwright-core';
import { MCP_APP_MIME_TYPE } from 'anvil/plugin';
import { createTestHost, type TestHost } from 'anvil/testing';
import { createDatasetRoot, type DatasetRoot } from '../support/dataset-root.ts';
import { type AppResult, appLinkOf, checkAppDocument, needsChromium, readApp, readRefusal, withChromiumPage } from '../support/mcp-app.ts';
import { banking77Missing, banking77Slice, ok, trainVersion, writeSliceCsv } from '../deployments/support.ts';
import { APP_SERIES_POINTS } from '../../tools/deployment/tools/app.ts';
import type { MonitorSeries } from '../../tools/deployment/series.ts';

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

type MonitorResult = { variants: Array<{ variant: string; shadow: boolean; requests: number }>; series?: MonitorSeries };

/** The buckets' requests of each series variant, by the name the app's charts give it. */
function requestsByName(series: MonitorSeries): Map<string, number[]> {
  return new Map(series.variants.map((one) => [`${one.variant}${one.shadow ? ' (shadow)' : ''}`, one.points.map((point) => point.requests)]));
}

/**
 * The host side of SEP-1865 in a page: answers ui/initialize, sends the call's arguments and then
 * its result after initialized, proxies deployments_get and deployments_monitor (answering with the
 * result given) and resolves with the methods seen and the tools the app called, once both are answered.
 */
const testHostScript = String.raw`function (args) {
  var frame = document.getElementById('view');
  var methods = [];
  var calls = [];
  var done = new Promise(function (resolve) {
    window.addEventListener('message', function (event) {
      var message = event.data;
      if (!message || !message.method) return;
      methods.push(message.method);
      var reply = function (payload) { frame.contentWindow.postMessage({ jsonrpc: '2.0', id: message.id, result: payload }, '*'); };
      if (message.method === 'ui/initialize') reply({ protocolVersion: '2026-01-26', hostInfo: { name: 'test-host', version: '1' }, hostCapabilities: { serverTools: {} }, hostContext: { theme: 'dark' } });
      if (message.method === 'ui/notifications/initialized') {
        frame.contentWindow.postMessage({ jsonrpc: '2.0', method: 'ui/notifications/tool-input', params: { arguments: args.input } }, '*');
        frame.contentWindow.postMessage({ jsonrpc: '2.0', method: 'ui/notifications/tool-result', params: { content: [], structuredContent: args.result } }, '*');
      }
      if (message.method === 'tools/call' && message.params) {
        calls.push(message.params);
        if (message.params.name === 'deployments_get') reply({ content: [], structuredContent: args.view });
        if (message.params.name === 'deployments_monitor') reply({ content: [], structuredContent: args.monitor });
        var answered = calls.map(function (call) { return call.name; });
        if (answered.indexOf('deployments_get') >= 0 && answered.indexOf('deployments_monitor') >= 0) setTimeout(function () { resolve({ methods: methods, calls: calls }); }, 300);
      }
    });
  });
  frame.srcdoc = args.html;
  return done;
}`;

/**
 * Opens the "Requests per bucket" chart's "Show data" disclosure under `scope` and checks its table
 * (captioned with the chart's title, as the dashboard's) lists exactly `series`' buckets: one row
 * per bucket, one column per variant with its requests.
 */
async function checkRequestsTable(scope: Locator, series: MonitorSeries): Promise<void> {
  const figure = scope.locator('figure.monitor-chart', { has: scope.page().locator('h3', { hasText: 'Requests per bucket' }) });
  await figure.locator('summary', { hasText: 'Show data' }).click();
  const table = figure.getByRole('table', { name: 'Requests per bucket' });
  await table.waitFor();
  const headers = await table.locator('thead th').allTextContents();
  const expected = requestsByName(series);
  assert.deepEqual(headers.slice(1).sort(), [...expected.keys()].sort(), 'one column per variant of the series');
  for (const [index, name] of headers.entries()) {
    if (index === 0) continue;
    const cells = await table.locator(`tbody td:nth-child(${index + 1})`).allTextContents();
    assert.deepEqual(cells.map(Number), expected.get(name), `${name}: the table holds the series' buckets`);
  }
}

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
    // Traffic on both variants, so the canary's series has points to chart.
    for (const [index, row] of slice.test.slice(0, 12).entries()) ok(await host.call('predict', { deployment: 'canary', inputs: [row.text], requestKey: `user-${index}` }));
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

  test('deployments_monitor links the canary app; the document embeds the guardrails, the rollout and the series read with them', async () => {
    const uri = appLinkOf(await callLinked(host.client, 'deployments_monitor', { name: 'canary' }), 'ui://anvil/deployments/canary/');
    assert.equal(uri, 'ui://anvil/deployments/canary/canary');
    const embedded = checkDocument(await readApp(host.client, uri)) as { result: MonitorResult & { rollout: { state: string } | null }; deployment: { rollout: { guardrails: unknown[] } | null } };
    assert.ok(embedded.result.rollout, 'the canary is under way');
    assert.equal(embedded.deployment.rollout?.guardrails.length, 1);
    // The server's series, from the same snapshot as the counts: every request of the window in one bucket.
    const series = embedded.result.series;
    assert.ok(series, 'the embedded report carries its series');
    assert.ok(embedded.result.variants.length >= 1);
    for (const variant of embedded.result.variants) {
      const points: MonitorSeries['variants'][number]['points'] = series.variants.find((one) => one.variant === variant.variant && one.shadow === variant.shadow)?.points ?? [];
      assert.ok(points.length >= 2 && points.length <= APP_SERIES_POINTS, `${points.length} buckets`);
      assert.equal(points.reduce((sum, point) => sum + point.requests, 0), variant.requests, `${variant.variant}: the series counts the report's requests`);
    }
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
      const curvesHtml = await readApp(host.client, `ui://anvil/jobs/curves/${trainingJob}`);
      const curves = (checkDocument(curvesHtml) as { metrics: Array<{ name: string; points: Array<{ step: number }> }> }).metrics.filter((metric) => /loss/i.test(metric.name));
      await page.setContent(curvesHtml);
      await page.waitForSelector('svg.chart polyline');
      // The loss chart's "Show data" table: one row per step any loss curve has, as the dashboard's charts offer.
      await page.locator('details.chart-data summary', { hasText: 'Loss by step' }).click();
      const steps = new Set(curves.flatMap((metric) => metric.points.map((point) => point.step)));
      assert.ok(steps.size > 0, 'the embedded job has a loss curve');
      assert.equal(await page.locator('details.chart-data[open] table tbody tr').count(), steps.size);

      // The embedded canary app charts the series embedded with it; "Show data" lists its buckets.
      const canaryHtml = await readApp(host.client, 'ui://anvil/deployments/canary/canary');
      const embeddedSeries = (checkDocument(canaryHtml) as { result: MonitorResult }).result.series as MonitorSeries;
      await page.setContent(canaryHtml);
      await page.waitForSelector('figure.monitor-chart svg.chart polyline');
      await checkRequestsTable(page.locator('body'), embeddedSeries);

      // A test host: answers ui/initialize, waits for initialized, then sends the tool result.
      const bare = await readApp(host.client, 'ui://anvil/deployments/canary');
      const monitor = (await callLinked(host.client, 'deployments_monitor', { name: 'canary', window: 900 })).structuredContent;
      assert.equal((monitor as MonitorResult).series, undefined, 'a result without a series: the app asks for it');
      const withSeries = ok<MonitorResult>(await host.call('deployments_monitor', { name: 'canary', window: 900, series: { points: APP_SERIES_POINTS } }));
      const deployment = ok<Record<string, unknown>>(await host.call('deployments_get', { name: 'canary' }));
      await page.setContent('<iframe id="view" style="width:800px;height:600px"></iframe>');
      // Browser code as a string: this file is type-checked without the DOM library.
      const hostArgs = { html: bare, input: { name: 'canary', window: 900 }, result: monitor, view: deployment, monitor: withSeries };
      const seen = (await page.evaluate(`(${testHostScript})(${JSON.stringify(hostArgs)})`)) as { methods: string[]; calls: Array<{ name: string; arguments: Record<string, unknown> }> };
      assert.deepEqual(seen.methods.slice(0, 2), ['ui/initialize', 'ui/notifications/initialized'], 'nothing before the handshake');
      assert.ok(seen.methods.includes('tools/call'));
      // The chart's series comes from the server, for the window the call asked for.
      assert.deepEqual(seen.calls.find((call) => call.name === 'deployments_monitor')?.arguments, { name: 'canary', window: 900, series: { points: APP_SERIES_POINTS } });
      const inner = page.frameLocator('#view');
      await inner.locator('figure.monitor-chart svg.chart polyline').first().waitFor();
      await checkRequestsTable(inner.locator('body'), withSeries.series as MonitorSeries);
      assert.match((await inner.locator('h1').textContent()) ?? '', /Deployment canary/);
      assert.equal(await inner.locator('html').getAttribute('data-theme'), 'dark');
      assert.ok((await inner.locator('table').count()) >= 2, 'guardrails and variants drawn');
      assert.deepEqual(errors, []);
    }));
});
