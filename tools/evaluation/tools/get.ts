import { z, type ToolSpec } from 'anvil/plugin';
import { blobText } from './resources.ts';
import { evaluationRecordOutput } from './view.ts';
import { detailUri, findEvaluation, reportUri, type EvaluationDeps } from '../service.ts';
import type { EvaluationRecord } from '../store.ts';

const REPORT_CHARS_MAX = 200_000;

const input = z
  .object({
    id: z.string().min(1).max(200).describe('The evaluation id: the jobId eval_run or eval_compare returned'),
    includeReport: z.boolean().default(false).describe('Also return the Markdown report itself (what the reportUri resource holds), for clients that cannot read resources'),
  })
  .strict();

const output = evaluationRecordOutput.extend({
  report: z.string().nullable().optional().describe(`With includeReport: the Markdown report (null: none; cut at ${REPORT_CHARS_MAX} characters)`),
});

/** A stored evaluation as tools show it. */
export function evaluationView(record: EvaluationRecord): z.output<typeof evaluationRecordOutput> {
  return {
    id: record.id,
    kind: record.kind,
    model: record.model,
    champion: record.champion,
    dataset: record.dataset,
    split: record.split,
    rows: record.rows,
    metrics: evaluationRecordOutput.shape.metrics.parse(record.metrics),
    verdict: record.verdict,
    reportUri: record.reportSha256 ? reportUri(record.id) : null,
    detailUri: record.evaluationSha256 ? detailUri(record.id) : null,
    createdAt: record.createdAt,
  };
}

export function getTool(name: string, deps: EvaluationDeps): ToolSpec<typeof input, typeof output> {
  return {
    name,
    title: 'Get an evaluation',
    description:
      'A finished evaluation of your project: which model(s) on which dataset version and split, the headline metrics of each model ' +
      '(accuracy, macro/micro F1, log loss, ECE, intervals, out-of-scope, unseen labels), a comparison’s deltas and verdict, and the URI ' +
      'of its Markdown report (an MCP resource). An evaluation whose job has not finished is ANVIL_E_CONFLICT saying so.',
    input,
    output,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['evaluation:read'],
    async handler({ id, includeReport }, { project }) {
      const record = await findEvaluation(deps, project, id);
      if (!includeReport) return evaluationView(record);
      const report = record.reportSha256 ? (await blobText(deps, record.reportSha256, 'report', id)).slice(0, REPORT_CHARS_MAX) : null;
      return { ...evaluationView(record), report };
    },
  };
}
