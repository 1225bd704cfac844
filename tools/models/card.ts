/**
 * The model card: Markdown generated from a version record at registration (and stored with it), so
 * a person or an assistant can read what a model is, what it was trained on, how well it did and
 * where it should not be trusted, without reading JSON.
 */
import type { ModelVersion } from './schema.ts';

/** How many labels the card lists by name. */
export const CARD_LABELS_SHOWN = 10;
/** How many metrics and params rows the card shows at most. */
const ROWS_MAX = 50;

export type CardInput = Omit<ModelVersion, 'cardMd' | 'project'> & { description?: string | null };

/** Text safe inside a Markdown table cell: no pipes breaking columns, no line breaks. */
export function cell(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('|', '\\|').replace(/\r?\n/g, ' ');
}

/** Inline code that survives backticks inside the value. */
function code(value: string): string {
  const clean = value.replace(/\r?\n/g, ' ');
  return clean.includes('`') ? `\`\` ${clean} \`\`` : `\`${clean}\``;
}

/** Numbers as people read them: integers as they are, others to 4 significant decimals. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e6)) return value.toExponential(3);
  return String(Number(value.toFixed(4)));
}

function formatValue(value: unknown): string {
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '—';
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 120 ? `${json.slice(0, 117)}…` : json;
}

export function formatBytes(size: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${size} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** The out-of-scope threshold: the signature's, else `metrics.threshold`. */
export function thresholdOf(record: Pick<ModelVersion, 'signature' | 'metrics'>): number | undefined {
  if (typeof record.signature.threshold === 'number') return record.signature.threshold;
  const fromMetrics = record.metrics.threshold;
  return typeof fromMetrics === 'number' && Number.isFinite(fromMetrics) ? fromMetrics : undefined;
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`)];
}

function entriesCapped(object: Record<string, unknown>): { rows: Array<[string, string]>; more: number } {
  const entries = Object.entries(object).sort(([a], [b]) => a.localeCompare(b));
  return { rows: entries.slice(0, ROWS_MAX).map(([key, value]) => [key, formatValue(value)]), more: Math.max(0, entries.length - ROWS_MAX) };
}

const TASK_TEXT: Record<ModelVersion['task'], string> = {
  'text-classification': 'assigns one label to a piece of text',
  'tabular-classification': 'assigns one label to a row of feature values',
};

/** The operating point's objective and its figures, from `signature.operatingPoint` (text-classifier). */
function operatingPointLine(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const point = value as { method?: unknown; objective?: { kind?: unknown; oosRecallTarget?: unknown; costRatio?: unknown } | null; inScopeAccuracy?: unknown; oosRecall?: unknown; noAbstainAccuracy?: unknown; targetMet?: unknown; simulated?: { heldOut?: unknown } | null };
  const num = (x: unknown): string => (typeof x === 'number' ? formatNumber(x) : '—');
  const objective = point.objective;
  const goal =
    objective?.kind === 'cost'
      ? `the lowest cost with a missed out-of-scope query costing ${num(objective.costRatio)}× a failed in-scope one`
      : objective?.kind === 'oos-recall-target'
        ? `the highest in-scope accuracy with out-of-scope recall ≥ ${num(objective.oosRecallTarget)}${point.targetMet === false ? ' (not reachable: the highest recall was taken)' : ''}`
        : undefined;
  if (!goal) return undefined;
  const heldOut = Array.isArray(point.simulated?.heldOut) ? point.simulated.heldOut.length : 0;
  const source = point.method === 'simulated-oos' ? `validation data with out-of-scope queries simulated by holding out ${heldOut} training intents` : 'validation data with out-of-scope queries';
  const kind = (value as { confidence?: unknown }).confidence;
  const nearest = kind === 'prototype-cosine' ? "the best-matching k-means prototype of a class (adjusted by the prototype's spread and its class's probability)" : kind === 'nearest-cosine' ? 'the nearest training row' : kind === 'centroid-cosine' ? 'the nearest class centroid' : null;
  const score = nearest ? ` (compared with the cosine of the hidden activations with ${nearest})` : '';
  return `- Operating point: the threshold${score} was chosen on ${source} for ${goal}: in-scope accuracy ${num(point.inScopeAccuracy)}, out-of-scope recall ${num(point.oosRecall)} (in-scope accuracy without abstaining ${num(point.noAbstainAccuracy)}).`;
}

export function renderModelCard(record: CardInput): string {
  const { signature, lineage, metrics } = record;
  const labels = signature.labels;
  const threshold = thresholdOf(record);
  const lines: string[] = [`# ${record.name} — version ${record.version}`, ''];
  if (record.description) lines.push(record.description.trim(), '');

  lines.push(
    ...table(
      ['Field', 'Value'],
      [
        ['Task', record.task],
        ['Recipe', record.recipe],
        ['Status', record.status],
        ['Registered', `${record.createdAt} by ${record.createdBy}`],
        ['Training job', lineage.jobId ?? '—'],
        ['Code version', lineage.codeVersion ?? '—'],
      ],
    ),
    '',
  );

  lines.push('## Labels', '');
  const shown = labels.slice(0, CARD_LABELS_SHOWN).map(code).join(', ');
  const rest = labels.length > CARD_LABELS_SHOWN ? `, … and ${labels.length - CARD_LABELS_SHOWN} more` : '';
  lines.push(`${labels.length} label${labels.length === 1 ? '' : 's'}: ${shown}${rest}.`, '');

  lines.push('## Metrics', '');
  const metricRows = entriesCapped(metrics);
  if (metricRows.rows.length === 0) lines.push('No metrics were recorded.', '');
  else {
    lines.push(...table(['Metric', 'Value'], metricRows.rows));
    if (metricRows.more > 0) lines.push('', `… and ${metricRows.more} more metrics (see the version record).`);
    lines.push('');
  }

  lines.push('## Training data', '');
  if (lineage.dataset) {
    lines.push(
      ...table(
        ['Dataset', 'Version', 'SHA-256'],
        [[lineage.dataset.name, String(lineage.dataset.version), lineage.dataset.sha256]],
      ),
      '',
    );
  } else lines.push('The dataset was not recorded.', '');

  lines.push('## Parameters', '');
  const paramRows = entriesCapped(lineage.params);
  if (paramRows.rows.length === 0) lines.push('No parameters were recorded.', '');
  else {
    lines.push(...table(['Parameter', 'Value'], paramRows.rows));
    if (paramRows.more > 0) lines.push('', `… and ${paramRows.more} more parameters (see the version record).`);
    lines.push('');
  }

  lines.push('## Artifacts', '');
  if (record.artifacts.length === 0) lines.push('No artifacts were recorded.', '');
  else {
    lines.push(
      ...table(
        ['Name', 'Media type', 'Size', 'SHA-256'],
        record.artifacts.map((artifact) => [artifact.name, artifact.mediaType, formatBytes(artifact.size), artifact.sha256]),
      ),
      '',
    );
  }

  lines.push('## Intended use', '');
  const inputs = signature.inputs.map((field) => `${code(field.name)} (${field.type})`).join(', ');
  lines.push(
    `This model ${TASK_TEXT[record.task]} (${record.task})${inputs ? `, given ${inputs}` : ''}, choosing among the ${labels.length} label${labels.length === 1 ? '' : 's'} above.`,
    '',
  );

  lines.push('## Limitations', '');
  lines.push(`- It only ever predicts one of its ${labels.length} labels; inputs about anything else get one of them anyway${threshold === undefined ? '.' : ' unless they fall below the threshold.'}`);
  if (threshold !== undefined) {
    lines.push(
      `- Out of scope: when the highest class probability is below ${formatNumber(threshold)}, the prediction should be treated as out of scope (the model abstains) rather than as a label.`,
    );
    const operating = operatingPointLine(signature.operatingPoint);
    if (operating) lines.push(operating);
  } else lines.push('- No out-of-scope threshold was recorded: the model never abstains.');
  lines.push(
    lineage.dataset
      ? `- It was trained on ${code(lineage.dataset.name)} version ${String(lineage.dataset.version)} only; data that differs from it (other domains, languages, time periods) may be classified worse than the metrics say.`
      : '- Its training data is unknown: how it behaves beyond the metrics above cannot be judged from this card.',
  );
  lines.push('- The metrics are estimates from held-out data of the same source; check them on your own data before relying on the model.', '');
  return lines.join('\n');
}
