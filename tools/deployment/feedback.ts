/**
 * Feedback: a late label (or reward) joined to its logged prediction by request id. The label must
 * be one of the model's labels; whether the prediction was right is kept with it (an abstention is
 * right only when the label is the model's out-of-scope label). One feedback per request id: the
 * same feedback again changes nothing, a different one is a conflict.
 */
import { AnvilError, ErrorCodes } from 'anvil/plugin';
import type { DeploymentsRuntime } from './runtime.ts';
import { invalid } from './schema.ts';
import { loadSql } from './sql.ts';

const SQL = { prediction: loadSql('prediction-get'), insert: loadSql('feedback-insert'), get: loadSql('feedback-get') } as const;

export interface FeedbackInput {
  requestId: string;
  label?: string | undefined;
  reward?: number | undefined;
}

export interface FeedbackResult {
  requestId: string;
  deployment: string;
  variant: string;
  modelVersion: number;
  label: string | null;
  reward: number | null;
  predicted: string | null;
  correct: boolean | null;
  created: boolean;
}

type PredictionRow = { deployment: string; variant: string; model_version: number; label: string | null; input: unknown };
type FeedbackRow = { request_id: string; deployment: string; variant: string; model_version: number; label: string | null; reward: number | null; predicted: string | null; correct: boolean | null };

const toResult = (row: FeedbackRow, created: boolean): FeedbackResult => ({
  requestId: row.request_id,
  deployment: row.deployment,
  variant: row.variant,
  modelVersion: row.model_version,
  label: row.label,
  reward: row.reward === null ? null : Number(row.reward),
  predicted: row.predicted,
  correct: row.correct,
  created,
});

export async function recordFeedback(runtime: DeploymentsRuntime, project: string, by: string, input: FeedbackInput): Promise<FeedbackResult> {
  if (input.label === undefined && input.reward === undefined) throw invalid('label, reward: give the true label, a reward, or both', 'label');
  if (input.reward !== undefined && !Number.isFinite(input.reward)) throw invalid('reward: expected a finite number', 'reward');
  // The prediction may still be in this server's log buffer.
  await runtime.log.flush();
  const prediction = (await runtime.sql.query<PredictionRow>(SQL.prediction, [project, input.requestId])).rows[0];
  if (!prediction) {
    throw new AnvilError(ErrorCodes.NOT_FOUND, `no logged prediction with requestId ${input.requestId} in this project (unknown, not sampled into the log, past retention, or still buffered on another server — retry in a second)`, { details: { field: 'requestId' } });
  }
  let correct: boolean | null = null;
  if (input.label !== undefined) {
    const deployment = await runtime.service.current(project, prediction.deployment);
    const lease = await runtime.service.model(project, deployment.model, prediction.model_version);
    const { labels, oosLabel } = lease.model.featurizer;
    lease.release();
    if (!labels.includes(input.label)) throw invalid(`label: "${input.label}" is not a label of the model (${labels.slice(0, 10).join(', ')}${labels.length > 10 ? ', …' : ''})`, 'label');
    correct = prediction.label === null ? input.label === oosLabel : prediction.label === input.label;
  }
  const inserted = (
    await runtime.sql.query<FeedbackRow>(SQL.insert, [
      project,
      input.requestId,
      prediction.deployment,
      prediction.variant,
      prediction.model_version,
      input.label ?? null,
      input.reward ?? null,
      prediction.label,
      correct,
      prediction.input === null || prediction.input === undefined ? null : JSON.stringify(prediction.input),
      by,
    ])
  ).rows[0];
  if (inserted) {
    runtime.metrics.feedback.inc({ project, deployment: prediction.deployment, variant: prediction.variant, correct: String(correct) });
    return toResult(inserted, true);
  }
  const existing = (await runtime.sql.query<FeedbackRow>(SQL.get, [project, input.requestId])).rows[0] as FeedbackRow;
  if (existing.label !== (input.label ?? null) || (existing.reward === null ? null : Number(existing.reward)) !== (input.reward ?? null)) {
    throw new AnvilError(ErrorCodes.CONFLICT, `request ${input.requestId} already has feedback (label ${JSON.stringify(existing.label)}, reward ${existing.reward}); feedback is given once`, { details: { field: 'requestId' } });
  }
  return toResult(existing, false);
}
