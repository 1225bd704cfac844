/**
 * The MCP App of `eval_get`: headline metrics, the verdict, and the confusion matrix (or the most
 * frequent confusions above 20 classes). From a tool result it reads the evaluation's detail
 * resource through the host; the per-evaluation resource embeds the confusions.
 */
import { readFile } from 'node:fs/promises';
import { mcpApp, type McpApp } from 'anvil/plugin';
import { findEvaluation, type EvaluationDeps } from '../service.ts';
import { evaluationView } from './get.ts';

const script = String.raw`
function anvilConfusionOf(detail, role) {
  var evaluations = detail && detail.evaluations;
  var evaluation = evaluations && (evaluations[role] || evaluations[Object.keys(evaluations)[0]]);
  return (evaluation && evaluation.confusion) || null;
}
function anvilRender(data, root, kit) {
  var ev = data.result || {};
  var metrics = ev.metrics || {};
  var candidate = metrics.candidate || {};
  root.appendChild(kit.el('h1', null, 'Evaluation ' + ev.id + (ev.model ? ' · ' + ev.model.name + ' v' + ev.model.version : '')));
  var rows = [['candidate', candidate]];
  if (metrics.champion) rows.push(['champion', metrics.champion]);
  root.appendChild(kit.table(['model', 'accuracy', 'macro F1', 'micro F1', 'rows', 'classes'], rows.map(function (row) {
    var m = row[1];
    return [row[0], kit.fmt(m.accuracy), kit.fmt(m.macroF1), kit.fmt(m.microF1), String(m.rows), String(m.classes)];
  })));
  if (ev.verdict) {
    var verdictClass = ev.verdict === 'better' ? 'pass' : ev.verdict === 'worse' ? 'fail' : 'insufficient';
    root.appendChild(kit.el('p', null, ['Verdict on the candidate: ', kit.el('span', { class: 'badge ' + verdictClass }, ev.verdict)]));
  }
  var holder = kit.el('section', { 'aria-label': 'confusion matrix' });
  root.appendChild(holder);
  function drawConfusion(confusion, note) {
    while (holder.firstChild) holder.removeChild(holder.firstChild);
    if (!confusion) { holder.appendChild(kit.el('p', { class: 'muted' }, note)); return; }
    if (confusion.kind === 'full') {
      holder.appendChild(kit.el('h2', null, 'Confusion matrix (rows: true label, columns: predicted)'));
      holder.appendChild(kit.heatmap(confusion.classes, confusion.matrix, { label: 'confusion matrix of the candidate' }));
    } else {
      holder.appendChild(kit.el('h2', null, 'Most frequent confusions (' + confusion.classCount + ' classes)'));
      holder.appendChild(kit.table(['true', 'predicted', 'rows'], (confusion.top || []).map(function (c) { return [c['true'], c.predicted, String(c.count)]; })));
    }
  }
  if (data.confusion !== undefined) drawConfusion(data.confusion, 'No confusion matrix was recorded.');
  else if (ev.detailUri) {
    drawConfusion(null, 'Loading the confusion matrix…');
    kit.readJson(ev.detailUri).then(function (detail) { drawConfusion(anvilConfusionOf(detail, 'candidate'), 'The confusion matrix is in ' + ev.detailUri + '.'); });
  } else drawConfusion(null, 'No confusion matrix was recorded.');
}
`;

export function confusionApp(deps: EvaluationDeps): McpApp {
  return mcpApp({
    name: 'evaluation-confusion',
    uri: 'ui://anvil/evaluations/confusion',
    title: 'Evaluation',
    description: 'An evaluation’s headline metrics, verdict and confusion matrix',
    scopes: ['evaluation:read'],
    script,
    async load(id, { project }) {
      const record = await findEvaluation(deps, project, id);
      let confusion: unknown = null;
      if (record.evaluationSha256) {
        const blob = await deps.jobs().blobs.get(record.evaluationSha256);
        const detail = JSON.parse(await readFile(blob.file, 'utf8')) as { evaluations?: Record<string, { confusion?: unknown } | undefined> };
        confusion = detail.evaluations?.candidate?.confusion ?? null;
      }
      return { result: evaluationView(record), confusion };
    },
    idOf: (output) => (typeof output.id === 'string' ? output.id : undefined),
  });
}
