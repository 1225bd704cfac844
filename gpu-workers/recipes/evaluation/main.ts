/**
 * Entry of recipe `evaluation` (a child process of the runner; see ../../PROTOCOL.md and README.md).
 * Reads the dataset's split, scores it with each model, computes the metrics (and the comparison
 * when a champion is given), writes evaluation.json and report.md as artifacts, reports a summary.
 */
import path from 'node:path';
import { errorMessage, isAnvilError } from '../../../contracts/errors.ts';
import {
  compare,
  evaluate,
  renderComparisonReport,
  renderEvaluationReport,
  type Comparison,
  type Evaluation,
  type EvaluationInput,
} from './metrics/index.ts';
import type { RecipeSpec } from '../../protocol.ts';
import { emit, exitAfterFlush } from '../../recipe-io.ts';
import { DataError, labelOf, readJsonl, splitOf, type DatasetRow } from '../ml/dataset.ts';
import { log, publishArtifact, readParams, refuse } from '../ml/recipe-kit.ts';
import { resolveWorkFile } from '../ml/work-file.ts';
import { evaluationParams, type EvaluationModel, type EvaluationParams, type ModelRole } from './recipe.ts';
import { CURVE_POINTS } from '../ml/abstain.ts';
import { operatingFigures, SUMMARY_CURVE_POINTS, type OperatingSummary } from './operating.ts';
import { loadScorer, type Scorer } from './scorers.ts';
import { summarizeComparison, summarizeEvaluation, type EvaluationResult } from './summary.ts';

interface Scored {
  role: ModelRole;
  name: string;
  kind: Scorer['kind'];
  labels: readonly string[];
  threshold: number;
  input: EvaluationInput;
  /** Per row, what was compared with the threshold when it is not the top probability (a text model's centroid cosine). */
  confidence: number[] | null;
}

async function main(): Promise<void> {
  process.once('SIGTERM', () => {
    log('SIGTERM: stopping the evaluation (nothing to checkpoint)', 'warn');
    void exitAfterFlush(143);
  });
  const input = await readParams(evaluationParams, 'evaluation');
  if (!input) return;
  const { spec, params } = input;
  try {
    await run(spec, params);
  } catch (error) {
    if (error instanceof DataError || isAnvilError(error)) return refuse(error.message);
    emit({ type: 'error', message: `evaluation failed: ${errorMessage(error)}`, recoverable: true });
    await exitAfterFlush(1);
  }
}

/** The split's rows with their true labels. */
function selectRows(params: EvaluationParams, file: string): { rows: DatasetRow[]; labels: string[]; counts: Record<string, number> } {
  const { dataset, split } = params;
  const all = readJsonl(file);
  const counts: Record<string, number> = { train: 0, validation: 0, test: 0 };
  const rows: DatasetRow[] = [];
  for (const row of all) {
    const rowSplit = dataset.splitColumn === undefined ? null : splitOf(row, dataset.splitColumn);
    if (rowSplit) counts[rowSplit] = (counts[rowSplit] ?? 0) + 1;
    if (split === 'all' || rowSplit === null || rowSplit === split) rows.push(row);
  }
  if (dataset.splitColumn === undefined) log(`the dataset names no split column; evaluating all ${all.length} rows`, 'warn');
  if (rows.length === 0) {
    throw new DataError(`the ${split} split of ${dataset.file} has no rows (train ${counts.train}, validation ${counts.validation}, test ${counts.test}); choose another split`);
  }
  return { rows, labels: rows.map((row) => labelOf(row, dataset.labelColumn)), counts };
}

async function score(model: EvaluationModel, workDir: string, params: EvaluationParams, rows: DatasetRow[], labels: string[], oosOverride: string | undefined): Promise<Scored & { oosLabel: string | null }> {
  const what = `models[${model.role}]`;
  const scorer = await loadScorer(resolveWorkFile(workDir, model.featurizer, `${what}.featurizer`), resolveWorkFile(workDir, model.model, `${what}.model`), {
    what,
    textColumn: params.dataset.textColumn ?? 'text',
  });
  try {
    const name = model.name ?? model.role;
    const threshold = model.threshold ?? scorer.threshold;
    log(`${model.role} (${name}): ${scorer.kind} model, ${scorer.labels.length} classes, abstain threshold ${threshold.toFixed(4)}`);
    if (scorer.kind === 'tabular' && params.dataset.featureColumns) {
      const missing = scorer.columns.filter((column) => !params.dataset.featureColumns?.includes(column));
      if (missing.length > 0) log(`${model.role}: the model reads columns the dataset does not list as features: ${missing.join(', ')}`, 'warn');
    }
    const started = Date.now();
    const { probabilities, confidence } = await scorer.scores(rows);
    const classes = scorer.labels.length;
    const oosLabel = oosOverride ?? scorer.oosLabel;
    const predicted: (string | null)[] = [];
    const rowsOut: number[][] = [];
    for (let r = 0; r < rows.length; r++) {
      const row = Array.from(probabilities.subarray(r * classes, (r + 1) * classes));
      let top = 0;
      for (let k = 1; k < classes; k++) if ((row[k] as number) > (row[top] as number)) top = k;
      const topLabel = scorer.labels[top] as string;
      const abstain = (confidence ? (confidence[r] as number) : (row[top] as number)) < threshold || topLabel === oosLabel;
      predicted.push(abstain ? null : topLabel);
      rowsOut.push(row);
    }
    log(`${model.role}: scored ${rows.length} rows in ${Date.now() - started} ms`);
    const known = new Set(scorer.labels);
    const unseen = [...new Set(labels.filter((label) => !known.has(label) && label !== oosLabel))];
    if (unseen.length > 0) log(`${model.role}: ${unseen.length} true label(s) the model never saw: ${unseen.slice(0, 10).join(', ')}${unseen.length > 10 ? ', …' : ''}`, 'warn');
    return {
      role: model.role,
      name,
      kind: scorer.kind,
      labels: scorer.labels,
      threshold,
      oosLabel: scorer.oosLabel,
      input: { labels, predicted, probabilities: rowsOut, classes: [...scorer.labels] },
      confidence: confidence ? Array.from(confidence) : null,
    };
  } finally {
    await scorer.release().catch(() => {});
  }
}

/** The summary's curve: fewer points than evaluation.json's. */
function thin(figures: OperatingSummary | null | undefined): OperatingSummary | null {
  if (!figures) return null;
  const { curve } = figures;
  if (curve.length <= SUMMARY_CURVE_POINTS) return figures;
  return { ...figures, curve: Array.from({ length: SUMMARY_CURVE_POINTS }, (_, i) => curve[Math.round((i * (curve.length - 1)) / (SUMMARY_CURVE_POINTS - 1))] as OperatingSummary['curve'][number]) };
}

/** report.md's operating-point section: the threshold's cost and the trade-off, per model. */
function operatingSection(models: Array<{ name: string; figures: OperatingSummary | null }>): string[] {
  const show = (value: number | null): string => (value === null ? '—' : value.toFixed(4));
  const lines: string[] = ['## Operating point', ''];
  const withFigures = models.filter((m) => m.figures !== null);
  if (withFigures.length === 0) return [...lines, 'No probabilities or no in-scope rows: no trade-off to show.', ''];
  lines.push('| Model | Threshold | In-scope accuracy | OOS recall | Without abstaining | OOS AUROC |', '|---|---|---|---|---|---|');
  for (const { name, figures } of withFigures) {
    if (!figures) continue;
    lines.push(`| ${name.replaceAll('|', '\\|')} | ${figures.threshold.toFixed(4)} | ${show(figures.inScopeAccuracy)} | ${show(figures.oosRecall)} | ${show(figures.noAbstainAccuracy)} | ${show(figures.oosAuroc)} |`);
  }
  for (const { name, figures } of withFigures) {
    if (!figures || figures.oosRecall === null) continue;
    const curve = thin(figures)?.curve ?? [];
    lines.push('', `Trade-off of ${name.replaceAll('|', '\\|')} (threshold: in-scope accuracy / OOS recall): ${curve.map((p) => `${p.threshold.toFixed(3)}: ${show(p.inScopeAccuracy)} / ${show(p.oosRecall)}`).join('; ')}`);
  }
  return [...lines, ''];
}

function demote(markdown: string): string {
  return markdown.replace(/^#/gm, '##');
}

async function run(spec: RecipeSpec, params: EvaluationParams): Promise<void> {
  const { workDir } = spec;
  const file = resolveWorkFile(workDir, params.dataset.file, 'dataset.file');
  const { rows, labels, counts } = selectRows(params, file);
  log(`${rows.length} rows of split '${params.split}' (train ${counts.train}, validation ${counts.validation}, test ${counts.test})`);

  const ordered = [...params.models].sort((a, b) => (a.role === 'candidate' ? -1 : b.role === 'candidate' ? 1 : 0));
  const scored: Array<Scored & { oosLabel: string | null }> = [];
  let oosLabel = params.oosLabel;
  for (const model of ordered) {
    const result = await score(model, workDir, params, rows, labels, oosLabel);
    // The candidate fixes the oos label for both models (the same rows must mean the same thing).
    oosLabel ??= result.oosLabel ?? 'oos';
    scored.push(result);
  }
  const oos = oosLabel ?? 'oos';
  const options = { oosLabel: oos, bootstrap: { resamples: params.bootstrap.resamples, seed: params.bootstrap.seed } };

  const evaluations: Partial<Record<ModelRole, Evaluation>> = {};
  const operating: Partial<Record<ModelRole, OperatingSummary | null>> = {};
  for (const model of scored) {
    const evaluation = evaluate(model.input, options);
    evaluations[model.role] = evaluation;
    const figures = operatingFigures({ ...(model.input as Required<EvaluationInput>), ...(model.confidence ? { confidence: model.confidence } : {}) }, oos, model.threshold, CURVE_POINTS);
    operating[model.role] = figures;
    if (figures) {
      const show = (value: number | null): string => (value === null ? '—' : value.toFixed(4));
      log(`${model.role}: at threshold ${figures.threshold.toFixed(4)} in-scope accuracy ${show(figures.inScopeAccuracy)}, OOS recall ${show(figures.oosRecall)}; without abstaining ${show(figures.noAbstainAccuracy)}; OOS AUROC ${show(figures.oosAuroc)}`);
      for (const [name, value] of [['in_scope_accuracy', figures.inScopeAccuracy], ['oos_recall', figures.oosRecall], ['no_abstain_accuracy', figures.noAbstainAccuracy], ['oos_auroc', figures.oosAuroc]] as const) {
        if (value !== null) emit({ type: 'metric', step: 0, name: `${model.role}_${name}`, value });
      }
    }
    log(`${model.role}: accuracy ${evaluation.accuracy.toFixed(4)}, macro F1 ${evaluation.macroF1.toFixed(4)}`);
    emit({ type: 'metric', step: 0, name: `${model.role}_accuracy`, value: evaluation.accuracy });
    emit({ type: 'metric', step: 0, name: `${model.role}_macro_f1`, value: evaluation.macroF1 });
  }
  const candidate = scored.find((m) => m.role === 'candidate');
  const champion = scored.find((m) => m.role === 'champion');
  if (!candidate || !evaluations.candidate) throw new DataError('a candidate model is required');
  let comparison: Comparison | undefined;
  if (champion) {
    comparison = compare(candidate.input, champion.input, { ...options, primary: params.primary });
    log(`comparison: ${comparison.verdict} — ${comparison.explanation}`);
  }

  const subject = params.subject;
  const datasetLine = subject
    ? `Dataset: ${subject.dataset.name} v${subject.dataset.version} (sha256 ${subject.dataset.sha256.slice(0, 12)}…), split ${params.split}, ${rows.length} rows.`
    : `Dataset: ${path.basename(file)}, split ${params.split}, ${rows.length} rows.`;
  const models = scored.map((m) => ({ role: m.role, name: m.name, kind: m.kind, classes: m.labels.length, threshold: m.threshold }));
  const sections: string[] = [];
  if (comparison && champion) {
    sections.push(
      renderComparisonReport(comparison, { title: `Evaluation: ${candidate.name} vs ${champion.name}`, candidateName: candidate.name, championName: champion.name }).replace(/\n/, `\n\n${datasetLine}\n`),
      demote(renderEvaluationReport(comparison.candidate, { title: `Candidate: ${candidate.name}` })),
      demote(renderEvaluationReport(comparison.champion, { title: `Champion: ${champion.name}` })),
    );
  } else {
    sections.push(renderEvaluationReport(evaluations.candidate, { title: `Evaluation: ${candidate.name}` }).replace(/\n/, `\n\n${datasetLine}\n`));
  }
  sections.push(
    '## Models',
    '',
    '| Role | Model | Kind | Classes | Abstain threshold |',
    '|---|---|---|---|---|',
    ...models.map((m) => `| ${m.role} | ${m.name.replaceAll('|', '\\|')} | ${m.kind} | ${m.classes} | ${m.threshold.toFixed(4)} |`),
    '',
  );
  sections.push(...operatingSection(scored.map((m) => ({ name: m.name, figures: operating[m.role] ?? null }))));
  const report = `${sections.join('\n')}\n`;

  const detail = {
    kind: comparison ? 'compare' : 'run',
    subject: subject ?? null,
    dataset: { file: path.basename(file), split: params.split, rows: rows.length, labelColumn: params.dataset.labelColumn, splitCounts: counts },
    oosLabel: oos,
    bootstrap: params.bootstrap,
    models,
    evaluations,
    operatingPoints: operating,
    comparison: comparison
      ? { primary: comparison.primary, verdict: comparison.verdict, explanation: comparison.explanation, deltas: comparison.deltas, resamples: comparison.resamples, seed: comparison.seed, confidence: comparison.confidence }
      : null,
  };
  publishArtifact(workDir, 'evaluation', 'evaluation.json', `${JSON.stringify(detail, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`, 'application/json');
  publishArtifact(workDir, 'report', 'report.md', report, 'text/markdown');

  const result: EvaluationResult = {
    split: params.split,
    rows: rows.length,
    oosLabel: oos,
    evaluations: {
      candidate: summarizeEvaluation(evaluations.candidate, thin(operating.candidate)),
      ...(evaluations.champion ? { champion: summarizeEvaluation(evaluations.champion, thin(operating.champion)) } : {}),
    },
    ...(comparison ? { comparison: summarizeComparison(comparison) } : {}),
  };
  emit({ type: 'result', value: result });
  await exitAfterFlush(0);
}

await main();
