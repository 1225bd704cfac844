// One component per page. Each reads through tools (useTool / call) as the signed-in key, so a
// page shows exactly what that key may see; a tool the key cannot call shows as unavailable.
import { useEffect, useRef, useState } from 'preact/hooks';
import { call } from './api.js';
import { ActionButton, ErrorBox, fmt, html, KeyValues, LineChart, Loading, Pager, StateBadge, Table, usePager, useTool } from './widgets.js';

const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
const PAGE_SIZE = 25;

function link(href, text) {
  return html`<a href=${href}>${text}</a>`;
}

function Unavailable({ tool }) {
  return html`<p class="muted">Your key cannot call <code>${tool}</code>; this part is hidden.</p>`;
}

function Section({ title, children }) {
  return html`<section aria-label=${title}><h2>${title}</h2>${children}</section>`;
}

// ---------------------------------------------------------------------------------------------
export function Overview({ session }) {
  const has = (tool) => session.tools.includes(tool);
  const status = useTool(has('anvil_status') ? 'anvil_status' : null, {}, [], 10_000);
  const workers = useTool(has('workers_list') ? 'workers_list' : null, { states: ['active'] }, [], 10_000);
  const recent = useTool(has('jobs_list') ? 'jobs_list' : null, { limit: 10 }, [], 5_000);
  const running = useTool(has('jobs_list') ? 'jobs_list' : null, { states: ['queued', 'running'], limit: 100 }, [], 5_000);
  const health = status.data;
  return html`<h1>Overview</h1>
    <${Section} title="Health">
      ${!has('anvil_status') ? html`<${Unavailable} tool="anvil_status" />` : health ? html`<${KeyValues} entries=${[
        ['Version', health.version],
        ['Uptime', `${Math.round(health.uptimeSeconds)} s`],
        ['Storage', html`<span class=${health.storage.ok ? 'ok' : 'bad'}>${health.storage.ok ? 'ok' : 'failing'}</span> ${health.storage.kind} ${fmt(health.storage.latencyMs)} ms`],
        ['Queue', html`<span class=${health.queue.ok ? 'ok' : 'bad'}>${health.queue.ok ? 'ok' : 'failing'}</span> ${health.queue.kind}`],
        ['Workers', `${health.workers.total} (${Object.entries(health.workers.byQueue).map(([queue, count]) => `${queue}: ${count}`).join(', ') || 'none'})`],
        ['Migrations pending', String(health.migrations.reduce((sum, one) => sum + one.pending, 0))],
      ]} />` : html`<${ErrorBox} error=${status.error} />${status.loading ? html`<${Loading} />` : null}`}
    <//>
    <${Section} title="Queues">
      ${running.data ? html`<${KeyValues} entries=${JOB_STATES.slice(0, 2).map((state) => [state, String(running.data.jobs.filter((job) => job.state === state).length) + (running.data.nextCursor ? '+' : '')])} />` : html`<${ErrorBox} error=${running.error} />`}
    <//>
    <${Section} title="Workers">
      ${workers.data ? html`<p>${workers.data.workers.length} active (${workers.data.view} view) — ${link('#/workers', 'details')}</p>` : html`<${ErrorBox} error=${workers.error} />`}
    <//>
    <${Section} title="Recent activity">
      ${recent.data ? html`<${JobTable} jobs=${recent.data.jobs} caption="The 10 newest jobs" />` : html`<${ErrorBox} error=${recent.error} />`}
    <//>`;
}

function JobTable({ jobs, caption }) {
  return html`<${Table} caption=${caption} rows=${jobs} empty="No jobs." columns=${[
    { label: 'Job', render: (job) => link(`#/jobs/${job.id}`, job.id.slice(0, 8)) },
    { label: 'Recipe', key: 'recipe' },
    { label: 'State', render: (job) => html`<${StateBadge} state=${job.state} />` },
    { label: 'Worker', key: 'worker' },
    { label: 'Created', key: 'createdAt' },
    { label: 'Finished', key: 'finishedAt' },
  ]} />`;
}

// ---------------------------------------------------------------------------------------------
export function Jobs() {
  const [states, setStates] = useState([]);
  const [recipe, setRecipe] = useState('');
  const pager = usePager();
  const args = { limit: PAGE_SIZE, ...(states.length ? { states } : {}), ...(recipe ? { recipe } : {}), ...(pager.cursor ? { cursor: pager.cursor } : {}) };
  const list = useTool('jobs_list', args, [], 5_000);
  const toggle = (state) => {
    setStates(states.includes(state) ? states.filter((one) => one !== state) : [...states, state]);
    pager.reset();
  };
  return html`<h1>Jobs</h1>
    <form class="filters" onSubmit=${(event) => { event.preventDefault(); setRecipe(new FormData(event.currentTarget).get('recipe')?.toString().trim() ?? ''); pager.reset(); }}>
      <fieldset><legend>State</legend>
        ${JOB_STATES.map((state) => html`<label class="check"><input type="checkbox" name="state" value=${state} checked=${states.includes(state)} onChange=${() => toggle(state)} /> ${state}</label>`)}
      </fieldset>
      <label>Recipe <input name="recipe" value=${recipe} placeholder="e.g. text-classifier" /></label>
      <button type="submit">Filter</button>
    </form>
    <${ErrorBox} error=${list.error} />
    ${list.data ? html`<${JobTable} jobs=${list.data.jobs} caption="Jobs, newest first" /><${Pager} pager=${pager} nextCursor=${list.data.nextCursor} />` : html`<${Loading} what="jobs" />`}`;
}

// ---------------------------------------------------------------------------------------------
function metricSeries(metrics) {
  return metrics.map((metric) => ({ name: metric.name, points: metric.points.filter((point) => typeof point.value === 'number').map((point) => ({ x: point.step, y: point.value })) }));
}

export function JobDetail({ id }) {
  const [terminal, setTerminal] = useState(false);
  const job = useTool('jobs_get', { id }, [], terminal ? 0 : 1_000);
  const metrics = useTool('jobs_metrics', { id, maxPoints: 300 }, [], terminal ? 0 : 1_000);
  const [lines, setLines] = useState([]);
  const after = useRef(undefined);
  const state = job.data?.state;
  useEffect(() => {
    if (state && TERMINAL.has(state)) setTerminal(true);
  }, [state]);
  // Logs: the newest lines first, then whatever follows, polled while the job runs.
  useEffect(() => {
    let stop = false;
    after.current = undefined;
    setLines([]);
    const read = async () => {
      try {
        const page = after.current === undefined ? await call('jobs_logs', { id, tail: 200 }) : await call('jobs_logs', { id, afterSeq: after.current });
        if (stop) return;
        after.current = page.nextSeq;
        if (page.lines.length) setLines((old) => [...old, ...page.lines].slice(-1000));
      } catch {
        // The job panel shows the refusal.
      }
    };
    void read();
    const timer = setInterval(() => void read(), 1_500);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [id]);
  if (job.error && !job.data) return html`<h1>Job</h1><${ErrorBox} error=${job.error} />`;
  if (!job.data) return html`<${Loading} what="job" />`;
  const data = job.data;
  const series = metrics.data ? metricSeries(metrics.data.metrics) : [];
  return html`<h1>Job <code>${data.id.slice(0, 8)}</code> <${StateBadge} state=${data.state} /></h1>
    <${KeyValues} entries=${[
      ['Id', html`<code>${data.id}</code>`],
      ['Recipe', data.recipe],
      ['Worker', fmt(data.worker)],
      ['Attempt', `${data.attempt} of ${data.maxAttempts}`],
      ['Created', fmt(data.timings.createdAt)],
      ['Started', fmt(data.timings.startedAt)],
      ['Finished', fmt(data.timings.finishedAt)],
      ['Params', html`<code>${JSON.stringify(data.params)}</code>`],
      ...(data.error ? [['Error', html`<code>${JSON.stringify(data.error)}</code>`]] : []),
    ]} />
    ${!TERMINAL.has(data.state) ? html`<${ActionButton} label="Cancel job" kind="danger" confirmText="Cancel this job?" action=${() => call('jobs_cancel', { id, reason: 'cancelled from the dashboard' })} onDone=${() => job.reload()} />` : null}
    <${Section} title="Metrics">
      ${series.length ? html`<${LineChart} title="Metrics by step" series=${series} />
        <${Table} caption="Metric summaries" rows=${metrics.data.metrics} columns=${[
          { label: 'Metric', key: 'name' },
          { label: 'Points', render: (metric) => `${metric.summary.count}${metric.downsampled ? ' (downsampled)' : ''}` },
          { label: 'Last', render: (metric) => fmt(metric.summary.last) },
          { label: 'Min', render: (metric) => fmt(metric.summary.min) },
          { label: 'Max', render: (metric) => fmt(metric.summary.max) },
          { label: 'Flags', render: (metric) => Object.entries(metric.summary.flags).filter(([, on]) => on).map(([flag]) => flag).join(', ') || '—' },
        ]} />` : html`<p class="muted">No metrics yet.</p>`}
    <//>
    <${Section} title="Logs">
      <pre class="logs" tabindex="0" aria-label="Job logs" aria-live="off">${lines.map((line) => `${line.at.slice(11, 19)} ${line.level.padEnd(5)} ${line.message}\n`).join('')}</pre>
    <//>`;
}

// ---------------------------------------------------------------------------------------------
const gpuHistory = new Map();

export function Workers({ session }) {
  const workers = useTool('workers_list', {}, [], 5_000);
  const [, setTick] = useState(0);
  useEffect(() => {
    for (const worker of workers.data?.workers ?? []) {
      for (const gpu of worker.telemetry?.gpus ?? []) {
        const key = `${worker.name} GPU ${gpu.index}`;
        const samples = gpuHistory.get(key) ?? [];
        samples.push({ at: Date.now() / 1000, utilizationPct: gpu.utilizationPct, memoryUsedMb: gpu.memoryUsedMb, temperatureC: gpu.temperatureC });
        gpuHistory.set(key, samples.slice(-360));
      }
    }
    setTick((tick) => tick + 1);
  }, [workers.data]);
  const observe = session.scopes.some((scope) => scope === '*' || scope.startsWith('cluster:'));
  return html`<h1>Workers</h1>
    <${ErrorBox} error=${workers.error} />
    ${workers.data ? html`<p class="muted">${workers.data.view === 'cluster' ? 'Every worker of the cluster.' : 'Workers running this project’s jobs (telemetry needs cluster:observe).'}</p>
      <${Table} caption="Workers" rows=${workers.data.workers} empty="No workers." columns=${[
        { label: 'Name', key: 'name' },
        { label: 'State', render: (worker) => html`<${StateBadge} state=${worker.state} />` },
        { label: 'Classes', key: 'classes' },
        { label: 'Slots', render: (worker) => `${worker.running} / ${worker.slots}` },
        { label: 'GPUs', render: (worker) => worker.gpus.map((gpu) => `${gpu.name ?? gpu.gpuType ?? 'gpu'} ${gpu.memoryTotalMb ?? '?'} MB`).join(', ') || '—' },
        { label: 'Heartbeat', key: 'lastHeartbeat' },
      ]} />` : html`<${Loading} what="workers" />`}
    <${Section} title="GPU telemetry over time">
      ${gpuHistory.size === 0 ? html`<p class="muted">${observe ? 'No GPU telemetry reported (workers without GPUs, or none running).' : 'Telemetry needs the cluster:observe scope.'} Samples are taken every 5 s while this page is open.</p>` : [...gpuHistory.entries()].map(([key, samples]) => html`<div class="chart-row">
          <${LineChart} title=${`${key}: utilisation %`} time=${true} xLabel="time" series=${[{ name: 'util %', points: samples.map((s) => ({ x: s.at, y: s.utilizationPct })) }]} height=${160} />
          <${LineChart} title=${`${key}: memory MB`} time=${true} xLabel="time" series=${[{ name: 'memory MB', points: samples.map((s) => ({ x: s.at, y: s.memoryUsedMb })) }]} height=${160} />
          <${LineChart} title=${`${key}: temperature °C`} time=${true} xLabel="time" series=${[{ name: '°C', points: samples.map((s) => ({ x: s.at, y: s.temperatureC })) }]} height=${160} />
        </div>`)}
    <//>`;
}

// ---------------------------------------------------------------------------------------------
export function Datasets({ name }) {
  const pager = usePager();
  const list = useTool('datasets_list', { limit: PAGE_SIZE, ...(pager.cursor ? { cursor: pager.cursor } : {}) }, []);
  return html`<h1>Datasets</h1><${ErrorBox} error=${list.error} />
    ${list.data ? html`<${Table} caption="Datasets" rows=${list.data.datasets} empty="No datasets." columns=${[
      { label: 'Name', render: (row) => link(`#/datasets/${encodeURIComponent(row.name)}`, row.name) },
      { label: 'Latest version', render: (row) => fmt(row.latest?.version) },
      { label: 'Rows', render: (row) => fmt(row.latest?.rows) },
      { label: 'Created', key: 'createdAt' },
    ]} /><${Pager} pager=${pager} nextCursor=${list.data.nextCursor} />` : html`<${Loading} />`}
    ${name ? html`<${DatasetDetail} name=${name} />` : null}`;
}

function DatasetDetail({ name }) {
  const got = useTool('datasets_get', { name, sampleRows: 5 }, []);
  if (!got.data) return html`<${ErrorBox} error=${got.error} />`;
  const { dataset, labels, lineage } = got.data;
  return html`<${Section} title=${`Dataset ${dataset.name} v${dataset.version}`}>
    <${KeyValues} entries=${[['Format', dataset.format], ['Rows', fmt(dataset.rows)], ['Size', `${fmt(dataset.sizeBytes)} bytes`], ['Splits', fmt(dataset.splits)], ['Versions', `latest ${fmt(dataset.latestVersion)}`], ['SHA-256', html`<code>${dataset.sha256}</code>`]]} />
    <${Table} caption="Schema" rows=${dataset.columns ?? []} columns=${[{ label: 'Column', key: 'name' }, { label: 'Type', key: 'type' }]} />
    <${Table} caption="Label distribution" rows=${Object.entries(labels?.distribution ?? {}).map(([label, count]) => ({ label, count }))} columns=${[{ label: 'Label', key: 'label' }, { label: 'Rows', key: 'count' }]} />
    <${Table} caption="Lineage" rows=${lineage ?? []} empty="No lineage yet." columns=${[{ label: 'Kind', key: 'kind' }, { label: 'Job', key: 'jobId' }, { label: 'Model', key: 'model' }, { label: 'At', key: 'at' }]} />
  <//>`;
}

// ---------------------------------------------------------------------------------------------
export function Models({ name }) {
  const pager = usePager();
  const list = useTool('models_list', { limit: PAGE_SIZE, ...(pager.cursor ? { cursor: pager.cursor } : {}) }, []);
  return html`<h1>Models</h1><${ErrorBox} error=${list.error} />
    ${list.data ? html`<${Table} caption="Models" rows=${list.data.models ?? []} empty="No models." columns=${[
      { label: 'Name', render: (row) => link(`#/models/${encodeURIComponent(row.name)}`, row.name) },
      { label: 'Versions', key: 'versionCount' },
      { label: 'Latest', key: 'latestVersion' },
      { label: 'Task', key: 'latestTask' },
      { label: 'Aliases', render: (row) => fmt(row.aliases) },
    ]} /><${Pager} pager=${pager} nextCursor=${list.data.nextCursor} />` : html`<${Loading} />`}
    ${name ? html`<${ModelDetail} name=${name} />` : null}`;
}

function ModelDetail({ name }) {
  const versions = useTool('models_list', { name, limit: 100 }, []);
  const latest = useTool('models_get', { name }, []);
  return html`<${Section} title=${`Model ${name}`}>
    <${ErrorBox} error=${versions.error ?? latest.error} />
    ${versions.data ? html`<${Table} caption="Versions" rows=${versions.data.versions ?? []} columns=${[
      { label: 'Version', key: 'version' },
      { label: 'Status', key: 'status' },
      { label: 'Metrics', render: (row) => Object.entries(row.metrics ?? {}).slice(0, 4).map(([key, value]) => `${key} ${fmt(value)}`).join(', ') },
      { label: 'Aliases', render: (row) => fmt(row.aliases) },
      { label: 'Job', render: (row) => (row.jobId ? link(`#/jobs/${row.jobId}`, row.jobId.slice(0, 8)) : '—') },
    ]} />` : null}
    ${latest.data ? html`<h3>Model card (v${latest.data.version})</h3><pre class="card">${latest.data.card ?? ''}</pre>` : null}
  <//>`;
}

// ---------------------------------------------------------------------------------------------
export function Deployments({ name }) {
  const list = useTool('deployments_list', { limit: 50 }, []);
  return html`<h1>Deployments</h1><${ErrorBox} error=${list.error} />
    ${list.data ? html`<${Table} caption="Deployments" rows=${list.data.deployments} empty="No deployments." columns=${[
      { label: 'Name', render: (row) => link(`#/deployments/${encodeURIComponent(row.name)}`, row.name) },
      { label: 'Model', key: 'model' },
      { label: 'State', render: (row) => html`<${StateBadge} state=${row.state} />` },
      { label: 'Variants', render: (row) => row.variants.map((variant) => `${variant.name}: v${variant.version} ${variant.weight}%`).join(', ') },
      { label: 'Rollout', render: (row) => fmt(row.rollout) },
    ]} />` : html`<${Loading} />`}
    ${name ? html`<${DeploymentDetail} name=${name} />` : null}`;
}

function DeploymentDetail({ name }) {
  const got = useTool('deployments_get', { name }, []);
  const monitor = useTool('deployments_monitor', { name }, [], 10_000);
  const [version, setVersion] = useState('');
  const refresh = () => { got.reload(); monitor.reload(); };
  return html`<${Section} title=${`Deployment ${name}`}>
    <${ErrorBox} error=${got.error} />
    ${got.data ? html`<${Table} caption="Variants and weights" rows=${got.data.variants} columns=${[{ label: 'Variant', key: 'name' }, { label: 'Version', key: 'version' }, { label: 'Weight %', key: 'weight' }]} />` : null}
    ${monitor.data ? html`<${Table} caption="Monitor (canary guardrails)" rows=${monitor.data.variants} columns=${[
      { label: 'Variant', key: 'variant' }, { label: 'Requests', key: 'requests' }, { label: 'Error rate', key: 'errorRate' }, { label: 'p50 ms', key: 'p50Ms' }, { label: 'p99 ms', key: 'p99Ms' }, { label: 'Accuracy', key: 'accuracy' }, { label: 'PSI', key: 'psi' },
    ]} />` : html`<${ErrorBox} error=${monitor.error} />`}
    <div class="actions">
      <label>Version to promote <input type="number" min="1" value=${version} onInput=${(event) => setVersion(event.currentTarget.value)} /></label>
      <${ActionButton} label="Promote" confirmText=${`Promote ${name}?`} action=${() => call('deployments_promote', { name, ...(version ? { version: Number(version) } : {}), reason: 'promoted from the dashboard' })} onDone=${refresh} />
      <${ActionButton} label="Roll back" kind="danger" confirmText=${`Roll back ${name}?`} action=${() => call('deployments_rollback', { name, reason: 'rolled back from the dashboard' })} onDone=${refresh} />
    </div>
    ${got.data ? html`<${Table} caption="History" rows=${got.data.history} columns=${[{ label: 'At', key: 'at' }, { label: 'By', key: 'by' }, { label: 'Action', key: 'action' }, { label: 'Detail', key: 'detail' }]} />` : null}
  <//>`;
}

// ---------------------------------------------------------------------------------------------
export function Knowledge({ name }) {
  const list = useTool('kb_list', { limit: 100 }, []);
  return html`<h1>Knowledge bases</h1><${ErrorBox} error=${list.error} />
    ${list.data ? html`<${Table} caption="Knowledge bases" rows=${list.data.knowledgeBases} empty="No knowledge bases." columns=${[
      { label: 'Name', render: (row) => link(`#/knowledge/${encodeURIComponent(row.name)}`, row.name) },
      { label: 'Documents', key: 'documents' }, { label: 'Chunks', key: 'chunks' }, { label: 'Dense index', key: 'denseIndex' },
    ]} />` : html`<${Loading} />`}
    ${name ? html`<${KnowledgeDetail} name=${name} />` : null}`;
}

function KnowledgeDetail({ name }) {
  const got = useTool('kb_get', { kb: name, limit: 100 }, []);
  const [query, setQuery] = useState('');
  const [results, setResults] = useState(null);
  const [error, setError] = useState(null);
  const search = async (event) => {
    event.preventDefault();
    setError(null);
    try {
      setResults(await call('kb_search', { kb: name, query, k: 5 }));
    } catch (failure) {
      setError(failure);
    }
  };
  return html`<${Section} title=${`Knowledge base ${name}`}>
    <form class="search" role="search" onSubmit=${search}>
      <label for="kb-query">Search ${name}</label>
      <input id="kb-query" type="search" value=${query} onInput=${(event) => setQuery(event.currentTarget.value)} required />
      <button type="submit">Search</button>
    </form>
    <${ErrorBox} error=${error} />
    ${results ? html`<ol class="results">${results.results.map((hit) => html`<li><blockquote>${hit.quote}</blockquote><cite>${fmt(hit.citation?.title ?? hit.citation?.uri ?? hit.citation)}</cite> <span class="muted">score ${fmt(hit.score)}</span></li>`)}</ol>${results.notice ? html`<p class="muted">${results.notice}</p>` : null}` : null}
    <${ErrorBox} error=${got.error} />
    ${got.data ? html`<${Table} caption="Documents" rows=${got.data.documentList ?? []} columns=${[{ label: 'Title', key: 'title' }, { label: 'Source', key: 'source' }, { label: 'Format', key: 'format' }, { label: 'Chunks', key: 'chunks' }, { label: 'Updated', key: 'updatedAt' }]} />` : null}
  <//>`;
}

// ---------------------------------------------------------------------------------------------
export function Payments() {
  const pager = usePager();
  const payments = useTool('payments_list', { limit: PAGE_SIZE, ...(pager.cursor ? { cursor: pager.cursor } : {}) }, [], 10_000);
  const balances = useTool('ledger_balances', {}, []);
  const mandates = useTool('mandates_list', {}, []);
  return html`<h1>Payments</h1>
    <${Section} title="Intents">
      <${ErrorBox} error=${payments.error} />
      ${payments.data ? html`<${Table} caption="Payment intents, newest first" rows=${payments.data.payments} empty="No payments." columns=${[
        { label: 'Id', render: (row) => html`<code>${row.id.slice(0, 12)}</code>` }, { label: 'Status', render: (row) => html`<${StateBadge} state=${row.status} />` },
        { label: 'Amount', render: (row) => `${row.amount} ${row.currency}` }, { label: 'Payee', key: 'payee' }, { label: 'Mandate', key: 'mandateId' }, { label: 'Created', key: 'createdAt' },
      ]} /><${Pager} pager=${pager} nextCursor=${payments.data.next} />` : null}
    <//>
    <${Section} title="Ledger balances">
      <${ErrorBox} error=${balances.error} />
      ${balances.data ? html`<${Table} caption="Balances by currency" rows=${balances.data.currencies} columns=${[
        { label: 'Currency', key: 'currency' }, { label: 'Debits posted', key: 'debitsPosted' }, { label: 'Credits posted', key: 'creditsPosted' }, { label: 'Pending debits', key: 'debitsPending' }, { label: 'Accounts', key: 'accounts' }, { label: 'Balanced', key: 'balanced' },
      ]} />` : null}
    <//>
    <${Section} title="Mandates">
      <${ErrorBox} error=${mandates.error} />
      ${mandates.data ? html`<${Table} caption="Mandates and their use" rows=${mandates.data.mandates} columns=${[
        { label: 'Id', key: 'id' }, { label: 'Grantee', key: 'grantee' }, { label: 'State', render: (row) => html`<${StateBadge} state=${row.state} />` },
        { label: 'Per payment', render: (row) => `${row.maxPerPayment} ${row.currency}` }, { label: 'Used this period', render: (row) => `${fmt(row.usedThisPeriod)} of ${fmt(row.maxPerPeriod)}` }, { label: 'Approval above', key: 'approvalAbove' },
      ]} />` : null}
    <//>`;
}

// ---------------------------------------------------------------------------------------------
export function Agent({ session }) {
  const agent = session.tools.includes('ops_list');
  const approvals = useTool(session.tools.includes('approvals_list') ? 'approvals_list' : null, { state: 'pending' }, [], 5_000);
  return html`<h1>Agent runs</h1>
    ${agent ? html`<${AgentRuns} />` : html`<p class="notice" role="status">Agent not installed: this server has no <code>ops_list</code> tool for your key.</p>`}
    <${Section} title="Pending approvals">
      ${session.tools.includes('approvals_list') ? html`<${ErrorBox} error=${approvals.error} />
        ${approvals.data ? html`<${Table} caption="Approvals waiting for a decision" rows=${approvals.data.approvals} empty="Nothing waits for approval." columns=${[
          { label: 'Kind', key: 'kind' }, { label: 'Subject', key: 'subject' }, { label: 'Summary', render: (row) => fmt(row.summary) }, { label: 'Requested by', key: 'requestedBy' }, { label: 'Since', key: 'createdAt' },
          { label: 'Decision', render: (row) => html`<span class="decide">
            <${ActionButton} label="Approve" action=${() => call('approvals_decide', { id: row.id, decision: 'approve' })} onDone=${() => approvals.reload()} />
            <${ActionButton} label="Reject" kind="danger" action=${() => call('approvals_decide', { id: row.id, decision: 'deny', reason: 'rejected from the dashboard' })} onDone=${() => approvals.reload()} />
          </span>` },
        ]} />` : html`<${Loading} />`}` : html`<${Unavailable} tool="approvals_list" />`}
    <//>`;
}

function AgentRuns() {
  const [open, setOpen] = useState(null);
  const runs = useTool('ops_list', {}, [], 5_000);
  const detail = useTool(open ? 'ops_get' : null, open ? { id: open } : {}, [open], open ? 3_000 : 0);
  const rows = runs.data?.ops ?? runs.data?.runs ?? [];
  return html`<${Section} title="Runs">
    <${ErrorBox} error=${runs.error} />
    <${Table} caption="Agent runs" rows=${rows} empty="No runs." columns=${[
      { label: 'Run', render: (row) => html`<button type="button" class="linkish" onClick=${() => setOpen(row.id)}>${String(row.id).slice(0, 12)}</button>` },
      { label: 'State', render: (row) => html`<${StateBadge} state=${row.state ?? row.status} />` },
      { label: 'Goal', render: (row) => fmt(row.goal ?? row.title ?? row.summary) },
      { label: 'Created', key: 'createdAt' },
    ]} />
    ${open && detail.data ? html`<h3>Run ${open}</h3>
      <${Table} caption="Plan steps" rows=${detail.data.steps ?? detail.data.plan?.steps ?? []} columns=${[
        { label: 'Step', render: (row) => fmt(row.title ?? row.tool ?? row.name) }, { label: 'State', render: (row) => fmt(row.state ?? row.status) },
      ]} />` : null}
  <//>`;
}
