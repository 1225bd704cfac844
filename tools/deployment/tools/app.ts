/**
 * The MCP App of `deployments_monitor`: the canary's guardrails (each reading against its
 * threshold), the rollout's step, and per-variant traffic, errors, latency and online accuracy.
 * From a tool result it asks the host for `deployments_get` (where the guardrail readings live);
 * the per-deployment resource embeds both.
 */
import { mcpApp, type McpApp } from 'anvil/plugin';
import { LIMITS } from '../schema.ts';
import type { Ready } from '../runtime.ts';
import { readMonitor } from './monitor.ts';
import { toView } from './view.ts';

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
    async load(name, { project }) {
      // The report, the deployment and its history from one snapshot.
      const read = await readMonitor(ready(), project, name, { windowSeconds: 3600, historyLimit: LIMITS.historyShown });
      return { result: read.report, deployment: toView(read.deployment, read.history) };
    },
    idOf: (output) => (typeof output.name === 'string' ? output.name : undefined),
  });
}
