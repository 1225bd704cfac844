/**
 * An evaluation's files as MCP resources: `anvil://evaluations/{id}/report` (report.md, Markdown) and
 * `anvil://evaluations/{id}/detail` (evaluation.json: every metric).
 */
import { readFile } from 'node:fs/promises';
import { AnvilError, ErrorCodes, type ResourceSpec } from 'anvil/plugin';
import { findEvaluation, type EvaluationDeps } from '../service.ts';

function idOf(variables: Record<string, string | string[]>): string {
  const raw = variables.id;
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value === '') throw new AnvilError(ErrorCodes.INVALID_INPUT, 'the resource URI names no evaluation id');
  try {
    return decodeURIComponent(value);
  } catch {
    throw new AnvilError(ErrorCodes.INVALID_INPUT, "the resource URI's id is not valid percent-encoding");
  }
}

export async function blobText(deps: EvaluationDeps, sha256: string | null, what: string, id: string): Promise<string> {
  if (!sha256) throw new AnvilError(ErrorCodes.NOT_FOUND, `Evaluation ${id} has no ${what}`, { details: { id } });
  const blob = await deps.jobs().blobs.get(sha256);
  return readFile(blob.file, 'utf8');
}

export function evaluationResources(deps: EvaluationDeps): ResourceSpec[] {
  return [
    {
      name: 'evaluation-report',
      title: 'Evaluation report',
      description: 'The Markdown report of an evaluation (eval_run) or a comparison (eval_compare): metrics with intervals, per class, confusions, calibration, deltas and verdict.',
      uri: 'anvil://evaluations/{id}/report',
      mimeType: 'text/markdown',
      scopes: ['evaluation:read'],
      async read(uri, variables, { project }) {
        const id = idOf(variables);
        const record = await findEvaluation(deps, project, id);
        return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: await blobText(deps, record.reportSha256, 'report', id) }] };
      },
    },
    {
      name: 'evaluation-detail',
      title: 'Evaluation detail',
      description: 'Every metric of an evaluation as JSON (evaluation.json): per class, the confusion matrix or top confusions, reliability bins, bootstrap intervals, a comparison’s deltas.',
      uri: 'anvil://evaluations/{id}/detail',
      mimeType: 'application/json',
      scopes: ['evaluation:read'],
      async read(uri, variables, { project }) {
        const id = idOf(variables);
        const record = await findEvaluation(deps, project, id);
        return { contents: [{ uri: uri.href, mimeType: 'application/json', text: await blobText(deps, record.evaluationSha256, 'evaluation.json', id) }] };
      },
    },
  ];
}
