/**
 * The dashboard at /ui in a real Chromium (Debian's `chromium`, driven by playwright-core) against a
 * real Anvil (embedded storage, the local worker running a real job, the sandbox payment network
 * as its own process) served over real HTTP: sign in with an API key, watch a job's metric curve
 * grow while it runs and cancel it, approve a payment waiting for a person, approve an agent run's
 * step (the agent plugin enabled, the offline planner; the requester's own approval refused) and see it
 * succeed, see another project's job and runs refused; and the hostile tries at the HTTP level: forged and expired session cookies, a
 * cross-site POST, a write without the CSRF token, another project's key, a revoked key.
 * Screenshots of every page land in test-artifacts/dashboard/.
 *
 * Chromium missing: skipped with the reason printed; with ANVIL_TEST_REQUIRE_SERVICES=1 (CI) it fails.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serve } from '@hono/node-server';
import type { Client } from '@modelcontextprotocol/client';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createTestHost, flatten, type TestHost } from 'anvil/testing';
import { createHttpApp } from '../../server/http/app.ts';
import { jobsPlugin } from '../../tools/jobs/index.ts';
import { sandboxProviderPlugin } from '../../tools/payment/providers/plugin.ts';
import { banking77Missing, banking77Slice, trainVersion, writeSliceCsv } from '../deployments/support.ts';
import { providerConfig, startSandboxPsp, type SandboxPspProcess } from '../payments/support.ts';
import { repoRoot } from '../support/anvil-process.ts';
import { focusShown, lowContrast, unnamedControls, type PageElement } from './a11y-checks.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(repoRoot, 'test-artifacts', 'dashboard');
const servicesRequired = process.env.ANVIL_TEST_REQUIRE_SERVICES === '1';
if (!existsSync(CHROMIUM)) {
  if (servicesRequired) throw new Error(`${CHROMIUM} is missing but ANVIL_TEST_REQUIRE_SERVICES=1 requires the browser tests to run (.ci/run installs Debian's chromium)`);
  process.stderr.write(`dashboard browser tests skipped: ${CHROMIUM} not found (apt-get install -y chromium)\n`);
}
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found`;

type Row = Record<string, unknown> & { id: string };
/**
 * The little of the DOM the page-side functions below touch (this file is compiled without the DOM
 * library). They run in the page as functions: the dashboard's CSP refuses string evaluation.
 */
declare const document: {
  cookie: string;
  activeElement: PageElement | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
  getElementById(id: string): { submit(): void } | null;
};
const rowsAre = (count: number) => document.querySelectorAll('table tbody tr').length === count;
const ok = (outcome: ReturnType<typeof flatten>): Record<string, unknown> => {
  assert.equal(outcome.isError, false, outcome.text);
  return outcome.structured as Record<string, unknown>;
};

describe('dashboard at /ui', { skip }, () => {
  let psp: SandboxPspProcess;
  let host: TestHost;
  let http: Server;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let alphaKey: string;
  let betaKey: string;
  let betaJob: string;
  let approvalId: string;
  let alpha: Client;
  let docs: string;

  const shot = async (name: string) => {
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  };

  async function signInOverHttp(key: string): Promise<{ cookie: string; csrf: string }> {
    const response = await fetch(`${base}/ui/api/session`, { method: 'POST', headers: { authorization: `Bearer ${key}`, origin: base } });
    assert.equal(response.status, 200, await response.clone().text());
    const cookie = /anvil_session=([^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1] as string;
    const { csrf } = (await response.json()) as { csrf: string };
    return { cookie: `anvil_session=${cookie}`, csrf };
  }
  const callTool = (session: { cookie: string; csrf?: string }, tool: string, args: Record<string, unknown>, headers: Record<string, string> = {}) =>
    fetch(`${base}/ui/api/call/${tool}`, {
      method: 'POST',
      headers: { cookie: session.cookie, origin: base, 'content-type': 'application/json', ...(session.csrf ? { 'x-anvil-csrf': session.csrf } : {}), ...headers },
      body: JSON.stringify({ arguments: args }),
    });

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    psp = await startSandboxPsp({ faults: 'none' });
    docs = mkdtempSync(path.join(os.tmpdir(), 'anvil-dash-docs-'));
    // The operator's import roots (the knowledge plugin reads them from the datasets plugin's config).
    host = await createTestHost({
      plugins: [{ plugin: sandboxProviderPlugin, config: providerConfig(psp) }],
      config: { plugins: [{ id: 'agent', config: { settleMs: 5_000 } }], jobs: { telemetrySampleMs: 0 } },
      env: { ANVIL_DATASET_ROOTS: docs },
    });
    const { app } = createHttpApp(host.server.runtime, () => host.server.plugins.catalog);
    http = await new Promise<Server>((resolve) => {
      const started = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(started as Server)) as Server;
    });
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const keys = host.server.runtime.keys;
    alphaKey = (await keys.create({ project: 'alpha', scopes: ['jobs:read', 'jobs:write', 'workers:read', 'approvals:read', 'approvals:write', 'payments:read', 'ledger:read', 'datasets:read', 'models:read', 'evaluation:read', 'deployments:read', 'deployments:write', 'knowledge:read', 'anvil:read'], name: 'person' })).key;
    betaKey = (await keys.create({ project: 'beta', scopes: ['jobs:read', 'jobs:write'], name: 'beta' })).key;

    alpha = await host.connect({ project: 'alpha', name: 'admin', scopes: ['*'] });
    const beta = await host.connect({ project: 'beta', name: 'admin', scopes: ['*'] });
    const call = async (client: Client, tool: string, args: Record<string, unknown>) => ok(flatten(await client.callTool({ name: tool, arguments: args })));
    betaJob = String((await call(beta, 'jobs_submit', { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 1 } })).id);

    // A payment above its mandate's approvalAbove waits for a person: the approval the page decides.
    const agent = await host.connect({ project: 'alpha', name: 'agent', scopes: ['payments:read', 'payments:write'] });
    const mandate = (await call(alpha, 'mandates_create', {
      grantee: 'local:agent', currency: 'EUR', maxPerPayment: '1000', maxPerPeriod: '10000', period: 'day',
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(), approvalAbove: '500', idempotencyKey: 'dash-m',
    })).mandate as Row;
    const payment = (await call(agent, 'payments_create', {
      amount: '900', currency: 'EUR', payee: 'grocer', method: { type: 'card', token: await psp.tokenize('4242424242424242') }, mandate: mandate.id, idempotencyKey: 'dash-p',
    })).payment as Row;
    const preview = await call(agent, 'payments_preview', { id: payment.id });
    const waiting = flatten(await agent.callTool({ name: 'payments_confirm', arguments: { id: payment.id, previewHash: preview.previewHash } }));
    assert.ok(waiting.text.startsWith('ANVIL_E_APPROVAL_REQUIRED'), waiting.text);
    approvalId = /approval ([0-9a-f-]{36})/.exec(waiting.text)?.[1] as string;

    // A knowledge base with one document, for the search box and its citations.
    writeFileSync(path.join(docs, 'runbook.md'), '# Runbook\n\n## Rollback\n\nTo roll back a canary, call deployments_rollback with the deployment name; traffic returns to the stable variant at once.\n\n## Quotas\n\nEach project has a GPU quota.\n');
    await call(alpha, 'kb_create', { name: 'ops-docs' });
    const { task } = await call(alpha, 'kb_ingest', { kb: 'ops-docs', path: docs });
    for (let tries = 0; ; tries += 1) {
      const status = await call(alpha, 'kb_task', { task });
      if (status.state === 'succeeded') {
        assert.equal((status.result as { added: number }).added, 1, JSON.stringify(status.result));
        break;
      }
      assert.ok(status.state !== 'failed' && tries < 300, JSON.stringify(status));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await new Promise((resolve) => (http ? http.close(resolve) : resolve(undefined)));
    await host?.close();
    await psp?.stop();
    if (docs) rmSync(docs, { recursive: true, force: true });
  });

  it('signs in with an API key: an httpOnly, SameSite=Strict session cookie, the key nowhere in the session table', async () => {
    await page.goto(`${base}/ui`);
    await page.getByLabel('API key').fill('anv_wrong_key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await shot('signin-refused');
    await page.getByLabel('API key').fill(alphaKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('project').waitFor();
    assert.equal(await page.getByTestId('project').textContent(), 'alpha');
    const cookie = (await context.cookies()).find((one) => one.name === 'anvil_session');
    assert.ok(cookie, 'session cookie set');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.path, '/ui');
    const stored = await host.server.runtime.services.storage.query<Record<string, unknown>>('select * from plugin_dashboard.sessions');
    assert.equal(stored.rows.length, 1);
    const text = JSON.stringify(stored.rows);
    assert.ok(!text.includes(alphaKey.split('_').at(-1) as string), 'the key secret is not stored');
    assert.ok(!text.includes(cookie.value), 'the session id is stored only as its hash');
    assert.equal(await page.evaluate(() => document.cookie), '', 'the page cannot read the session cookie');
    await page.getByRole('heading', { name: 'Health' }).waitFor();
    await shot('overview');
  });

  it('watches a running job: the metric curve grows, logs stream, and Cancel stops it', async () => {
    const submitted = ok(flatten(await alpha.callTool({ name: 'jobs_submit', arguments: { recipe: 'diagnostics.counter', params: { steps: 600, stepMs: 100 } } })));
    const id = String(submitted.id);
    // The page's own log reads through the tool API: none while the event stream is open.
    const logPolls: string[] = [];
    const countLogPolls = (request: { url(): string }) => {
      if (request.url().endsWith('/ui/api/call/jobs_logs')) logPolls.push(request.url());
    };
    page.on('request', countLogPolls);
    await page.goto(`${base}/ui#/jobs`);
    await page.getByRole('link', { name: id.slice(0, 8) }).click();
    await page.getByText('running').first().waitFor({ timeout: 30_000 });
    const chart = page.locator('figure.chart [data-points]');
    await chart.waitFor({ timeout: 30_000 });
    const first = Number(await chart.getAttribute('data-points'));
    await page.waitForFunction((before) => Number(document.querySelector('figure.chart [data-points]')?.getAttribute('data-points')) > before + 3, first, { timeout: 30_000 });
    const later = Number(await chart.getAttribute('data-points'));
    assert.ok(later > first, `the curve grew: ${first} → ${later} points`);
    assert.ok(await page.locator('canvas').count() > 0, 'uPlot drew on a canvas');
    await page.locator('pre.logs').waitFor();
    await page.locator('[data-log-source="stream"]').waitFor({ timeout: 10_000 });
    await page.locator('pre.logs', { hasText: 'counting to 600' }).waitFor({ timeout: 10_000 });
    await shot('job-running');
    assert.deepEqual(logPolls, [], 'while streaming, the page reads no logs through jobs_logs');
    await page.getByRole('button', { name: 'Cancel job' }).click();
    // The worker's last line (written on SIGTERM) arrives without a reload.
    await page.locator('pre.logs', { hasText: 'SIGTERM: checkpointed' }).waitFor({ timeout: 30_000 });
    page.off('request', countLogPolls);
    await page.locator('.badge.state-cancelled').first().waitFor({ timeout: 30_000 });
    const state = ok(flatten(await alpha.callTool({ name: 'jobs_get', arguments: { id } })));
    assert.equal(state.state, 'cancelled');
    // The chart's screen-reader alternative: "Show data" opens a table of its points, captioned with its title.
    await page.getByText('Show data').first().click();
    const points = page.getByRole('table', { name: 'Metrics by step' }).locator('tbody tr');
    await points.first().waitFor();
    assert.ok(await points.count() >= 1 && await points.count() <= Number(await chart.getAttribute('data-points')), `${await points.count()} rows of the chart's points`);
    assert.deepEqual(await page.evaluate(unnamedControls), [], 'job page: every control has an accessible name');
    assert.deepEqual(await page.evaluate(lowContrast), [], 'job page (logs, chart, its data table): text contrast below WCAG AA');
    await shot('job-cancelled');
  });

  it('pages the job list on the server: 25 a page, older pages by cursor, filters by state', async () => {
    await Promise.all(Array.from({ length: 30 }, (_, index) => alpha.callTool({ name: 'jobs_submit', arguments: { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 0 }, priority: index % 3 } })));
    await page.goto(`${base}/ui#/jobs`);
    const rows = page.locator('table tbody tr');
    await page.waitForFunction(rowsAre, 25);
    await page.getByRole('button', { name: 'Older →' }).click();
    await page.getByText('Page 2').waitFor();
    await page.waitForFunction(rowsAre, 6, { timeout: 10_000 });
    assert.equal(await rows.count(), 6, '31 jobs: 25 on page 1, 6 on page 2');
    assert.equal(await page.getByRole('button', { name: 'Older →' }).isDisabled(), true);
    await page.getByRole('checkbox', { name: 'cancelled' }).check();
    await page.getByText('Page 1').waitFor();
    await page.waitForFunction(rowsAre, 1);
    await shot('jobs-filtered');
  });

  it('falls back to polling the log when the event stream cannot be opened', async () => {
    const id = String(ok(flatten(await alpha.callTool({ name: 'jobs_submit', arguments: { recipe: 'diagnostics.counter', params: { steps: 600, stepMs: 100 } } }))).id);
    await page.route('**/ui/api/events?**', (route) => route.abort());
    try {
      await page.goto(`${base}/ui#/jobs/${id}`);
      await page.locator('[data-log-source="poll"]', { hasText: 'Refreshing' }).waitFor({ timeout: 10_000 });
      await page.locator('pre.logs', { hasText: 'counting to 600' }).waitFor({ timeout: 30_000 });
    } finally {
      await page.unroute('**/ui/api/events?**');
      ok(flatten(await alpha.callTool({ name: 'jobs_cancel', arguments: { id, reason: 'fallback test done' } })));
    }
  });

  it('approves a pending payment approval from the agent-runs page (agent not installed is said plainly)', async () => {
    await page.goto(`${base}/ui#/agent`);
    await page.getByText('Agent not installed').waitFor();
    const row = page.locator('tr', { hasText: 'payment' });
    await row.waitFor();
    await shot('agent');
    await row.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('Nothing waits for approval.').waitFor({ timeout: 15_000 });
    const decided = ok(flatten(await alpha.callTool({ name: 'approvals_list', arguments: { state: 'approved' } }))).approvals as Row[];
    const mine = decided.find((one) => one.id === approvalId);
    assert.ok(mine, 'the approval is approved');
    assert.equal(mine.decidedBy, 'key:' + alphaKey.split('_')[1]);
  });

  it('searches a knowledge base and shows each passage with its citation', async () => {
    await page.goto(`${base}/ui#/knowledge`);
    await page.getByRole('link', { name: 'ops-docs' }).click();
    await page.getByRole('cell', { name: /runbook/i }).first().waitFor({ timeout: 10_000 }).catch(async (error: unknown) => { await shot('knowledge-failed'); throw error; });
    await page.getByLabel('Search ops-docs').fill('roll back a canary');
    await page.getByRole('button', { name: 'Search' }).click();
    const first = page.getByRole('list', { name: 'Search results' }).locator('li').first();
    await first.waitFor();
    assert.match(await first.textContent() ?? '', /deployments_rollback/);
    assert.match(await first.locator('code').textContent() ?? '', /^anvil:\/\/kb\/ops-docs\/documents\/.+#chars=\d+-\d+$/);
    await shot('knowledge-search');
  });

  it('shows an agent run waiting for approval; the requester is refused, another key approves and the step succeeds', async () => {
    const keys = host.server.runtime.keys;
    const requesterKey = (await keys.create({ project: 'alpha', scopes: ['agent:read', 'agent:write', 'jobs:read', 'jobs:write', 'approvals:read', 'approvals:write'], name: 'requester' })).key;
    const approverKey = (await keys.create({ project: 'alpha', scopes: ['agent:read', 'approvals:read', 'approvals:write'], name: 'approver' })).key;
    // A job asking for a GPU this server has none of stays queued: the agent's cancel has something to cancel.
    const queued = String(ok(flatten(await alpha.callTool({ name: 'jobs_submit', arguments: { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 1 }, resources: { gpus: 1 } } }))).id);
    const requester = await signInOverHttp(requesterKey);
    const ask = async (args: Record<string, unknown>) => {
      const response = await callTool(requester, 'ops_ask', args);
      const body = await response.text();
      assert.equal(response.status, 200, body);
      return (JSON.parse(body) as { result: { runId: string; status: string; planner: string; plan: { steps: Array<{ id: string; tool: string; args: Record<string, unknown> }> }; approvalRequired: string[]; steps: Array<{ id: string; state: string; approvalId: string | null }> } }).result;
    };
    const command = `cancel job ${queued}`;
    const dry = await ask({ command, dryRun: true });
    assert.equal(dry.planner, 'offline');
    assert.deepEqual(dry.plan.steps.map((step) => [step.tool, step.args.id]), [['jobs_cancel', queued]]);
    assert.equal(dry.approvalRequired.length, 1, 'jobs_cancel is destructive: it waits for a person');
    const run = await ask({ command });
    assert.equal(run.status, 'waiting_approval', JSON.stringify(run));
    const stepId = run.approvalRequired[0] as string;
    const approvalOfStep = run.steps.find((step) => step.id === stepId)?.approvalId;
    assert.ok(approvalOfStep, 'the waiting step names its approval');

    const signedInPage = async (key: string) => {
      const own = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      const tab = await own.newPage();
      tab.on('dialog', (dialog) => void dialog.accept());
      await tab.goto(`${base}/ui`);
      await tab.getByLabel('API key').fill(key);
      await tab.getByRole('button', { name: 'Sign in' }).click();
      await tab.getByTestId('project').waitFor();
      return { own, tab };
    };
    const approvalBox = (tab: Page) => tab.getByRole('region', { name: `Approval for step ${stepId}` });

    // The requester sees its run but may not approve it: the approvals plugin's refusal is shown.
    const asRequester = await signedInPage(requesterKey);
    try {
      await asRequester.tab.goto(`${base}/ui#/agent/${run.runId}`);
      await approvalBox(asRequester.tab).getByRole('button', { name: 'Approve' }).click();
      const refusal = approvalBox(asRequester.tab).getByRole('alert');
      await refusal.waitFor({ timeout: 15_000 });
      assert.match(await refusal.textContent() ?? '', /ANVIL_E_FORBIDDEN.*another principal must decide it/);
      await asRequester.tab.screenshot({ path: path.join(ARTIFACTS, 'agent-self-approval-refused.png'), fullPage: true });
    } finally {
      await asRequester.own.close();
    }

    // Another key of the project: the run in the list, its plan, the approval; Approve runs the step.
    const asApprover = await signedInPage(approverKey);
    try {
      const tab = asApprover.tab;
      await tab.goto(`${base}/ui#/agent`);
      await tab.getByRole('link', { name: run.runId.slice(0, 8), exact: true }).click();
      const box = approvalBox(tab);
      await box.waitFor({ timeout: 15_000 });
      assert.match(await box.textContent() ?? '', new RegExp(approvalOfStep));
      const plan = tab.getByRole('region', { name: 'Plan and step states' });
      assert.match(await plan.textContent() ?? '', /jobs_cancel/);
      await plan.locator('.badge.state-waiting_approval').waitFor();
      await tab.screenshot({ path: path.join(ARTIFACTS, 'agent-run-waiting.png'), fullPage: true });
      await box.getByRole('button', { name: 'Approve' }).click();
      await plan.locator('.badge.state-succeeded').waitFor({ timeout: 30_000 });
      await tab.locator('h2 + p .badge.state-succeeded').waitFor({ timeout: 30_000 });
      await tab.screenshot({ path: path.join(ARTIFACTS, 'agent-run-approved.png'), fullPage: true });

      // 26 runs in all: the list shows 25, the rest on the next page by ops_list's cursor.
      for (let index = 0; index < 24; index += 1) await ask({ command: `show job ${queued}`, dryRun: true });
      await tab.goto(`${base}/ui#/agent`);
      await tab.waitForFunction(rowsAre, 25);
      await tab.getByRole('button', { name: 'Older →' }).click();
      await tab.getByText('Page 2').waitFor();
      await tab.waitForFunction(rowsAre, 1);
      assert.equal(await tab.getByRole('button', { name: 'Older →' }).isDisabled(), true);
      assert.match(await tab.locator('table tbody tr').first().textContent() ?? '', /planned/, 'the oldest run, the first dry run, is alone on page 2');
    } finally {
      await asApprover.own.close();
    }
    const job = ok(flatten(await alpha.callTool({ name: 'jobs_get', arguments: { id: queued } })));
    assert.equal(job.state, 'cancelled', 'the approved step cancelled the job');
    const decided = ok(flatten(await alpha.callTool({ name: 'approvals_list', arguments: { state: 'approved', kind: 'agent-step' } }))).approvals as Row[];
    assert.equal(decided.find((one) => one.id === approvalOfStep)?.decidedBy, 'key:' + approverKey.split('_')[1]);

    // Another project's key with agent:read sees no runs, and the run's id is not found.
    const betaReaderKey = (await keys.create({ project: 'beta', scopes: ['agent:read', 'approvals:read'], name: 'beta-reader' })).key;
    const beta = await signInOverHttp(betaReaderKey);
    const listed = (await (await callTool(beta, 'ops_list', {})).json()) as { result: { runs: unknown[] } };
    assert.deepEqual(listed.result.runs, []);
    assert.equal((await callTool(beta, 'ops_get', { runId: run.runId })).status, 404);
    const asBeta = await signedInPage(betaReaderKey);
    try {
      await asBeta.tab.goto(`${base}/ui#/agent/${run.runId}`);
      await asBeta.tab.getByText('No runs.').waitFor();
      await asBeta.tab.getByRole('alert').filter({ hasText: 'ANVIL_E_NOT_FOUND' }).waitFor();
      await asBeta.tab.screenshot({ path: path.join(ARTIFACTS, 'agent-foreign-run.png'), fullPage: true });
    } finally {
      await asBeta.own.close();
    }
  });

  it('shows a model version’s evaluation report and the alias history; promotes and rolls back a deployment', { skip: banking77Missing() ?? false }, async () => {
    // Two small Banking77 models (the second trained on shuffled labels), v1 the champion, v2 compared with it, v1 deployed.
    const mcp = async (tool: string, args: Record<string, unknown> = {}) => flatten(await alpha.callTool({ name: tool, arguments: args }));
    const slice = banking77Slice();
    const v1 = await trainVersion(mcp, writeSliceCsv(docs, 'b77.csv', slice.train), 'b77', 'intents');
    const v2 = await trainVersion(mcp, writeSliceCsv(docs, 'b77-shuffled.csv', slice.train, 11), 'b77-shuffled', 'intents');
    ok(await mcp('models_set_alias', { name: 'intents', alias: 'champion', version: v1, reason: 'first model' }));
    const compared = ok(await mcp('eval_compare', { candidate: { model: 'intents', version: v2 }, dataset: 'b77' }));
    for (;;) {
      const view = ok(await mcp('jobs_get', { id: String(compared.jobId), waitSeconds: 30 }));
      if (view.timedOut) continue;
      assert.equal(view.state, 'succeeded', JSON.stringify(view.error));
      break;
    }
    ok(await mcp('deployments_create', { name: 'intents-live', model: 'intents', version: v1 }));

    await page.goto(`${base}/ui#/models/intents`);
    await page.getByLabel('Version shown below').selectOption(String(v2));
    const reports = page.getByRole('table', { name: `Evaluation reports of intents v${v2}` });
    const report = reports.locator('tbody tr').first();
    await report.waitFor({ timeout: 15_000 });
    const reportText = await report.textContent() ?? '';
    assert.match(reportText, /compare/);
    assert.match(reportText, new RegExp(`v${v1}`), 'the champion it was measured against');
    assert.match(reportText, /better|worse|inconclusive/);
    assert.match(reportText, new RegExp(`anvil://evaluations/${String(compared.jobId)}/report`));
    const history = page.getByRole('table', { name: 'Alias history of intents' });
    await history.getByRole('cell', { name: 'first model' }).waitFor();
    await shot('model-evaluations');

    // The comparison's report rendered from its Markdown: headings and tables, not the URI alone.
    await page.getByRole('button', { name: `Show report ${String(compared.jobId).slice(0, 8)}` }).click();
    const rendered = page.getByRole('document', { name: `Report of evaluation ${String(compared.jobId).slice(0, 8)}` });
    await rendered.getByRole('heading', { name: 'Per-class F1 changes' }).waitFor({ timeout: 15_000 });
    assert.match(await rendered.locator('table').first().textContent() ?? '', /Accuracy/);
    assert.match(await rendered.textContent() ?? '', /Verdict: (better|worse|inconclusive)/);
    await shot('model-evaluation-report');

    // A report carrying hostile text: v1 evaluated on a dataset whose labels are HTML. The labels
    // reach the report (the model never saw them) and the page shows them as text, running nothing.
    const hostileLabels = ['<script>window.__anvilPwned = 1</script>', '<img src=x onerror="window.__anvilPwned = 2">'];
    const csv = (value: string) => `"${value.replaceAll('"', '""')}"`;
    const hostileRows = Array.from({ length: 8 }, (_, i) => `${csv(`i lost my card number ${i}`)},${csv(hostileLabels[i % 2] as string)}`);
    writeFileSync(path.join(docs, 'hostile.csv'), ['text,category', ...hostileRows].join('\n') + '\n');
    ok(await mcp('datasets_import', { name: 'hostile', path: path.join(docs, 'hostile.csv'), labelColumn: 'category' }));
    const hostileEval = ok(await mcp('eval_run', { model: 'intents', version: v1, dataset: 'hostile', split: 'all' }));
    for (;;) {
      const view = ok(await mcp('jobs_get', { id: String(hostileEval.jobId), waitSeconds: 30 }));
      if (view.timedOut) continue;
      assert.equal(view.state, 'succeeded', JSON.stringify(view.error));
      break;
    }
    const hostileReport = ok(await mcp('eval_get', { id: String(hostileEval.jobId), includeReport: true })).report as string;
    assert.ok(hostileReport.includes(hostileLabels[0] as string), 'the report holds the label as written');
    await page.getByLabel('Version shown below').selectOption(String(v1));
    await page.getByRole('button', { name: `Show report ${String(hostileEval.jobId).slice(0, 8)}` }).click();
    const hostile = page.getByRole('document', { name: `Report of evaluation ${String(hostileEval.jobId).slice(0, 8)}` });
    await hostile.getByText(hostileLabels[0] as string).first().waitFor({ timeout: 15_000 });
    await hostile.getByText(hostileLabels[1] as string).first().waitFor();
    assert.equal(await hostile.locator('script, img, iframe, [onerror]').count(), 0, 'nothing of the report became markup');
    assert.equal(await page.evaluate(() => (globalThis as { __anvilPwned?: number }).__anvilPwned), undefined, 'no script of the report ran');
    await shot('model-evaluation-report-hostile');

    // A few predictions: the monitor's charts come from the stored prediction log, bucketed by the server.
    ok(await mcp('predict', { deployment: 'intents-live', inputs: ['i lost my card', 'where is my refund', 'my card was declined'] }));
    await page.goto(`${base}/ui#/deployments/intents-live`);
    const variants = page.getByRole('table', { name: 'Variants and weights' });
    await variants.getByRole('cell', { name: String(v1), exact: true }).waitFor({ timeout: 15_000 });
    const requestsChart = page.getByRole('img', { name: /^Requests per bucket: / });
    await requestsChart.waitFor({ timeout: 15_000 });
    const perVariant = /^Requests per bucket: [^ ]+ \((\d+) points\)$/.exec(await requestsChart.getAttribute('aria-label') ?? '');
    assert.ok(perVariant, 'one variant served the requests');
    assert.ok(Number(perVariant[1]) >= 2 && Number(perVariant[1]) <= 120, `every bucket of the hour, at most 120 (${perVariant[1]})`);
    await page.getByRole('img', { name: /^Latency p50 \/ p99 \(ms\): .* p50 .* p99/ }).waitFor();
    await shot('deployment-monitor');
    await page.getByLabel('Version to promote').fill(String(v2));
    await page.getByRole('button', { name: 'Promote' }).click();
    await variants.getByRole('cell', { name: String(v2), exact: true }).waitFor({ timeout: 15_000 });
    await page.getByRole('table', { name: 'History' }).getByRole('cell', { name: 'promoted', exact: true }).waitFor();
    await shot('deployment-promoted');
    await page.getByRole('button', { name: 'Roll back' }).click();
    await variants.getByRole('cell', { name: String(v1), exact: true }).waitFor({ timeout: 15_000 });
    await shot('deployment-rolled-back');
    const served = ok(await mcp('deployments_get', { name: 'intents-live' })).variants as Array<{ version: number; weight: number }>;
    assert.deepEqual(served.map((variant) => [variant.version, variant.weight]), [[v1, 100]]);

    // A canary of v2 waiting at its first step: the page shows the step and the guardrail against its threshold.
    ok(await mcp('deployments_canary', { name: 'intents-live', candidate: v2, steps: [{ percent: 20, untilApproved: true }, { percent: 100, untilApproved: true }], guardrails: [{ metric: 'error_rate', op: '<', threshold: 0.5, minSamples: 1000 }] }));
    await page.reload();
    await page.getByText('Step').first().waitFor();
    await page.getByText(/^1 of 2: /).waitFor({ timeout: 15_000 });
    const guardrails = page.getByRole('table', { name: 'Guardrails (latest readings)' });
    await guardrails.waitFor();
    assert.match(await guardrails.textContent() ?? '', /error_rate.*< 0\.5/);
    // The list says where the canary is, not its JSON.
    await page.waitForFunction(() => document.querySelector('main table')?.textContent?.includes('step 1 of 2') ?? false, undefined, { timeout: 10_000 }).catch(() => {});
    assert.match(await page.locator('main table').first().textContent() ?? '', new RegExp(`v${v1} → v${v2}, step 1 of 2 \\((progressing|awaiting-approval)\\)`));
    await shot('deployment-canary');

    // Both moves are in the model's alias history, as the page shows it.
    await page.goto(`${base}/ui#/models/intents`);
    const moves = page.getByRole('table', { name: 'Alias history of intents' }).locator('tbody tr');
    await moves.filter({ hasText: `move: v${v2} → v${v1}` }).first().waitFor({ timeout: 15_000 });
    await moves.filter({ hasText: `move: v${v1} → v${v2}` }).first().waitFor();
    await shot('model-alias-history');

    // Another project: alpha's model is exactly as unknown as a model that does not exist.
    const beta = await host.connect({ project: 'beta', name: 'snoop', scopes: ['*'] });
    for (const [tool, args] of [['models_alias_history', { name: 'intents' }], ['eval_list', { model: 'intents', version: v2 }]] as const) {
      const foreign = flatten(await beta.callTool({ name: tool, arguments: args }));
      const absent = flatten(await beta.callTool({ name: tool, arguments: JSON.parse(JSON.stringify(args).replace('intents', 'nothing-here')) as Record<string, unknown> }));
      assert.ok(foreign.isError && foreign.text.startsWith('ANVIL_E_NOT_FOUND'), foreign.text);
      assert.equal(foreign.text.replace('intents', 'nothing-here'), absent.text);
    }
  });

  it('charts stored GPU telemetry for an operator key; a project key is refused it', async () => {
    // A worker with a SIMULATED inventory (two made-up "A100" readings; no GPU here) heartbeating through
    // the job service, as `anvil worker` does over /api/workers; the jobs plugin's flush stores the samples.
    const jobs = host.server.plugins.exportsOf(jobsPlugin)?.jobs();
    assert.ok(jobs);
    const gpu = (index: number, utilizationPct: number) => ({ index, name: 'NVIDIA A100-SXM4-80GB (simulated)', utilizationPct, memoryUsedMb: 1000 + 100 * utilizationPct, temperatureC: 40 + utilizationPct / 5 });
    const { workerId } = await jobs.service.register({ name: 'sim-a100', capabilities: { gpus: [0, 1].map((index) => ({ index, name: 'NVIDIA A100-SXM4-80GB (simulated)', gpuType: 'a100', memoryTotalMb: 81920 })) }, resourceClasses: ['gpu-a100'], slots: 1, recipes: [] });
    for (const utilization of [5, 40, 80, 60]) await jobs.service.heartbeat(workerId, { telemetry: { gpus: [gpu(0, utilization), gpu(1, 100 - utilization)] }, running: [] });
    await host.runScheduled('jobs', 'telemetry-flush');

    const operatorKey = (await host.server.runtime.keys.create({ project: 'ops', scopes: ['workers:read', 'cluster:observe'], name: 'operator' })).key;
    const own = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    try {
      const tab = await own.newPage();
      await tab.goto(`${base}/ui`);
      await tab.getByLabel('API key').fill(operatorKey);
      await tab.getByRole('button', { name: 'Sign in' }).click();
      await tab.getByTestId('project').waitFor();
      await tab.goto(`${base}/ui#/workers`);
      await tab.locator('[data-gpu="sim-a100 GPU 1"]').waitFor({ timeout: 15_000 });
      const drawn = await tab.locator('[data-gpu="sim-a100 GPU 0"] [data-points]').evaluateAll((nodes) => nodes.map((node) => Number((node as unknown as PageElement).getAttribute('data-points'))));
      assert.equal(drawn.length, 3, 'utilisation, memory and temperature');
      assert.ok(drawn.every((points) => points >= 1), JSON.stringify(drawn));
      await tab.getByLabel('Window').selectOption('1440');
      await tab.getByText(/Each point averages \d+ s/).waitFor();
      await tab.screenshot({ path: path.join(ARTIFACTS, 'workers-telemetry.png'), fullPage: true });
    } finally {
      await own.close();
    }

    // Alpha's key (workers:read, no cluster:observe): the page says whose telemetry it is; the API refuses.
    await page.goto(`${base}/ui#/workers`);
    await page.getByText('GPU telemetry is the cluster operator’s').waitFor();
    assert.equal(await page.locator('[data-gpu]').count(), 0);
    const refused = await callTool(await signInOverHttp(alphaKey), 'workers_telemetry', {});
    assert.equal(refused.status, 403);
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, /cluster:observe/);
  });

  it('refuses another project’s job as not found, in the page and in the API', async () => {
    await page.goto(`${base}/ui#/jobs/${betaJob}`);
    await page.getByRole('alert').filter({ hasText: 'ANVIL_E_NOT_FOUND' }).waitFor();
    await shot('foreign-job');
    const listed = await page.evaluate(async (url) => ((await import(url)) as { call(tool: string, args: object): Promise<unknown> }).call('jobs_list', { limit: 100 }), '/ui/static/api.js');
    assert.ok(!JSON.stringify(listed).includes(betaJob), 'beta’s job is not listed for alpha');
  });

  it('the accessibility checks fail on a page that breaks them (contrast, names, focus indicator)', async () => {
    const broken = await context.newPage();
    try {
      await broken.setContent(`<style>:focus-visible { outline: none; }</style><header><nav><a href="#x">Go</a></nav></header>
        <p style="color: #999">faint</p><p style="color: #777; font-size: 24px">large enough</p><button></button><a href="#y"><img alt=""></a>
        <div style="background: #000"><span style="color: #333">dark on black</span></div><button disabled style="color: #ccc">inactive</button>`);
      const low = await broken.evaluate(lowContrast);
      assert.deepEqual(low.map((one) => /“(.*)” (\d+\.\d\d):1/.exec(one)?.slice(1)), [['faint', '2.85'], ['dark on black', '1.66']], low.join('\n'));
      assert.deepEqual(await broken.evaluate(unnamedControls), ['<button></button>', '<a href="#y"><img alt=""></a>']);
      await broken.keyboard.press('Tab');
      assert.deepEqual(await broken.evaluate(focusShown), { text: 'Go', inNav: true, indicator: false });
      await broken.addStyleTag({ content: ':focus-visible { outline: 3px solid #bf5700; }' });
      assert.equal((await broken.evaluate(focusShown)).indicator, true);
    } finally {
      await broken.close();
    }
  });

  it('draws every page (screenshots at laptop and phone widths); names, keyboard and contrast hold on each', async () => {
    for (const name of ['overview', 'jobs', 'workers', 'datasets', 'models', 'deployments', 'knowledge', 'payments', 'agent']) {
      await page.goto(`${base}/ui#/${name}`);
      await page.locator('main h1').waitFor();
      await page.waitForFunction(() => !document.querySelector('main [aria-live="polite"]'), undefined, { timeout: 10_000 }).catch(() => {});
      await shot(`page-${name}`);
      assert.deepEqual(await page.evaluate(unnamedControls), [], `${name}: every control has an accessible name`);
      assert.deepEqual(await page.evaluate(lowContrast), [], `${name}: text contrast below WCAG AA`);
    }
    await page.setViewportSize({ width: 390, height: 844 });
    for (const name of ['overview', 'jobs', 'workers', 'datasets', 'models/intents', 'deployments', 'knowledge', 'payments', 'agent']) {
      await page.goto(`${base}/ui#/${name}`);
      await page.locator('main h1').waitFor();
      await page.waitForFunction(() => !document.querySelector('main [aria-live="polite"]'), undefined, { timeout: 10_000 }).catch(() => {});
      await shot(`phone-${name.replace('/', '-')}`);
      // Readable on a phone: nothing pushes the page wider than the screen (wide tables scroll in their own box).
      const width = await page.evaluate(() => (document as unknown as { documentElement: { scrollWidth: number } }).documentElement.scrollWidth);
      assert.ok(width <= 390, `${name}: the page is ${width} px wide on a 390 px phone`);
      assert.deepEqual(await page.evaluate(unnamedControls), [], `phone ${name}: every control has an accessible name`);
      assert.deepEqual(await page.evaluate(lowContrast), [], `phone ${name}: text contrast below WCAG AA`);
    }
    await page.setViewportSize({ width: 1280, height: 860 });
    // Keyboard: the first Tab reaches the skip link, which moves focus to the page's content.
    await page.goto(`${base}/ui#/jobs`);
    await page.reload();
    await page.locator('main h1').waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    assert.equal((await page.evaluate(focusShown)).indicator, true, 'the focused skip link shows its focus');
    // Tab walks the main navigation in order, each link showing where the focus is.
    const reached: string[] = [];
    for (let index = 0; index < 9; index += 1) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(focusShown);
      assert.ok(focused.inNav, `Tab ${index + 2} stays in the navigation: ${JSON.stringify(focused)}`);
      assert.equal(focused.indicator, true, `${focused.text}: a visible focus indicator (outline or box-shadow)`);
      reached.push(focused.text ?? '');
    }
    assert.deepEqual(reached, ['Overview', 'Jobs', 'Workers', 'Datasets', 'Models', 'Deployments', 'Knowledge', 'Payments', 'Agent runs']);
    // Enter follows the link, and focus moves to the new page's content.
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Agent runs' }).waitFor();
    // Focus moves in an effect after the new page paints, so the heading can show a moment before it.
    await page.waitForFunction(() => document.activeElement?.getAttribute('id') === 'main', undefined, { timeout: 5000 }).catch(() => undefined);
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('id')), 'main');
    await page.reload();
    await page.locator('main h1').waitFor();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('id')), 'main');
    const errors: string[] = [];
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    await page.goto(`${base}/ui#/overview`);
    await page.locator('main h1').waitFor();
    assert.deepEqual(errors.filter((error) => /Content Security Policy/i.test(error)), [], 'nothing broke the CSP');
  });

  describe('hostile requests', () => {
    it('a forged or expired session cookie is refused', async () => {
      const forged = await fetch(`${base}/ui/api/session`, { headers: { cookie: `anvil_session=${'A'.repeat(43)}` } });
      assert.equal(forged.status, 401);
      const garbage = await callTool({ cookie: 'anvil_session=../../etc/passwd', csrf: 'x' }, 'jobs_list', {});
      assert.equal(garbage.status, 401);
      const session = await signInOverHttp(alphaKey);
      assert.equal((await callTool(session, 'jobs_list', {})).status, 200);
      await host.server.runtime.services.storage.query("update plugin_dashboard.sessions set expires_at = now() - interval '1 second'");
      const expired = await callTool(session, 'jobs_list', {});
      assert.equal(expired.status, 401);
      assert.equal(((await expired.json()) as { error: { code: string } }).error.code, 'ANVIL_E_UNAUTHENTICATED');
    });

    it('a cross-site POST or one without the CSRF token is refused, even with the cookie', async () => {
      const session = await signInOverHttp(alphaKey);
      const crossSite = await callTool(session, 'jobs_cancel', { id: betaJob }, { origin: 'http://localhost:9', 'sec-fetch-site': 'cross-site' });
      assert.equal(crossSite.status, 403);
      const evil = await callTool(session, 'jobs_list', {}, { origin: 'https://evil.example' });
      assert.equal(evil.status, 403);
      const noCsrf = await callTool({ cookie: session.cookie }, 'jobs_list', {});
      assert.equal(noCsrf.status, 403);
      const wrongCsrf = await callTool({ cookie: session.cookie, csrf: 'A'.repeat(43) }, 'jobs_list', {});
      assert.equal(wrongCsrf.status, 403);
      const signInCrossSite = await fetch(`${base}/ui/api/session`, { method: 'POST', headers: { authorization: `Bearer ${alphaKey}`, origin: 'http://localhost:9' } });
      assert.equal(signInCrossSite.status, 403);

      // A real cross-site page in the browser: SameSite=Strict keeps the cookie home, so the write is unauthenticated.
      const evilSite = createServer((_request, response) => {
        response.setHeader('content-type', 'text/html');
        response.end(`<form id="f" method="POST" action="${base}/ui/api/call/jobs_list" enctype="text/plain"><input name='{"arguments":{}, "x":"' value='"}'></form>`);
      });
      await new Promise<void>((resolve) => evilSite.listen(0, '127.0.0.1', resolve));
      try {
        const evilPage = await context.newPage();
        await evilPage.goto(`http://localhost:${(evilSite.address() as AddressInfo).port}/`);
        const [answer] = await Promise.all([evilPage.waitForResponse(`${base}/ui/api/call/jobs_list`), evilPage.evaluate(() => document.getElementById('f')?.submit())]);
        assert.ok([401, 403].includes(answer.status()), `cross-site form post answered ${answer.status()}`);
        await evilPage.close();
      } finally {
        evilSite.close();
      }
    });

    it('another project’s key sees its own project only; a revoked key ends the session', async () => {
      const beta = await signInOverHttp(betaKey);
      const who = (await (await fetch(`${base}/ui/api/session`, { headers: { cookie: beta.cookie } })).json()) as { project: string; tools: string[] };
      assert.equal(who.project, 'beta');
      assert.ok(!who.tools.includes('approvals_decide'), 'tools follow the key’s scopes');
      const alphaJobs = ok(flatten(await alpha.callTool({ name: 'jobs_list', arguments: { limit: 1 } }))).jobs as Row[];
      const foreign = await callTool(beta, 'jobs_get', { id: alphaJobs[0]?.id });
      assert.equal(foreign.status, 404);
      const forbidden = await callTool(beta, 'approvals_list', {});
      assert.equal(forbidden.status, 403);
      const own = await callTool(beta, 'jobs_get', { id: betaJob });
      assert.equal(own.status, 200);

      const keys = host.server.runtime.keys;
      const doomed = await keys.create({ project: 'alpha', scopes: ['jobs:read'], name: 'doomed' });
      const session = await signInOverHttp(doomed.key);
      assert.equal((await callTool(session, 'jobs_list', {})).status, 200);
      await keys.revoke(doomed.id);
      assert.equal((await callTool(session, 'jobs_list', {})).status, 401);
      const afterRevoke = await host.server.runtime.services.storage.query<{ n: number }>('select count(*)::int as n from plugin_dashboard.sessions where key_id = $1', [doomed.id]);
      assert.equal(afterRevoke.rows[0]?.n, 0, 'the revoked key’s session is deleted');
    });

    it('malformed, oversized and unknown calls are refused with their codes', async () => {
      const session = await signInOverHttp(alphaKey);
      const raw = (body: string, tool = 'jobs_list') => fetch(`${base}/ui/api/call/${tool}`, { method: 'POST', headers: { cookie: session.cookie, origin: base, 'x-anvil-csrf': session.csrf, 'content-type': 'application/json' }, body });
      const malformed = await raw('{"arguments": ');
      assert.equal(malformed.status, 400);
      assert.match(await malformed.text(), /expected JSON/);
      assert.equal((await raw(JSON.stringify({ arguments: [1, 2] }))).status, 400);
      assert.equal((await raw(JSON.stringify({ arguments: { pad: 'x'.repeat(300_000) } }))).status, 400);
      const unknown = await raw('{}', 'nope_nothing');
      assert.equal(unknown.status, 404);
      assert.equal((await raw('{}', 'Bad%20Name')).status, 400);
      const invalid = await raw(JSON.stringify({ arguments: { limit: 100_000 } }));
      assert.equal(invalid.status, 400);
      assert.equal(((await invalid.json()) as { error: { code: string } }).error.code, 'ANVIL_E_INVALID_INPUT');
    });

    it('behind a TLS proxy (an https page of this host) the cookie is Secure', async () => {
      const response = await fetch(`${base}/ui/api/session`, { method: 'POST', headers: { authorization: `Bearer ${alphaKey}`, origin: base.replace('http:', 'https:') } });
      assert.equal(response.status, 200, await response.clone().text());
      assert.match(response.headers.get('set-cookie') ?? '', /;\s*Secure/i);
      const plain = await fetch(`${base}/ui/api/session`, { method: 'POST', headers: { authorization: `Bearer ${alphaKey}`, origin: base } });
      assert.doesNotMatch(plain.headers.get('set-cookie') ?? '', /;\s*Secure/i);
    });

    it('sign-out deletes the session', async () => {
      const session = await signInOverHttp(alphaKey);
      const out = await fetch(`${base}/ui/api/session`, { method: 'DELETE', headers: { cookie: session.cookie, origin: base, 'x-anvil-csrf': session.csrf } });
      assert.equal(out.status, 200);
      assert.equal((await callTool(session, 'jobs_list', {})).status, 401);
    });
  });
});
