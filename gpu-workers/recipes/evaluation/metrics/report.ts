/** Markdown reports (tables) of an evaluation and of a comparison, for people and assistants to read. */
import type { Comparison, Evaluation, Interval, MetricDelta } from './types.ts';

/** Rows of the per-class tables at most; the rest are summarized in a line. */
export const REPORT_CLASS_ROWS = 50;

function cell(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('|', '\\|').replace(/\r?\n/g, ' ');
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  return [`| ${header.map(cell).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`)];
}

export function fmt(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined) return '—';
  if (!Number.isFinite(value)) return String(value);
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

function signed(value: number | null, digits = 4): string {
  if (value === null) return '—';
  return `${value > 0 ? '+' : ''}${fmt(value, digits)}`;
}

function interval(range: Interval | null | undefined, withSign = false): string {
  if (!range) return '—';
  const show = withSign ? (v: number) => signed(v) : (v: number) => fmt(v);
  return `[${show(range.low)}, ${show(range.high)}]`;
}

function percentLevel(confidence: number): string {
  return `${Math.round(confidence * 100)}%`;
}

export interface ReportOptions {
  title?: string;
}

/** The report of one evaluation: summary metrics with intervals, per class, confusions, calibration. */
export function renderEvaluationReport(evaluation: Evaluation, options: ReportOptions = {}): string {
  const lines: string[] = [`# ${options.title ?? 'Evaluation'}`, ''];
  const abstained = evaluation.abstained > 0 ? `; the model abstained on ${evaluation.abstained}` : '';
  lines.push(`${evaluation.rows} rows, ${evaluation.classes.length} labels${abstained}.`, '');

  const ci = evaluation.intervals;
  const level = ci ? percentLevel(ci.confidence) : '95%';
  const summary: string[][] = [
    ['Accuracy', fmt(evaluation.accuracy), interval(ci?.accuracy)],
    ['Macro F1', fmt(evaluation.macroF1), interval(ci?.macroF1)],
    ['Micro F1', fmt(evaluation.microF1), '—'],
    ['Weighted F1', fmt(evaluation.weightedF1), '—'],
  ];
  if (evaluation.inScopeAccuracy !== null) summary.push(['In-scope accuracy', fmt(evaluation.inScopeAccuracy), '—']);
  if (evaluation.oos) {
    summary.push([`Out-of-scope precision (${evaluation.oosLabel})`, fmt(evaluation.oos.precision), '—']);
    summary.push([`Out-of-scope recall (${evaluation.oosLabel})`, fmt(evaluation.oos.recall), '—']);
  }
  if (evaluation.binary) {
    summary.push([`ROC-AUC (positive: ${evaluation.binary.positiveClass})`, fmt(evaluation.binary.rocAuc), '—']);
    summary.push([`PR-AUC (positive: ${evaluation.binary.positiveClass})`, fmt(evaluation.binary.prAuc), '—']);
  }
  if (evaluation.logLoss !== null) summary.push(['Log loss', fmt(evaluation.logLoss), '—']);
  if (evaluation.calibration) summary.push([`ECE (${evaluation.calibration.bins.length} bins)`, fmt(evaluation.calibration.ece), '—']);
  lines.push(...table(['Metric', 'Value', `${level} interval`], summary), '');
  if (ci) lines.push(`Intervals: bootstrap percentile, ${ci.resamples} resamples, seed ${ci.seed}.`, '');

  lines.push('## Per class', '');
  const byClass = [...evaluation.perClass].sort((a, b) => b.support - a.support || (a.label < b.label ? -1 : 1));
  lines.push(
    ...table(
      ['Label', 'Precision', 'Recall', 'F1', 'Support', 'Predicted'],
      byClass.slice(0, REPORT_CLASS_ROWS).map((c) => [c.label, fmt(c.precision), fmt(c.recall), fmt(c.f1), String(c.support), String(c.predicted)]),
    ),
  );
  if (byClass.length > REPORT_CLASS_ROWS) lines.push('', `… and ${byClass.length - REPORT_CLASS_ROWS} more labels (fewest rows).`);
  lines.push('');

  const confusion = evaluation.confusion;
  if (confusion.kind === 'full') {
    lines.push('## Confusion matrix', '', 'Rows are true labels, columns predicted labels.', '');
    lines.push(...table(['True ↓ / predicted →', ...confusion.classes], confusion.matrix.map((row, i) => [confusion.classes[i] as string, ...row.map(String)])), '');
  } else {
    lines.push('## Most frequent confusions', '', `${confusion.classCount} labels are too many for a matrix; the most frequent mistakes:`, '');
    if (confusion.top.length === 0) lines.push('None: every row was predicted right.', '');
    else lines.push(...table(['True', 'Predicted', 'Rows'], confusion.top.map((c) => [c.true, c.predicted, String(c.count)])), '');
  }

  if (evaluation.calibration) {
    lines.push('## Calibration', '', 'Top-class confidence against accuracy, per bin (empty bins left out).', '');
    lines.push(
      ...table(
        ['Confidence', 'Rows', 'Mean confidence', 'Accuracy', 'Gap'],
        evaluation.calibration.bins
          .filter((bin) => bin.count > 0)
          .map((bin) => [
            `(${fmt(bin.lower, 3)}, ${fmt(bin.upper, 3)}]`,
            String(bin.count),
            fmt(bin.avgConfidence),
            fmt(bin.accuracy),
            fmt(bin.accuracy !== null && bin.avgConfidence !== null ? bin.accuracy - bin.avgConfidence : null),
          ]),
      ),
      '',
    );
  }

  if (evaluation.unseenLabels.length > 0) {
    lines.push('## Labels the model never saw', '', 'These true labels are not among the model’s classes, so it could not predict them.', '');
    lines.push(...table(['Label', 'Rows'], evaluation.unseenLabels.slice(0, REPORT_CLASS_ROWS).map((u) => [u.label, String(u.count)])), '');
  }
  return lines.join('\n');
}

const METRIC_NAMES: Record<keyof Comparison['deltas'], string> = {
  accuracy: 'Accuracy',
  macroF1: 'Macro F1',
  microF1: 'Micro F1',
  weightedF1: 'Weighted F1',
  inScopeAccuracy: 'In-scope accuracy',
  logLoss: 'Log loss (lower is better)',
  ece: 'ECE (lower is better)',
  rocAuc: 'ROC-AUC',
  prAuc: 'PR-AUC',
};

export interface ComparisonReportOptions {
  title?: string;
  candidateName?: string;
  championName?: string;
}

/** The report of a comparison: verdict, metric deltas with paired intervals, per-class F1 changes. */
export function renderComparisonReport(comparison: Comparison, options: ComparisonReportOptions = {}): string {
  const candidate = options.candidateName ?? 'Candidate';
  const champion = options.championName ?? 'Champion';
  const lines: string[] = [`# ${options.title ?? `${candidate} vs ${champion}`}`, ''];
  const primary = comparison.primary === 'macroF1' ? 'macro F1' : 'accuracy';
  lines.push(`**Verdict: ${comparison.verdict}** (on ${primary}). ${comparison.explanation}`, '');

  const rows = (Object.keys(METRIC_NAMES) as Array<keyof Comparison['deltas']>)
    .map((key): [keyof Comparison['deltas'], MetricDelta] => [key, comparison.deltas[key]])
    .filter(([, d]) => d.candidate !== null || d.champion !== null)
    .map(([key, d]) => [METRIC_NAMES[key], fmt(d.champion), fmt(d.candidate), signed(d.delta), interval(d.interval, true)]);
  lines.push(...table(['Metric', champion, candidate, 'Δ', `${percentLevel(comparison.confidence)} interval of Δ`], rows), '');
  lines.push(`Intervals: paired bootstrap on the same rows, ${comparison.resamples} resamples, seed ${comparison.seed}. ${comparison.candidate.rows} rows.`, '');

  const before = new Map(comparison.champion.perClass.map((c) => [c.label, c]));
  const after = new Map(comparison.candidate.perClass.map((c) => [c.label, c]));
  const labels = [...new Set([...before.keys(), ...after.keys()])];
  const changes = labels
    .map((label) => {
      const was = before.get(label);
      const now = after.get(label);
      return { label, was: was?.f1 ?? null, now: now?.f1 ?? null, support: Math.max(was?.support ?? 0, now?.support ?? 0), change: (now?.f1 ?? 0) - (was?.f1 ?? 0) };
    })
    .filter((c) => c.change !== 0)
    .sort((a, b) => Math.abs(b.change) - Math.abs(a.change) || (a.label < b.label ? -1 : 1));
  lines.push('## Per-class F1 changes', '');
  if (changes.length === 0) lines.push('No label’s F1 changed.', '');
  else {
    lines.push(
      ...table(
        ['Label', 'Support', `${champion} F1`, `${candidate} F1`, 'Δ'],
        changes.slice(0, REPORT_CLASS_ROWS).map((c) => [c.label, String(c.support), fmt(c.was), fmt(c.now), signed(c.change)]),
      ),
    );
    if (changes.length > REPORT_CLASS_ROWS) lines.push('', `… and ${changes.length - REPORT_CLASS_ROWS} smaller changes.`);
    lines.push('');
  }
  return lines.join('\n');
}
