/**
 * ops_get's MCP App over real MCP clients, the real agent and approvals plugins and a scripted
 * planner: `ui://anvil/agent/run` is listed as an MCP App, ops_get's metadata and results link it,
 * the per-run document embeds the caller's run (self-contained, no URL) and another project's run
 * id reads like one that does not exist. In a real Chromium (when installed) a test host page runs
 * the app over the SEP-1865 handshake and proxies its tool calls to real MCP clients: the
 * requester's own Approve is refused by the approvals rules (the refusal is shown), another
 * person's Approve runs the step once and the app redraws the finished run.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { MCP_APP_MIME_TYPE } from 'anvil/plugin';
import { createTestHost, type TestHost } from 'anvil/testing';
import { type AppResult, appLinkOf, checkAppDocument, needsChromium, readApp, readRefusal as refusal, type Row, withChromiumPage } from '../support/mcp-app.ts';
import sidefx from '../fixtures/agent/sidefx-plugin.ts';

const ARTIFACTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-artifacts', 'mcp-apps');
const agentConfig = { leaseMs: 5_000, settleMs: 10_000, resumeEveryMs: 60_000 };
// The requester may decide approvals in general, so its refusal below is the self-approval rule, not a missing scope.
const REQUESTER = { project: 'alpha', name: 'requester', scopes: ['agent:write', 'agent:read', 'sidefx:write', 'sidefx:read', 'approvals:write'] };
const APPROVER = { project: 'alpha', name: 'approver', scopes: ['approvals:write', 'agent:read'] };
const FOREIGN = { project: 'beta', name: 'foreign', scopes: ['*'] };

async function call(client: Client, name: string, args: Row): Promise<AppResult> {
  return (await client.callTool({ name, arguments: args })) as AppResult;
}

function ok(result: AppResult): Row {
  assert.notEqual(result.isError, true, JSON.stringify(result.content));
  return result.structuredContent ?? {};
}

/** The run app's document (see checkAppDocument); returns the embedded data. */
function checkDocument(html: string): Row | undefined {
  assert.match(html, /^<!DOCTYPE html>\n<html lang="en" data-app="agent-run">/);
  return checkAppDocument(html);
}

/** The host side of SEP-1865 in a page: answers ui/initialize (with serverTools), sends the tool result, proxies tools/call to the exposed anvilCallTool. */
const testHostScript = String.raw`function (args) {
  var frame = document.getElementById('view');
  window.hostSaw = [];
  window.addEventListener('message', function (event) {
    var message = event.data;
    if (!message || !message.method) return;
    window.hostSaw.push(message.method + (message.params && message.params.name ? ':' + message.params.name : ''));
    var reply = function (payload) { frame.contentWindow.postMessage({ jsonrpc: '2.0', id: message.id, result: payload }, '*'); };
    if (message.method === 'ui/initialize') reply({ protocolVersion: '2026-01-26', hostInfo: { name: 'test-host', version: '1' }, hostCapabilities: { serverTools: {} }, hostContext: { theme: 'light' } });
    if (message.method === 'ui/notifications/initialized') frame.contentWindow.postMessage({ jsonrpc: '2.0', method: 'ui/notifications/tool-result', params: { content: [], structuredContent: args.result } }, '*');
    if (message.method === 'tools/call') window.anvilCallTool(message.params.name, message.params.arguments).then(reply);
  });
  frame.srcdoc = args.html;
}`;

const stepOf = (run: Row, id: string) => (run.steps as Row[]).find((step) => step.id === id) as Row;

describe('ops_get MCP App', () => {
  let host: TestHost;
  let requester: Client;
  let approver: Client;
  let foreign: Client;
  let waiting: Row;

  before(async () => {
    host = await createTestHost({ plugins: [sidefx], config: { plugins: [{ id: 'agent', config: agentConfig }] } });
    requester = await host.connect(REQUESTER);
    approver = await host.connect(APPROVER);
    foreign = await host.connect(FOREIGN);
    waiting = ok(await call(requester, 'ops_ask', { command: 'wipe notes' }));
    assert.equal(waiting.status, 'waiting_approval', JSON.stringify(waiting));
  });
  after(() => host?.close());

  test('the app is listed as an MCP App resource and ops_get names it', async () => {
    const { resources } = await requester.listResources();
    const app = resources.find((resource) => resource.uri === 'ui://anvil/agent/run');
    assert.equal(app?.mimeType, MCP_APP_MIME_TYPE);
    const { resourceTemplates } = await requester.listResourceTemplates();
    assert.equal(resourceTemplates.find((template) => template.uriTemplate === 'ui://anvil/agent/run/{id}')?.mimeType, MCP_APP_MIME_TYPE);
    const { tools } = await requester.listTools();
    const meta = (name: string) => (tools.find((tool) => tool.name === name)?._meta as { ui?: { resourceUri?: string } } | undefined)?.ui?.resourceUri;
    assert.equal(meta('ops_get'), 'ui://anvil/agent/run');
    assert.equal(meta('ops_list'), undefined);
    assert.equal(checkDocument(await readApp(requester, 'ui://anvil/agent/run')), undefined, 'the bare app embeds no run');
  });

  test("ops_get's result links the per-run document, which embeds the run", async () => {
    const result = await call(approver, 'ops_get', { runId: waiting.runId });
    ok(result);
    // Hosts without apps get the same run as text.
    const uri = appLinkOf(result, 'ui://anvil/agent/run/');
    assert.equal(uri, `ui://anvil/agent/run/${String(waiting.runId)}`);
    const embedded = checkDocument(await readApp(approver, uri)) as { result: Row };
    assert.equal(embedded.result.runId, waiting.runId);
    assert.deepEqual(embedded.result.approvalRequired, ['s2']);
    assert.equal(stepOf(embedded.result, 's2').state, 'waiting_approval');
    assert.equal(stepOf(embedded.result, 's2').approvalId, stepOf(waiting, 's2').approvalId);
  });

  test("another project's run id reads like one that does not exist; the scope is needed; ids are never markup", async () => {
    const uri = `ui://anvil/agent/run/${String(waiting.runId)}`;
    const foreignError = await refusal(foreign, uri);
    assert.notEqual(foreignError, 'read');
    assert.doesNotMatch(foreignError, /wipe|waiting/);
    const unknown = '00000000-0000-4000-8000-000000000000';
    const nowhere = await refusal(foreign, `ui://anvil/agent/run/${unknown}`);
    assert.equal(nowhere.replaceAll(unknown, '<id>'), foreignError.replaceAll(String(waiting.runId), '<id>'));
    assert.match((await call(foreign, 'ops_get', { runId: waiting.runId })).content[0]?.text ?? '', /ANVIL_E_NOT_FOUND/);
    const unscoped = await host.connect({ project: 'alpha', name: 'payer', scopes: ['approvals:write'] });
    assert.match(await refusal(unscoped, uri), /scope|agent:read|forbidden/i);
    assert.notEqual(await refusal(requester, 'ui://anvil/agent/run/%3Cscript%3Ealert(1)%3C%2Fscript%3E'), 'read');
    const huge = await refusal(requester, `ui://anvil/agent/run/${'a'.repeat(10_000)}`);
    assert.notEqual(huge, 'read');
    assert.ok(huge.length < 500, 'a huge id is not echoed whole');
  });

  test('in Chromium the buttons call approvals_decide through the host: the requester is refused, another person approves', { skip: needsChromium }, () =>
    withChromiumPage(async (page, errors) => {
      const wipesBefore = (ok(await call(requester, 'sidefx_count', {})) as { wipes: number }).wipes;

      // Without a host (the per-run document on its own) the buttons say which call to make.
      await page.setContent(await readApp(requester, `ui://anvil/agent/run/${String(waiting.runId)}`));
      assert.equal(await page.locator('ol.steps > li').count(), 3);
      assert.deepEqual(await page.locator('ol.steps code.tool').allTextContents(), ['sidefx_count', 'sidefx_wipe', 'sidefx_note']);
      await page.locator('li[data-step="s2"] button[data-decision="approve"]').click();
      assert.match((await page.locator('li[data-step="s2"] .decision').textContent()) ?? '', /use approvals_decide with id [0-9a-f-]+ and decision "approve"/);

      // In a host that proxies tool calls, each call goes to the MCP client of whoever is in the chat.
      let person = requester;
      await page.exposeFunction('anvilCallTool', (name: string, args: Row) => person.callTool({ name, arguments: args }));
      await page.setContent('<iframe id="view" style="width:800px;height:700px"></iframe>');
      const bare = await readApp(requester, 'ui://anvil/agent/run');
      const result = ok(await call(requester, 'ops_get', { runId: waiting.runId }));
      await page.evaluate(`(${testHostScript})(${JSON.stringify({ html: bare, result })})`);
      const view = page.frameLocator('#view');
      await view.locator('li[data-step="s2"] button[data-decision="approve"]').waitFor();
      assert.match((await view.locator('h1').textContent()) ?? '', /wipe notes/);
      assert.equal(await view.locator('li[data-step="s2"] [data-state]').getAttribute('data-state'), 'waiting_approval');
      assert.equal(await view.locator('li[data-step="s1"] [data-state]').getAttribute('data-state'), 'succeeded');

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'agent-run-waiting.png'), fullPage: true });
      await view.locator('li[data-step="s2"] button[data-decision="approve"]').click();
      const alert = view.locator('li[data-step="s2"] .decision[role="alert"]');
      await alert.waitFor();
      assert.match((await alert.textContent()) ?? '', /Refused: ANVIL_E_FORBIDDEN.*another principal must decide it/);
      assert.equal(stepOf(ok(await call(requester, 'ops_get', { runId: waiting.runId })), 's2').state, 'waiting_approval', 'the refusal changed nothing');
      assert.equal(await view.locator('li[data-step="s2"] button[data-decision="approve"]').isEnabled(), true);

      person = approver;
      await view.locator('li[data-step="s2"] button[data-decision="approve"]').click();
      await view.locator('[data-status="succeeded"]').waitFor({ timeout: 20_000 });
      assert.match((await view.locator('.notice').textContent()) ?? '', /Step s2 approved by \S*approver/);
      assert.deepEqual(await view.locator('ol.steps [data-state]').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-state'))), ['succeeded', 'succeeded', 'succeeded']);
      assert.equal(await view.locator('button').count(), 0, 'nothing left to decide');
      const saw = (await page.evaluate('window.hostSaw')) as string[];
      assert.deepEqual(saw.slice(0, 2), ['ui/initialize', 'ui/notifications/initialized']);
      assert.equal(saw.filter((method) => method === 'tools/call:approvals_decide').length, 2);

      await page.screenshot({ path: path.join(ARTIFACTS, 'agent-run-approved.png'), fullPage: true });

      // The step ran once, as the run's requester.
      await sleep(200);
      assert.equal((ok(await call(requester, 'sidefx_count', {})) as { wipes: number }).wipes, wipesBefore + 1);

      // Reject: the step is rejected, the run stops, nothing after it runs.
      const second = ok(await call(requester, 'ops_ask', { command: 'wipe notes' }));
      assert.equal(second.status, 'waiting_approval');
      await page.setContent('<iframe id="view" style="width:800px;height:700px"></iframe>');
      await page.evaluate(`(${testHostScript})(${JSON.stringify({ html: bare, result: second })})`);
      await view.locator('li[data-step="s2"] button[data-decision="deny"]').click();
      await view.locator('[data-status="rejected"]').waitFor({ timeout: 20_000 });
      assert.deepEqual(await view.locator('ol.steps [data-state]').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-state'))), ['succeeded', 'rejected', 'pending']);
      assert.match((await view.locator('p.error').first().textContent()) ?? '', /approval_denied/);
      assert.equal((ok(await call(requester, 'sidefx_count', {})) as { wipes: number }).wipes, wipesBefore + 1, 'nothing wiped after a rejection');
      assert.deepEqual(errors, []);
    }));
});
