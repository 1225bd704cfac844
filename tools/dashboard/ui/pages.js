// One component per page. Each reads through tools (useTool / call) as the signed-in key, so a
// page shows exactly what that key may see; a tool the key cannot call shows as unavailable.
import { useEffect, useRef, useState } from 'preact/hooks';
import { call } from './api.js';
import { Markdown } from './markdown.js';
import { ActionButton, ErrorBox, fmt, html, KeyValues, LineChart, Pager, Show, StateBadge, Table, usePager, useTool } from './widgets.js';

const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
const PAGE_SIZE = 25;

function link(href, text) {
  return html`<a href=${href}>${text}</a>`;
}

function Section({ title, children }) {
  return html`<section aria-label=${title}><h2>${title}</h2>${children}</section>`;
}

const cursorArg = (pager) => (pager.cursor ? { cursor: pager.cursor } : {});

// ---------------------------------------------------------------------------------------------
export function Overview({ session }) {
  const status = useTool('anvil_status', {}, { session, pollMs: 10_000 });
  const workers = useTool('workers_list', { states: ['active'] }, { session, pollMs: 10_000 });
  const recent = useTool('jobs_list', { limit: 10 }, { session, pollMs: 5_000 });
  const open = useTool('jobs_list', { states: ['queued', 'running'], limit: 100 }, { session, pollMs: 5_000 });
  const pending = useTool('approvals_list', { state: 'pending', limit: 100 }, { session, pollMs: 10_000 });
  return html`<h1>Overview</h1>
    <${Section} title="Health">
      <${Show} state=${status}>${(health) => html`<${KeyValues} entries=${[
        ['Version', health.version],
        ['Uptime', `${Math.round(health.uptimeSeconds)} s`],
        ['Storage', html`<span class=${health.storage.ok ? 'ok' : 'bad'}>${health.storage.ok ? 'ok' : 'failing'}</span> ${health.storage.kind}, ${fmt(health.storage.latencyMs)} ms`],
        ['Queue', html`<span class=${health.queue.ok ? 'ok' : 'bad'}>${health.queue.ok ? 'ok' : 'failing'}</span> ${health.queue.kind}`],
        ['Workers', `${health.workers.total} (${Object.entries(health.workers.byQueue).map(([queue, count]) => `${queue}: ${count}`).join(', ') || 'none'})`],
        ['Migrations pending', String(health.migrations.reduce((sum, one) => sum + one.pending, 0))],
      ]} />`}<//>
    <//>
    <${Section} title="Queues">
      <${Show} state=${open}>${(data) => html`<${KeyValues} entries=${['queued', 'running'].map((state) => [state, String(data.jobs.filter((job) => job.state === state).length) + (data.nextCursor ? '+' : '')])} />`}<//>
      <${Show} state=${pending}>${(data) => html`<p>${link('#/agent', `${data.approvals.length} approval${data.approvals.length === 1 ? '' : 's'} waiting`)}</p>`}<//>
    <//>
    <${Section} title="Workers">
      <${Show} state=${workers}>${(data) => html`<p>${data.workers.length} active (${data.view} view) — ${link('#/workers', 'details')}</p>`}<//>
    <//>
    <${Section} title="Recent activity">
      <${Show} state=${recent}>${(data) => html`<${JobTable} jobs=${data.jobs} caption="The 10 newest jobs" />`}<//>
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
export function Jobs({ session }) {
  const [states, setStates] = useState([]);
  const [recipe, setRecipe] = useState('');
  const pager = usePager();
  const args = { limit: PAGE_SIZE, ...(states.length ? { states } : {}), ...(recipe ? { recipe } : {}), ...cursorArg(pager) };
  const list = useTool('jobs_list', args, { session, pollMs: 5_000 });
  const toggle = (state) => {
    setStates(states.includes(state) ? states.filter((one) => one !== state) : [...states, state]);
    pager.reset();
  };
  const filter = (event) => {
    event.preventDefault();
    setRecipe(new FormData(event.currentTarget).get('recipe')?.toString().trim() ?? '');
    pager.reset();
  };
  return html`<h1>Jobs</h1>
    <form class="filters" onSubmit=${filter}>
      <fieldset><legend>State</legend>
        ${JOB_STATES.map((state) => html`<label class="check"><input type="checkbox" name="state" value=${state} checked=${states.includes(state)} onChange=${() => toggle(state)} /> ${state}</label>`)}
      </fieldset>
      <label>Recipe <input name="recipe" defaultValue=${recipe} placeholder="e.g. text-classifier" /></label>
      <button type="submit">Filter</button>
    </form>
    <${Show} state=${list}>${(data) => html`<${JobTable} jobs=${data.jobs} caption="Jobs, newest first" /><${Pager} pager=${pager} nextCursor=${data.nextCursor} />`}<//>`;
}

// ---------------------------------------------------------------------------------------------
function metricSeries(metrics) {
  return metrics.map((metric) => ({ name: metric.name, points: metric.points.filter((point) => typeof point.value === 'number').map((point) => ({ x: point.step, y: point.value })) }));
}

/**
 * Log lines: streamed from `GET /ui/api/events?job=` (Server-Sent Events, woken by the job's own
 * changes) while the job runs; if the stream cannot be opened or breaks, the newest 200 lines and
 * then whatever follows are polled instead. `onChange(kind)` hears the stream's state and metrics
 * events so the page re-reads those at once.
 */
function useJobLogs(id, live, onChange) {
  const [lines, setLines] = useState([]);
  const [streaming, setStreaming] = useState(false);
  const after = useRef(undefined);
  const changed = useRef(onChange);
  changed.current = onChange;
  useEffect(() => {
    after.current = undefined;
    setLines([]);
  }, [id]);
  useEffect(() => {
    let stop = false;
    let timer;
    let source;
    const append = (page) => {
      if (stop) return;
      after.current = page.nextSeq;
      if (page.lines.length) setLines((old) => [...old, ...page.lines.filter((line) => !old.length || line.seq > old[old.length - 1].seq)].slice(-1000));
    };
    const read = async () => {
      try {
        append(after.current === undefined ? await call('jobs_logs', { id, tail: 200 }) : await call('jobs_logs', { id, afterSeq: after.current }));
      } catch {
        // The job panel shows the refusal.
      }
    };
    const poll = () => {
      if (stop || timer) return;
      setStreaming(false);
      void read();
      if (live) timer = setInterval(() => void read(), 1_500);
    };
    if (live && typeof EventSource === 'function') {
      source = new EventSource(`/ui/api/events?job=${encodeURIComponent(id)}`);
      source.addEventListener('open', () => setStreaming(true));
      source.addEventListener('logs', (event) => append(JSON.parse(event.data)));
      source.addEventListener('state', () => changed.current?.('state'));
      source.addEventListener('metrics', () => changed.current?.('metrics'));
      source.addEventListener('end', () => {
        source.close();
        setStreaming(false);
        changed.current?.('state');
      });
      // A refusal, a broken connection or a failed stream: stop the browser's reconnecting and poll.
      const fallBack = () => {
        source.close();
        poll();
      };
      source.addEventListener('failed', fallBack);
      source.addEventListener('error', fallBack);
    } else {
      poll();
    }
    return () => {
      stop = true;
      source?.close();
      if (timer) clearInterval(timer);
    };
  }, [id, live]);
  return { lines, streaming };
}

export function JobDetail({ id, session }) {
  const [live, setLive] = useState(true);
  const [streaming, setStreaming] = useState(false);
  // While the event stream is open it says when to re-read; otherwise state and curves are polled.
  const pollMs = live ? (streaming ? 15_000 : 1_000) : 0;
  const job = useTool('jobs_get', { id }, { session, pollMs });
  const metrics = useTool('jobs_metrics', { id, maxPoints: 300 }, { session, pollMs });
  const logs = useJobLogs(id, live, (kind) => (kind === 'metrics' ? metrics.reload() : job.reload()));
  const lines = logs.lines;
  useEffect(() => setStreaming(logs.streaming), [logs.streaming]);
  const state = job.data?.state;
  useEffect(() => {
    // One last read of everything once the job has ended, then the page stops polling.
    if (state && TERMINAL.has(state) && live) {
      metrics.reload();
      setLive(false);
    }
  }, [state]);
  if (!job.data) return html`<h1>Job</h1><${Show} state=${job}>${() => null}<//>`;
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
    ${!TERMINAL.has(data.state) && session.tools.includes('jobs_cancel') ? html`<${ActionButton} label="Cancel job" kind="danger" confirmText="Cancel this job?" action=${() => call('jobs_cancel', { id, reason: 'cancelled from the dashboard' })} onDone=${() => job.reload()} />` : null}
    <${Section} title="Metrics">
      ${series.length ? html`<${LineChart} title="Metrics by step" series=${series} />
        <${Table} caption="Metric summaries" rows=${metrics.data.metrics} columns=${[
          { label: 'Metric', key: 'name' },
          { label: 'Points', render: (metric) => `${metric.summary.count}${metric.downsampled ? ` (${metric.points.length} drawn)` : ''}` },
          { label: 'Last', render: (metric) => fmt(metric.summary.last) },
          { label: 'Min', render: (metric) => fmt(metric.summary.min) },
          { label: 'Max', render: (metric) => fmt(metric.summary.max) },
          { label: 'Flags', render: (metric) => Object.entries(metric.summary.flags).filter(([, on]) => on).map(([flag]) => flag).join(', ') || '—' },
        ]} />` : html`<p class="muted">No metrics yet.</p>`}
    <//>
    <${Section} title="Logs">
      <p class="muted" data-log-source=${logs.streaming ? 'stream' : 'poll'}>${logs.streaming ? 'Live: streaming new lines as they are written.' : live ? 'Refreshing every 1.5 s.' : ''}</p>
      <pre class="logs" tabindex="0" aria-label="Job logs">${lines.map((line) => `${line.at.slice(11, 19)} ${line.level.padEnd(5)} ${line.message}\n`).join('') || 'No log lines yet.'}</pre>
    <//>`;
}

// ---------------------------------------------------------------------------------------------
const TELEMETRY_WINDOWS = [[15, 'last 15 minutes'], [60, 'last hour'], [360, 'last 6 hours'], [1440, 'last 24 hours']];
const OPERATOR_READ = ['cluster:observe', 'cluster:operate'];

function GpuCharts({ entry, span }) {
  const label = `${entry.worker} GPU ${entry.gpu}`;
  const chart = (title, name, pick) => html`<${LineChart} title=${`${label}: ${title}`} time=${true} xLabel="time" height=${160} xRange=${span} series=${[{ name, points: entry.points.map((point) => ({ x: Date.parse(point.at) / 1000, y: pick(point) })) }]} />`;
  return html`<div class="chart-row" data-gpu=${label}>
    ${chart('utilisation', 'util %', (point) => point.utilizationPct)}
    ${chart('memory used', 'MB', (point) => point.memoryUsedMb)}
    ${chart('temperature', '°C', (point) => point.temperatureC)}
  </div>`;
}

/** Stored GPU history (workers_telemetry, downsampled by the server), for keys with the operator's cluster:observe. */
function GpuHistory({ session }) {
  const operator = session.scopes.some((scope) => OPERATOR_READ.includes(scope));
  const [minutes, setMinutes] = useState(60);
  const history = useTool(operator ? 'workers_telemetry' : null, { minutes, maxPoints: 120 }, { session, pollMs: 15_000 });
  if (!operator) return html`<p class="muted">GPU telemetry is the cluster operator’s: it needs a key with cluster:observe.</p>`;
  return html`<p><label>Window <select value=${minutes} onChange=${(event) => setMinutes(Number(event.currentTarget.value))}>
      ${TELEMETRY_WINDOWS.map(([value, text]) => html`<option value=${value}>${text}</option>`)}
    </select></label></p>
    <${Show} state=${history}>${(data) => html`<p class="muted">Each point averages ${data.bucketSeconds} s of heartbeats (kept every ${data.sampleSeconds} s at most, for ${data.retentionHours} h).</p>
      ${data.series.length === 0
        ? html`<p class="muted">No GPU samples in this window (no GPU workers, or none heartbeating).</p>`
        : data.series.map((entry) => html`<${GpuCharts} key=${`${entry.worker}/${entry.gpu}`} entry=${entry} span=${[Date.parse(data.from) / 1000, Date.parse(data.to) / 1000]} />`)}`}<//>`;
}

export function Workers({ session }) {
  const workers = useTool('workers_list', {}, { session, pollMs: 5_000 });
  return html`<h1>Workers</h1>
    <${Show} state=${workers}>${(data) => html`<p class="muted">${data.view === 'cluster' ? 'Every worker of the cluster.' : 'The workers running this project’s jobs (the cluster view and telemetry need cluster:observe).'}</p>
      <${Table} caption="Workers" rows=${data.workers} empty="No workers." columns=${[
        { label: 'Name', key: 'name' },
        { label: 'State', render: (worker) => html`<${StateBadge} state=${worker.state} />` },
        { label: 'Classes', key: 'classes' },
        { label: 'Slots', render: (worker) => `${worker.running} / ${worker.slots}` },
        { label: 'GPUs', render: (worker) => worker.gpus.map((gpu) => `${gpu.name ?? gpu.gpuType ?? 'gpu'} ${gpu.memoryTotalMb ?? '?'} MB`).join(', ') || '—' },
        { label: 'Load', render: (worker) => fmt(worker.telemetry?.loadAverage) },
        { label: 'Heartbeat', key: 'lastHeartbeat' },
      ]} />`}<//>
    <${Section} title="GPU telemetry over time">
      <${GpuHistory} session=${session} />
    <//>`;
}

// ---------------------------------------------------------------------------------------------
export function Datasets({ name, session }) {
  const pager = usePager();
  const list = useTool('datasets_list', { limit: PAGE_SIZE, ...cursorArg(pager) }, { session });
  return html`<h1>Datasets</h1>
    <${Show} state=${list}>${(data) => html`<${Table} caption="Datasets" rows=${data.datasets} empty="No datasets." columns=${[
      { label: 'Name', render: (row) => link(`#/datasets/${encodeURIComponent(row.name)}`, row.name) },
      { label: 'Latest version', render: (row) => fmt(row.latest?.version) },
      { label: 'Rows', render: (row) => fmt(row.latest?.rows) },
      { label: 'Created', key: 'createdAt' },
    ]} /><${Pager} pager=${pager} nextCursor=${data.nextCursor} />`}<//>
    ${name ? html`<${DatasetDetail} name=${name} session=${session} />` : null}`;
}

function DatasetDetail({ name, session }) {
  const [version, setVersion] = useState(undefined);
  const got = useTool('datasets_get', { name, sampleRows: 5, ...(version ? { version } : {}) }, { session });
  return html`<${Show} state=${got}>${({ dataset, labels, lineage }) => html`<${Section} title=${`Dataset ${dataset.name} v${dataset.version}`}>
    <nav class="versions" aria-label="Versions">Versions: ${Array.from({ length: dataset.latestVersion ?? dataset.version }, (_, index) => index + 1).map((one) => html`<button type="button" aria-pressed=${one === dataset.version} onClick=${() => setVersion(one)}>v${one}</button>`)}</nav>
    <${KeyValues} entries=${[['Format', dataset.format], ['Rows', fmt(dataset.rows)], ['Size', `${fmt(dataset.sizeBytes)} bytes`], ['Splits', fmt(dataset.splits)], ['Text / label', `${fmt(dataset.textColumn)} / ${fmt(dataset.labelColumn)}`], ['SHA-256', html`<code>${dataset.sha256}</code>`]]} />
    <${Table} caption="Schema" rows=${dataset.columns ?? []} columns=${[{ label: 'Column', key: 'name' }, { label: 'Type', key: 'type' }]} />
    <${Table} caption=${`Label distribution${labels?.truncated ? ' (top labels)' : ''}`} rows=${Object.entries(labels?.distribution ?? {}).map(([label, count]) => ({ label, count }))} columns=${[{ label: 'Label', key: 'label' }, { label: 'Rows', key: 'count' }]} />
    <${Table} caption="Lineage" rows=${lineage ?? []} empty="No lineage yet." columns=${[{ label: 'Kind', key: 'kind' }, { label: 'Job', render: (row) => (row.jobId ? link(`#/jobs/${row.jobId}`, row.jobId.slice(0, 8)) : '—') }, { label: 'Model', key: 'model' }, { label: 'At', key: 'at' }]} />
  <//>`}<//>`;
}

// ---------------------------------------------------------------------------------------------
export function Models({ name, session }) {
  const pager = usePager();
  const list = useTool('models_list', { limit: PAGE_SIZE, ...cursorArg(pager) }, { session });
  return html`<h1>Models</h1>
    <${Show} state=${list}>${(data) => html`<${Table} caption="Models" rows=${data.models ?? []} empty="No models." columns=${[
      { label: 'Name', render: (row) => link(`#/models/${encodeURIComponent(row.name)}`, row.name) },
      { label: 'Versions', key: 'versionCount' },
      { label: 'Latest', key: 'latestVersion' },
      { label: 'Task', key: 'latestTask' },
      { label: 'Aliases', render: (row) => fmt(row.aliases) },
    ]} /><${Pager} pager=${pager} nextCursor=${data.nextCursor} />`}<//>
    ${name ? html`<${ModelDetail} name=${name} session=${session} />` : null}`;
}

/** A headline metric of an evaluation summary for a table cell: the value and its bootstrap interval when there is one. */
function evalMetric(summary, key) {
  const value = summary?.[key];
  if (typeof value !== 'number') return '—';
  const interval = summary.intervals?.[key];
  return interval ? `${fmt(value)} [${fmt(interval.low)}, ${fmt(interval.high)}]` : fmt(value);
}

/** One evaluation's Markdown report (eval_get includeReport), rendered by markdown.js: text only, never the report's HTML. */
function EvaluationReport({ id, session, onClose }) {
  const got = useTool('eval_get', { id, includeReport: true }, { session });
  return html`<section class="report" aria-label=${`Evaluation report ${id.slice(0, 8)}`}>
    <p><button type="button" onClick=${onClose}>Close report</button> <code>${got.data?.reportUri ?? ''}</code></p>
    <${Show} state=${got}>${(data) => (data.report ? html`<${Markdown} source=${data.report} label=${`Report of evaluation ${id.slice(0, 8)}`} />` : html`<p class="muted">This evaluation has no report.</p>`)}<//>
  </section>`;
}

function ModelDetail({ name, session }) {
  const [version, setVersion] = useState('latest');
  const [openReport, setOpenReport] = useState(null);
  const ref = version === 'latest' ? undefined : Number(version);
  const versionPager = usePager();
  const historyPager = usePager();
  useEffect(() => {
    versionPager.reset();
    historyPager.reset();
  }, [name]);
  const versions = useTool('models_list', { name, limit: PAGE_SIZE, ...cursorArg(versionPager) }, { session });
  const chosen = useTool('models_get', { name, ...(ref ? { version: ref } : {}) }, { session });
  const shownVersion = chosen.data?.version;
  const evaluations = useTool(shownVersion ? 'eval_list' : null, { model: name, version: shownVersion }, { session });
  const history = useTool('models_alias_history', { name, limit: PAGE_SIZE, ...cursorArg(historyPager) }, { session });
  const versionLabel = (number) => (number === null || number === undefined ? '—' : `v${number}`);
  return html`<${Section} title=${`Model ${name}`}>
    <${Show} state=${versions}>${(data) => html`<${Table} caption="Versions and metrics" rows=${data.versions ?? []} columns=${[
      { label: 'Version', key: 'version' },
      { label: 'Status', key: 'status' },
      { label: 'Metrics', render: (row) => Object.entries(row.metrics ?? {}).filter(([, value]) => typeof value !== 'object').slice(0, 6).map(([key, value]) => `${key} ${fmt(value)}`).join(', ') },
      { label: 'Aliases', render: (row) => fmt(row.aliases) },
      { label: 'Job', render: (row) => (row.jobId ? link(`#/jobs/${row.jobId}`, row.jobId.slice(0, 8)) : '—') },
    ]} /><${Pager} pager=${versionPager} nextCursor=${data.nextCursor} label="Version pages" />
    <label>Version shown below <select aria-label="Version shown below" value=${version} onChange=${(event) => setVersion(event.currentTarget.value)}>
      <option value="latest">latest</option>
      ${(data.versions ?? []).map((row) => html`<option value=${String(row.version)}>v${row.version}${row.aliases?.length ? ` (${row.aliases.join(', ')})` : ''}</option>`)}
    </select></label>`}<//>
    <${Show} state=${chosen}>${(data) => html`<h3>Model card (v${data.version})</h3><div class="card" tabindex="0"><${Markdown} source=${data.card ?? ''} label=${`Model card of ${name} v${data.version}`} headingOffset=${3} /></div>`}<//>
    <h3>Evaluations of ${versionLabel(shownVersion)}</h3>
    <${Show} state=${evaluations}>${(data) => html`<${Table} caption=${`Evaluation reports of ${name} ${versionLabel(shownVersion)}`} rows=${data.evaluations} empty="No evaluations of this version yet (eval_run, eval_compare)." columns=${[
      { label: 'Evaluation', render: (row) => html`<code>${row.id.slice(0, 8)}</code>` },
      { label: 'Kind', key: 'kind' },
      { label: 'Candidate', render: (row) => (row.model ? versionLabel(row.model.version) : '—') },
      { label: 'Champion', render: (row) => (row.champion ? versionLabel(row.champion.version) : '—') },
      { label: 'Dataset', render: (row) => (row.dataset ? `${row.dataset.name} v${row.dataset.version} (${row.split}, ${row.rows} rows)` : `${row.split}, ${row.rows} rows`) },
      { label: 'Accuracy', render: (row) => evalMetric(row.metrics.candidate, 'accuracy') },
      { label: 'Macro F1', render: (row) => evalMetric(row.metrics.candidate, 'macroF1') },
      { label: 'Verdict', render: (row) => (row.verdict ? html`<${StateBadge} state=${row.verdict} />` : '—') },
      { label: 'Report', render: (row) => (row.reportUri ? html`<button type="button" aria-label=${`Show report ${row.id.slice(0, 8)}`} aria-pressed=${openReport === row.id} onClick=${() => setOpenReport(row.id)}>Show report</button> <code>${row.reportUri}</code>` : '—') },
      { label: 'At', render: (row) => fmt(row.createdAt) },
    ]} />`}<//>
    ${openReport ? html`<${EvaluationReport} key=${openReport} id=${openReport} session=${session} onClose=${() => setOpenReport(null)} />` : null}
    <h3>Alias history</h3>
    <${Show} state=${history}>${(data) => html`<${Table} caption=${`Alias history of ${name}`} rows=${data.changes} empty="No alias was ever set." columns=${[
      { label: 'At', render: (row) => fmt(row.at) },
      { label: 'Alias', key: 'alias' },
      { label: 'Change', render: (row) => `${row.action}: ${versionLabel(row.fromVersion)} → ${versionLabel(row.toVersion)}` },
      { label: 'By', key: 'by' },
      { label: 'Reason', render: (row) => row.reason ?? '—' },
    ]} /><${Pager} pager=${historyPager} nextCursor=${data.nextCursor} label="Alias history pages" />`}<//>
  <//>`;
}

// ---------------------------------------------------------------------------------------------
export function Deployments({ name, session }) {
  const pager = usePager();
  const list = useTool('deployments_list', { limit: PAGE_SIZE, ...cursorArg(pager) }, { session });
  return html`<h1>Deployments</h1>
    <${Show} state=${list}>${(data) => html`<${Table} caption="Deployments" rows=${data.deployments} empty="No deployments." columns=${[
      { label: 'Name', render: (row) => link(`#/deployments/${encodeURIComponent(row.name)}`, row.name) },
      { label: 'Model', key: 'model' },
      { label: 'State', render: (row) => html`<${StateBadge} state=${row.state} />` },
      { label: 'Variants', render: (row) => row.variants.map((variant) => `${variant.name}: v${variant.version} ${variant.weight}%`).join(', ') },
      { label: 'Canary', render: (row) => (row.rollout ? `${row.rollout.stable} → ${row.rollout.candidate}, step ${Math.min(row.rollout.stepIndex + 1, row.rollout.steps.length)} of ${row.rollout.steps.length} (${row.rollout.state})` : '—') },
    ]} /><${Pager} pager=${pager} nextCursor=${data.nextCursor} />`}<//>
    ${name ? html`<${DeploymentDetail} name=${name} session=${session} />` : null}`;
}

const MONITOR_WINDOWS = [[900, 'last 15 minutes'], [3600, 'last hour'], [6 * 3600, 'last 6 hours'], [24 * 3600, 'last 24 hours'], [7 * 24 * 3600, 'last 7 days']];
const MONITOR_POINTS = 120;

/** The monitor over time from deployments_monitor's series: the server buckets the stored prediction log (at most MONITOR_POINTS a variant). */
function MonitorCharts({ series }) {
  if (!series || series.variants.length === 0) return html`<p class="muted">No requests in this window, so nothing to chart.</p>`;
  const span = [Date.parse(series.from) / 1000, Date.parse(series.to) / 1000];
  const named = (variant) => `${variant.variant}${variant.shadow ? ' (shadow)' : ''}`;
  const seriesOf = (field, suffix = '') => series.variants.map((variant) => ({ name: `${named(variant)}${suffix}`, points: variant.points.filter((point) => typeof point[field] === 'number').map((point) => ({ x: Date.parse(point.at) / 1000, y: point[field] })) }));
  const chart = (title, lines) => html`<${LineChart} title=${title} time=${true} xLabel="time" height=${180} xRange=${span} series=${lines} />`;
  return html`<p class="muted">Each point counts ${series.bucketSeconds} s of the stored prediction log.</p>
    <div class="chart-row">
      ${chart('Requests per bucket', seriesOf('requests'))}
      ${chart('Error rate', seriesOf('errorRate'))}
      ${chart('Latency p50 / p99 (ms)', [...seriesOf('p50Ms', ' p50'), ...seriesOf('p99Ms', ' p99')])}
      ${chart('Abstain rate', seriesOf('abstainRate'))}
    </div>`;
}

/** Each configured guardrail with its latest reading, if the rollout took one yet. */
function guardrailRows(rollout) {
  return rollout.guardrails.map((guardrail) => {
    const reading = rollout.readings.find((one) => one.metric === guardrail.metric && one.op === guardrail.op);
    return { ...guardrail, value: reading?.value ?? null, samples: reading?.samples ?? 0, minSamples: reading?.minSamples ?? guardrail.minSamples, status: reading?.status ?? 'no reading yet' };
  });
}

/** The canary rollout of deployments_get: where it is in its steps, and each guardrail's reading against its threshold. */
function Rollout({ rollout, shadow }) {
  if (!rollout && !shadow) return html`<p class="muted">No canary rollout or shadow traffic (deployments_canary starts one).</p>`;
  return html`${rollout ? html`<${KeyValues} entries=${[
      ['Rollout', html`<${StateBadge} state=${rollout.state} />`],
      ['Stable → candidate', `${rollout.stable} → ${rollout.candidate}`],
      ['Step', `${Math.min(rollout.stepIndex + 1, rollout.steps.length)} of ${rollout.steps.length}: ${fmt(rollout.steps[rollout.stepIndex] ?? null)}`],
      ['Step started', fmt(rollout.stepStartedAt)],
      ['Reason', rollout.reason ?? '—'],
    ]} />
    <${Table} caption="Guardrails (latest readings)" rows=${guardrailRows(rollout)} empty="No guardrails: the steps advance on time (or approval) alone." columns=${[
      { label: 'Metric', key: 'metric' },
      { label: 'Rule', render: (row) => `${row.op} ${fmt(row.threshold)}` },
      { label: 'Value', render: (row) => fmt(row.value) },
      { label: 'Samples', render: (row) => `${fmt(row.samples)} / ${fmt(row.minSamples)}` },
      { label: 'Status', render: (row) => html`<span class=${row.status === 'fail' ? 'bad' : row.status === 'pass' ? 'ok' : 'muted'}>${row.status}</span>` },
    ]} />` : null}
    ${shadow ? html`<p>Shadow: ${shadow.variant} (v${shadow.version}) receives a copy of ${shadow.percent}% of requests.</p>` : null}`;
}

function DeploymentDetail({ name, session }) {
  const got = useTool('deployments_get', { name }, { session });
  const [windowSeconds, setWindowSeconds] = useState(3600);
  const monitor = useTool('deployments_monitor', { name, window: windowSeconds, series: { points: MONITOR_POINTS } }, { session, pollMs: 10_000 });
  const [version, setVersion] = useState('');
  const refresh = () => {
    got.reload();
    monitor.reload();
  };
  return html`<${Section} title=${`Deployment ${name}`}>
    <${Show} state=${got}>${(data) => html`<${Table} caption="Variants and weights" rows=${data.variants} columns=${[{ label: 'Variant', key: 'name' }, { label: 'Version', key: 'version' }, { label: 'Weight %', key: 'weight' }]} />
      <h3>Canary</h3><${Rollout} rollout=${data.rollout} shadow=${data.shadow} />`}<//>
    <p><label>Monitor window <select value=${windowSeconds} onChange=${(event) => setWindowSeconds(Number(event.currentTarget.value))}>
      ${MONITOR_WINDOWS.map(([value, text]) => html`<option value=${value}>${text}</option>`)}
    </select></label></p>
    <${Show} state=${monitor}>${(data) => html`<${Table} caption=${`Monitor since ${fmt(data.since)} (canary guardrails)`} rows=${data.variants} columns=${[
      { label: 'Variant', key: 'variant' }, { label: 'Requests', key: 'requests' }, { label: 'Error rate', key: 'errorRate' }, { label: 'p50 ms', key: 'p50Ms' }, { label: 'p99 ms', key: 'p99Ms' }, { label: 'Abstain', key: 'abstainRate' }, { label: 'Accuracy', key: 'accuracy' }, { label: 'PSI', key: 'psi' },
    ]} /><${MonitorCharts} series=${data.series} />`}<//>
    <div class="actions">
      <label>Version to promote <input type="number" min="1" value=${version} onInput=${(event) => setVersion(event.currentTarget.value)} /></label>
      <${ActionButton} label="Promote" confirmText=${`Promote ${name}?`} action=${() => call('deployments_promote', { name, ...(version ? { version: Number(version) } : {}), reason: 'promoted from the dashboard' })} onDone=${refresh} />
      <${ActionButton} label="Roll back" kind="danger" confirmText=${`Roll back ${name}?`} action=${() => call('deployments_rollback', { name, reason: 'rolled back from the dashboard' })} onDone=${refresh} />
    </div>
    <${Show} state=${got}>${(data) => html`<${Table} caption="History" rows=${data.history} columns=${[{ label: 'At', key: 'at' }, { label: 'By', key: 'by' }, { label: 'Action', key: 'action' }, { label: 'Detail', key: 'detail' }]} />`}<//>
  <//>`;
}

// ---------------------------------------------------------------------------------------------
export function Knowledge({ name, session }) {
  const pager = usePager();
  const list = useTool('kb_list', { limit: PAGE_SIZE, ...cursorArg(pager) }, { session });
  return html`<h1>Knowledge bases</h1>
    <${Show} state=${list}>${(data) => html`<${Table} caption="Knowledge bases" rows=${data.knowledgeBases} empty="No knowledge bases." columns=${[
      { label: 'Name', render: (row) => link(`#/knowledge/${encodeURIComponent(row.name)}`, row.name) },
      { label: 'Documents', key: 'documents' }, { label: 'Chunks', key: 'chunks' }, { label: 'Dense index', key: 'denseIndex' },
    ]} /><${Pager} pager=${pager} nextCursor=${data.nextCursor} label="Knowledge base pages" ordered="name" />`}<//>
    ${name ? html`<${KnowledgeDetail} name=${name} session=${session} />` : null}`;
}

function KnowledgeDetail({ name, session }) {
  const pager = usePager();
  useEffect(() => pager.reset(), [name]);
  const got = useTool('kb_get', { kb: name, limit: PAGE_SIZE, ...cursorArg(pager) }, { session });
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
      <input id="kb-query" type="search" value=${query} onInput=${(event) => setQuery(event.currentTarget.value)} required maxlength="2000" />
      <button type="submit">Search</button>
    </form>
    <${ErrorBox} error=${error} />
    ${results ? html`<ol class="results" aria-label="Search results">${results.results.map((hit) => html`<li><blockquote>${hit.quote.text}</blockquote><p class="citation"><cite>${hit.quote.source}</cite> · chars ${hit.citation.offsets.start}–${hit.citation.offsets.end} · <code>${hit.citation.uri}</code> <span class="muted">score ${fmt(hit.score)}</span></p></li>`)}</ol>${results.notice ? html`<p class="muted">${results.notice}</p>` : null}` : null}
    <${Show} state=${got}>${(data) => html`<${Table} caption="Documents" rows=${data.documentList ?? []} columns=${[{ label: 'Title', key: 'title' }, { label: 'Source', key: 'source' }, { label: 'Format', key: 'format' }, { label: 'Chunks', key: 'chunks' }, { label: 'Updated', key: 'updatedAt' }]} /><${Pager} pager=${pager} nextCursor=${data.documentsNextCursor} label="Document pages" ordered="name" />`}<//>
  <//>`;
}

// ---------------------------------------------------------------------------------------------
export function Payments({ session }) {
  const pager = usePager();
  const payments = useTool('payments_list', { limit: PAGE_SIZE, ...cursorArg(pager) }, { session, pollMs: 10_000 });
  const balances = useTool('ledger_balances', {}, { session });
  const mandatePager = usePager();
  const mandates = useTool('mandates_list', { limit: PAGE_SIZE, ...cursorArg(mandatePager) }, { session });
  return html`<h1>Payments</h1>
    <${Section} title="Intents">
      <${Show} state=${payments}>${(data) => html`<${Table} caption="Payment intents, newest first" rows=${data.payments} empty="No payments." columns=${[
        { label: 'Id', render: (row) => html`<code title=${row.id}>${row.id.slice(0, 12)}</code>` }, { label: 'Status', render: (row) => html`<${StateBadge} state=${row.status} />` },
        { label: 'Amount', render: (row) => `${row.amount} ${row.currency}` }, { label: 'Payee', key: 'payee' }, { label: 'Mandate', key: 'mandateId' }, { label: 'Created', key: 'createdAt' },
      ]} /><${Pager} pager=${pager} nextCursor=${data.next} label="Payment pages" />`}<//>
    <//>
    <${Section} title="Ledger balances">
      <${Show} state=${balances}>${(data) => html`<${Table} caption="Balances by currency" rows=${data.currencies} columns=${[
        { label: 'Currency', key: 'currency' }, { label: 'Debits posted', key: 'debitsPosted' }, { label: 'Credits posted', key: 'creditsPosted' }, { label: 'Pending debits', key: 'debitsPending' }, { label: 'Accounts', key: 'accounts' }, { label: 'Balanced', key: 'balanced' },
      ]} />`}<//>
    <//>
    <${Section} title="Mandates">
      <${Show} state=${mandates}>${(data) => html`<${Table} caption="Mandates and their use" rows=${data.mandates} columns=${[
        { label: 'Id', key: 'id' }, { label: 'Grantee', key: 'grantee' }, { label: 'State', render: (row) => html`<${StateBadge} state=${row.state} />` },
        { label: 'Per payment', render: (row) => `${row.maxPerPayment} ${row.currency}` }, { label: 'Used this period', render: (row) => `${fmt(row.usedThisPeriod)} of ${fmt(row.maxPerPeriod)}` }, { label: 'Approval above', key: 'approvalAbove' },
      ]} /><${Pager} pager=${mandatePager} nextCursor=${data.next} label="Mandate pages" />`}<//>
    <//>`;
}

// ---------------------------------------------------------------------------------------------
/** An approval's summary in a line: its plain facts (amount, payee, ...), nested detail left out. */
function summaryOf(summary) {
  const facts = Object.entries(summary ?? {}).filter(([, value]) => value !== null && typeof value !== 'object');
  const mandate = summary?.mandate?.id ? [['mandate', summary.mandate.id.slice(0, 8)]] : [];
  return [...facts, ...mandate].map(([key, value]) => `${key}: ${value}`).join(' · ') || '—';
}

const RUN_TERMINAL = new Set(['planned', 'succeeded', 'failed', 'rejected', 'canceled']);

/** Approve / Reject for one approval; a refusal (the requester deciding its own run, a missing scope) is shown beside the buttons. */
function Decide({ approvalId, onDone }) {
  return html`<span class="decide">
    <${ActionButton} label="Approve" action=${() => call('approvals_decide', { id: approvalId, decision: 'approve' })} onDone=${onDone} />
    <${ActionButton} label="Reject" kind="danger" confirmText="Reject this request?" action=${() => call('approvals_decide', { id: approvalId, decision: 'deny', reason: 'rejected from the dashboard' })} onDone=${onDone} />
  </span>`;
}

/** The run an approval of kind agent-step belongs to: its subject is `<runId>/<stepId>`. */
const runOfApproval = (approval) => (approval.kind === 'agent-step' ? approval.subject.split('/')[0] : undefined);

export function Agent({ id, session }) {
  const agent = session.tools.includes('ops_list');
  const approvals = useTool('approvals_list', { state: 'pending' }, { session, pollMs: 5_000 });
  return html`<h1>Agent runs</h1>
    ${agent ? html`<${AgentRuns} session=${session} />` : html`<p class="notice" role="status">Agent not installed, or your key lacks <code>agent:read</code>: this server offers your key no <code>ops_list</code> tool.</p>`}
    ${agent && id ? html`<${AgentRun} runId=${id} session=${session} onDecided=${() => approvals.reload()} />` : null}
    <${Section} title="Pending approvals">
      <${Show} state=${approvals}>${(data) => html`<${Table} caption="Approvals waiting for a decision" rows=${data.approvals} empty="Nothing waits for approval." columns=${[
        { label: 'Kind', key: 'kind' },
        { label: 'Subject', render: (row) => (runOfApproval(row) && agent ? link(`#/agent/${runOfApproval(row)}`, row.subject) : row.subject) },
        { label: 'Summary', render: (row) => summaryOf(row.summary) }, { label: 'Requested by', key: 'requestedBy' }, { label: 'Since', key: 'createdAt' },
        { label: 'Decision', render: (row) => html`<${Decide} approvalId=${row.id} onDone=${() => approvals.reload()} />` },
      ]} />`}<//>
    <//>`;
}

/** The project's agent runs (ops_list), newest first, paged by ops_list's cursor. */
function AgentRuns({ session }) {
  const [status, setStatus] = useState('');
  const pager = usePager();
  const runs = useTool('ops_list', { limit: PAGE_SIZE, ...(status ? { status } : {}), ...cursorArg(pager) }, { session, pollMs: 5_000 });
  return html`<${Section} title="Runs">
    <form class="filters" onSubmit=${(event) => event.preventDefault()}>
      <label>Status <select name="status" value=${status} onChange=${(event) => { setStatus(event.currentTarget.value); pager.reset(); }}>
        ${['', 'running', 'waiting_approval', 'succeeded', 'failed', 'rejected', 'canceled', 'planned'].map((one) => html`<option value=${one}>${one || 'any'}</option>`)}
      </select></label>
    </form>
    <${Show} state=${runs}>${(data) => html`<${Table} caption="Agent runs, newest first" rows=${data.runs} empty="No runs." columns=${[
      { label: 'Run', render: (row) => link(`#/agent/${row.runId}`, row.runId.slice(0, 8)) },
      { label: 'Status', render: (row) => html`<${StateBadge} state=${row.status} />` },
      { label: 'Command', key: 'command' },
      { label: 'Planner', key: 'planner' },
      { label: 'Steps', key: 'steps' },
      { label: 'Dry run', key: 'dryRun' },
      { label: 'Created', key: 'createdAt' },
    ]} /><${Pager} pager=${pager} nextCursor=${data.nextCursor} />`}<//>
  <//>`;
}

/** One run (ops_get): its plan, each step's state and result, and the approval a waiting step needs. */
function AgentRun({ runId, session, onDecided }) {
  const [live, setLive] = useState(true);
  const run = useTool('ops_get', { runId }, { session, pollMs: live ? 1_500 : 0 });
  const waiting = run.data?.steps.filter((step) => step.state === 'waiting_approval' && step.approvalId) ?? [];
  const approvals = useTool(waiting.length ? 'approvals_list' : null, { state: 'pending', kind: 'agent-step', limit: 200 }, { session, deps: [waiting.map((step) => step.approvalId).join()] });
  const status = run.data?.status;
  useEffect(() => {
    if (status && RUN_TERMINAL.has(status) && live) setLive(false);
  }, [status]);
  if (!run.data) return html`<${Section} title=${`Run ${runId.slice(0, 8)}`}><${Show} state=${run}>${() => null}<//><//>`;
  const data = run.data;
  const stateOf = new Map(data.steps.map((step) => [step.id, step]));
  const decided = () => {
    run.reload();
    approvals.reload();
    onDecided?.();
    setLive(true);
  };
  return html`<${Section} title=${`Run ${data.runId.slice(0, 8)}`}>
    <p><${StateBadge} state=${data.status} /> ${data.command}</p>
    <${KeyValues} entries=${[
      ['Run', html`<code>${data.runId}</code>`],
      ['Thread', html`<code>${data.threadId}</code>`],
      ['Planner', data.planner],
      ['Dry run', fmt(data.dryRun)],
      ['Confidence', fmt(data.plan.confidence)],
      ['Created', fmt(data.createdAt)],
      ['Finished', fmt(data.finishedAt)],
      ...(data.plan.reason ? [['Planner says', data.plan.reason]] : []),
      ...(data.error ? [['Error', html`<code>${data.error.code}</code> ${data.error.message}${data.error.step ? ` (step ${data.error.step})` : ''}`]] : []),
    ]} />
    <${Table} caption="Plan and step states" rows=${data.plan.steps} empty="The plan has no steps." columns=${[
      { label: 'Step', key: 'id' },
      { label: 'Tool', render: (step) => html`<code>${step.tool}</code>` },
      { label: 'Arguments', render: (step) => html`<code>${JSON.stringify(step.args)}</code>` },
      { label: 'Why', key: 'why' },
      { label: 'Risk', render: (step) => html`<span class=${`risk risk-${step.risk}`}>${step.risk}</span>${data.approvalRequired.includes(step.id) ? ' · needs approval' : ''}` },
      { label: 'State', render: (step) => html`<${StateBadge} state=${stateOf.get(step.id)?.state ?? 'pending'} />` },
      { label: 'Outcome', render: (step) => { const state = stateOf.get(step.id); return state?.error ? `${state.error.code}: ${state.error.message}` : fmt(state?.result); } },
    ]} />
    ${waiting.map((step) => html`<${StepApproval} step=${step} approvals=${approvals} session=${session} onDone=${decided} />`)}
  <//>`;
}

function StepApproval({ step, approvals, session, onDone }) {
  const approval = approvals.data?.approvals.find((one) => one.id === step.approvalId);
  return html`<section class="approval" aria-label=${`Approval for step ${step.id}`}>
    <h3>Step ${step.id} waits for approval</h3>
    <${KeyValues} entries=${[
      ['Approval', html`<code>${step.approvalId}</code>`],
      ['Arguments hash', html`<code>${step.argsHash ?? '—'}</code>${approval && approval.hash !== step.argsHash ? html` <strong class="bad">(the approval binds ${approval.hash})</strong>` : null}`],
      ...(approval ? [['Summary', summaryOf(approval.summary)], ['Requested by', approval.requestedBy], ['Since', fmt(approval.createdAt)]] : []),
    ]} />
    ${approvals.unavailable ? html`<p class="muted">Your key cannot read approvals (<code>approvals:read</code>); the decision goes by the approval id.</p>` : null}
    ${session.tools.includes('approvals_decide')
      ? html`<p class="muted">The run's requester cannot decide its own steps; another person with <code>approvals:write</code> does.</p><${Decide} approvalId=${step.approvalId} onDone=${onDone} />`
      : html`<p class="muted">Deciding needs <code>approvals:write</code>.</p>`}
  </section>`;
}
