/**
 * The MCP App of `deployments_monitor`: the canary's guardrails (each reading against its
 * threshold), the rollout's step, per-variant traffic, errors, latency and online accuracy, and
 * the same over time. The charts draw the server's series (`deployments_monitor` with
 * `series: {points}`, the buckets the dashboard draws), never points sampled in the page: from a
 * tool result without one the app asks the host to call `deployments_monitor` again with it (and
 * `deployments_get`, where the guardrail readings live); the per-deployment resource embeds all of
 * it, read in one snapshot.
 */
import { mcpApp, type McpApp } from 'anvil/plugin';
import { LIMITS } from '../schema.ts';
import type { Ready } from '../runtime.ts';
import { MONITOR_WINDOW, readMonitor } from './monitor.ts';
import { toView } from './view.ts';

/** Time buckets per variant in the app's charts (the server's series; the dashboard asks for 120 on a wider page). */
export const APP_SERIES_POINTS = 60;

const script = String.raw`
function anvilRender(data, root, kit) {
  var report = data.result || {};
  root.appendChild(kit.el('h1', null, 'Deployment ' + report.name));
  var rollout = report.rollout;
  if (rollout) root.appendChild(kit.el('p', null, ['Rollout of ', kit.el('strong', null, rollout.candidate), ': ', kit.el('span', { class: 'badge ' + (rollout.state === 'rolled-back' ? 'fail' : rollout.state === 'promoted' ? 'pass' : 'insufficient') }, rollout.state), ' at step ' + (rollout.stepIndex + 1) + (rollout.reason ? ' — ' + rollout.reason : '')]));
  else root.appendChild(kit.el('p', { class: 'muted' }, 'No canary under way.'));
  var guardrails = kit.el('section', { 'aria-label': 'canary guardrails' });
  root.appendChild(guardrails);
  function drawGuardrails(deployment, note) {
    while (guardrails.firstChild) guardrails.removeChild(guardrails.firstChild);
    var active = deployment && deployment.rollout;
    // Before the first reading, each guardrail is shown as waiting for samples.
    var readings = !active ? null : active.readings && active.readings.length > 0 ? active.readings : (active.guardrails || []).map(function (g) {
      return { metric: g.metric, op: g.op, threshold: g.threshold, value: null, samples: 0, minSamples: g.minSamples || 0, status: 'insufficient' };
    });
    if (!readings || readings.length === 0) { guardrails.appendChild(kit.el('p', { class: 'muted' }, note)); return; }
    guardrails.appendChild(kit.el('h2', null, 'Guardrails'));
    guardrails.appendChild(kit.table(['metric', 'reading', 'threshold', 'samples', 'status'], readings.map(function (r) {
      var max = Math.max(Math.abs(r.threshold) * 2, kit.finite(r.value) ? Math.abs(r.value) * 1.1 : 0) || 1;
      return [r.metric, kit.el('span', null, [kit.gauge(r.value, r.threshold, max, r.status === 'pass'), ' ' + kit.fmt(r.value)]), r.op + ' ' + kit.fmt(r.threshold), r.samples + '/' + r.minSamples, kit.el('span', { class: 'badge ' + r.status }, r.status)];
    })));
    var steps = deployment.rollout.steps || [];
    if (steps.length > 0) guardrails.appendChild(kit.el('p', { class: 'muted' }, 'Steps: ' + steps.map(function (s, i) { return (i === deployment.rollout.stepIndex ? '▶ ' : '') + (s.percent !== undefined ? s.percent + '%' : JSON.stringify(s)); }).join(' → ')));
  }
  if (data.deployment !== undefined) drawGuardrails(data.deployment, 'No guardrail readings.');
  else if (rollout) {
    drawGuardrails(null, 'Loading guardrails…');
    kit.callTool('deployments_get', { name: report.name }).then(function (deployment) { drawGuardrails(deployment, deployment ? 'No guardrail readings yet.' : 'Guardrails: call deployments_get for this deployment.'); });
  }
  var variants = report.variants || [];
  root.appendChild(kit.el('h2', null, 'Variants since ' + report.since));
  root.appendChild(kit.table(['variant', 'version', 'weight', 'requests', 'error rate', 'p99 ms', 'accuracy (95%)', 'PSI'], variants.map(function (v) {
    var accuracy = v.accuracy ? kit.fmt(v.accuracy.value, 3) + ' [' + kit.fmt(v.accuracy.low, 3) + ', ' + kit.fmt(v.accuracy.high, 3) + ']' : '—';
    return [v.variant + (v.shadow ? ' (shadow)' : ''), 'v' + v.modelVersion, kit.fmt(v.weight), String(v.requests), kit.fmt(v.errorRate), kit.fmt(v.p99Ms, 1), accuracy, kit.fmt(v.psi, 3)];
  })));

  // Over time: the server's buckets of the stored prediction log, as the dashboard charts them.
  var overTime = kit.el('section', { 'aria-label': 'variants over time' });
  root.appendChild(overTime);
  function drawSeries(series, note) {
    while (overTime.firstChild) overTime.removeChild(overTime.firstChild);
    overTime.appendChild(kit.el('h2', null, 'Over time'));
    if (!series) { overTime.appendChild(kit.el('p', { class: 'muted' }, note)); return; }
    if (!series.variants || series.variants.length === 0) { overTime.appendChild(kit.el('p', { class: 'muted' }, 'No requests in this window, so nothing to chart.')); return; }
    overTime.appendChild(kit.el('p', { class: 'muted' }, 'Each point counts ' + series.bucketSeconds + ' s of the stored prediction log.'));
    var span = [Date.parse(series.from) / 1000, Date.parse(series.to) / 1000];
    var linesOf = function (field, suffix) {
      return series.variants.map(function (v) {
        return { name: v.variant + (v.shadow ? ' (shadow)' : '') + (suffix || ''), points: v.points.filter(function (p) { return kit.finite(p[field]); }).map(function (p) { return { step: Date.parse(p.at) / 1000, value: p[field] }; }) };
      });
    };
    [['Requests per bucket', linesOf('requests')], ['Error rate', linesOf('errorRate')], ['Latency p50 / p99 (ms)', linesOf('p50Ms', ' p50').concat(linesOf('p99Ms', ' p99'))], ['Abstain rate', linesOf('abstainRate')]].forEach(function (chart) {
      var title = chart[0], lines = chart[1];
      var points = lines.reduce(function (sum, line) { return sum + line.points.length; }, 0);
      var figure = kit.el('figure', { class: 'monitor-chart', 'data-points': points });
      figure.appendChild(kit.el('h3', null, title));
      figure.appendChild(kit.lineChart(lines, { label: title + ': ' + lines.map(function (line) { return line.name + ' (' + line.points.length + ' points)'; }).join(', '), time: true, height: 160, xRange: span }));
      figure.appendChild(kit.legend(lines.map(function (line) { return line.name; })));
      figure.appendChild(kit.chartData(title, lines, { xLabel: 'time', time: true }));
      overTime.appendChild(figure);
    });
  }
  if (report.series) drawSeries(report.series);
  else {
    // The window the result covers: the call's own when the host sent its arguments, else since → now.
    var asked = data.input && typeof data.input.window === 'number' ? data.input.window : Math.round((Date.now() - Date.parse(report.since)) / 1000);
    var windowSeconds = kit.finite(asked) ? Math.min(Math.max(asked, ${MONITOR_WINDOW.min}), ${MONITOR_WINDOW.max}) : ${MONITOR_WINDOW.default};
    drawSeries(null, 'Loading the series…');
    kit.callTool('deployments_monitor', { name: report.name, window: windowSeconds, series: { points: ${APP_SERIES_POINTS} } }).then(function (out) {
      drawSeries(out ? out.series : null, 'Over time: call deployments_monitor with series: {points} for this deployment.');
    });
  }
}
`;

export function canaryApp(ready: Ready): McpApp {
  return mcpApp({
    name: 'deployment-canary',
    uri: 'ui://anvil/deployments/canary',
    title: 'Deployment canary',
    description: 'A deployment’s canary guardrails, rollout step and per-variant health',
    scopes: ['deployments:read'],
    script,
    style: '.monitor-chart { margin: 0 0 16px; } .monitor-chart h3 { font-size: 13px; margin: 10px 0 2px; }',
    async load(name, { project }) {
      // The report, its series, the deployment and its history from one snapshot.
      const read = await readMonitor(ready(), project, name, { windowSeconds: MONITOR_WINDOW.default, seriesPoints: APP_SERIES_POINTS, historyLimit: LIMITS.historyShown });
      return { result: read.report, deployment: toView(read.deployment, read.history) };
    },
    idOf: (output) => (typeof output.name === 'string' ? output.name : undefined),
  });
}
