/**
 * The MCP App of `jobs_get`: the job's state and its loss and metric curves. From a tool result it
 * asks the host for `jobs_metrics`; the per-job resource embeds the curves (downsampled).
 */
import { mcpApp, type McpApp } from 'anvil/plugin';
import type { JobsRuntime } from '../runtime.ts';
import { metricSeries, METRIC_POINTS_DEFAULT } from './metrics.ts';
import { jobView } from './view.ts';

const script = String.raw`
function anvilRender(data, root, kit) {
  var job = data.result || {};
  var stateClass = job.state === 'succeeded' ? 'pass' : job.state === 'failed' || job.state === 'cancelled' ? 'fail' : 'insufficient';
  root.appendChild(kit.el('h1', null, 'Job ' + job.id + ' · ' + job.recipe));
  root.appendChild(kit.el('p', null, [
    kit.el('span', { class: 'badge ' + stateClass }, job.state),
    ' attempt ' + job.attempt + '/' + job.maxAttempts + (job.worker ? ' on ' + job.worker : '') +
      (typeof job.checkpointStep === 'number' ? ' · checkpoint at step ' + job.checkpointStep : ''),
  ]));
  if (job.error) root.appendChild(kit.el('p', { class: 'error' }, 'Error: ' + (job.error.message || JSON.stringify(job.error))));
  var holder = kit.el('section', { 'aria-label': 'loss and metric curves' });
  root.appendChild(holder);
  function drawMetrics(metrics, note) {
    while (holder.firstChild) holder.removeChild(holder.firstChild);
    if (!metrics || metrics.length === 0) { holder.appendChild(kit.el('p', { class: 'muted' }, note)); return; }
    var loss = metrics.filter(function (m) { return /loss/i.test(m.name); });
    var other = metrics.filter(function (m) { return !/loss/i.test(m.name); });
    [[loss, 'Loss'], [other, 'Metrics']].forEach(function (group) {
      if (group[0].length === 0) return;
      holder.appendChild(kit.el('h2', null, group[1]));
      holder.appendChild(kit.lineChart(group[0], { label: group[1] + ' by step' }));
      holder.appendChild(kit.legend(group[0].map(function (m) { return m.name + ' (last ' + kit.fmt(m.summary ? m.summary.last : null) + (m.summary && m.summary.flags && m.summary.flags.nan ? ', NaN seen' : '') + ')'; })));
      holder.appendChild(kit.chartData(group[1] + ' by step', group[0]));
    });
  }
  if (data.metrics) drawMetrics(data.metrics, 'No metrics reported yet.');
  else {
    drawMetrics(null, 'Loading metrics…');
    kit.callTool('jobs_metrics', { id: job.id }).then(function (out) { drawMetrics(out ? out.metrics : null, out ? 'No metrics reported yet.' : 'Curves: call jobs_metrics for this job.'); });
  }
}
`;

export function jobCurveApp(jobs: () => JobsRuntime): McpApp {
  return mcpApp({
    name: 'job-curves',
    uri: 'ui://anvil/jobs/curves',
    title: 'Job curves',
    description: 'A job’s state with its loss and metric curves by step',
    scopes: ['jobs:read'],
    script,
    async load(id, { project }) {
      const runtime = jobs();
      const job = await runtime.service.store.get(project, id);
      return { result: { ...(await jobView(runtime, job)), timedOut: false }, metrics: await metricSeries(runtime, project, job.id, undefined, METRIC_POINTS_DEFAULT) };
    },
    idOf: (output) => (typeof output.id === 'string' ? output.id : undefined),
  });
}
