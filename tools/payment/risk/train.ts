/**
 * Trains and deploys the payment risk model end to end, for `payments_risk_train`:
 * 1. the sandbox's seeded, labelled history (history.ts) becomes a dataset version (in process:
 *    the rows never touch the server's disk);
 * 2. Anvil's own training (`training_start`, recipe tabular-classifier) trains it as a job, which
 *    registers the model version; `jobs_get` waits for it;
 * 3. the deployments plugin serves it (`deployments_create`, or `deployments_set_traffic` to 100 %
 *    of the new version when the deployment exists);
 * 4. a second seeded history (another seed: rows the model never saw) is scored through the
 *    deployment's `predict`, pinned to the new version; PR-AUC and the cost-minimising thresholds
 *    are computed and stored for that version, and the project's risk settings point at the
 *    deployment.
 * Steps 2–3 are tool calls on the caller's behalf (ctx.tools): the caller's scopes decide, as if
 * they had made them over MCP, and each is audited.
 */
import { Readable } from 'node:stream';
import { AnvilError, ErrorCodes, type CallerPrincipal, type ToolInvoker, type ToolResult } from 'anvil/plugin';
import type { DatasetsRuntime } from '../../datasets/index.ts';
import { evaluate, type Evaluation, type RiskCosts } from './evaluate.ts';
import { generateHistory, historyCsv } from './history.ts';
import type { PredictFn, RiskService } from './service.ts';

export interface TrainRequest {
  project: string;
  principal: CallerPrincipal;
  seed: number;
  rows: number;
  evaluationRows: number;
  fraudRate: number;
  dataset: string;
  model: string;
  deployment: string;
  epochs: number;
  costs: RiskCosts;
  waitSeconds: number;
  signal?: AbortSignal | undefined;
}

export interface TrainOutcome {
  dataset: { name: string; version: number };
  jobId: string;
  model: { name: string; version: number; metrics: Record<string, unknown> };
  deployment: string;
  evaluation: Evaluation & { seed: number };
}

export interface TrainDeps {
  tools: () => ToolInvoker;
  datasets: () => DatasetsRuntime;
  predict: PredictFn;
  risk: RiskService;
}

/** A different stream than training's for the same seed: the evaluation rows are never trained on. */
export const evaluationSeed = (seed: number): number => (seed * 2_654_435_761 + 97) % 2 ** 31;

const PREDICT_CHUNK = 256;

function failure(tool: string, result: ToolResult): AnvilError {
  const found = result._meta?.['dev.anvil/error'] as { code?: string; message?: string; details?: Record<string, unknown> } | undefined;
  const code = (found?.code ?? ErrorCodes.INTERNAL) as (typeof ErrorCodes)[keyof typeof ErrorCodes];
  return new AnvilError(code, `${tool}: ${found?.message ?? 'failed'}`, { details: { step: tool, ...(found?.details ?? {}) } });
}

async function call(deps: TrainDeps, request: TrainRequest, tool: string, args: Record<string, unknown>): Promise<ToolResult> {
  return deps.tools().call(tool, args, { principal: { ...request.principal, project: request.project }, ...(request.signal ? { signal: request.signal } : {}) });
}

async function invoke(deps: TrainDeps, request: TrainRequest, tool: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const result = await call(deps, request, tool, args);
  if (result.isError) throw failure(tool, result);
  return result.structuredContent ?? {};
}

export async function trainRiskModel(deps: TrainDeps, request: TrainRequest): Promise<TrainOutcome> {
  const history = generateHistory(request.seed, request.rows, request.fraudRate);
  const imported = await deps.datasets().service.importUpload(
    {
      project: request.project,
      by: request.principal.id,
      name: request.dataset,
      options: { format: 'csv', labelColumn: 'label', columnTypes: { merchant_category: 'category' }, split: { validation: 0.15, test: 0.15, seed: request.seed } },
      signal: request.signal,
    },
    Readable.from([historyCsv(history)]),
    'csv',
    `payments risk history (seed ${request.seed}, ${request.rows} rows)`,
  );
  const dataset = { name: request.dataset, version: imported.version.version };

  const started = await invoke(deps, request, 'training_start', {
    dataset,
    recipe: 'tabular-classifier',
    model: request.model,
    params: { epochs: request.epochs, checkpointEvery: 0, seed: request.seed },
    idempotencyKey: `payments-risk-${request.model}-${request.dataset}-v${dataset.version}-e${request.epochs}`,
  });
  const jobId = String(started.jobId);
  const deadline = Date.now() + request.waitSeconds * 1000;
  let job: Record<string, unknown>;
  for (;;) {
    const left = Math.ceil((deadline - Date.now()) / 1000);
    if (left <= 0) {
      throw new AnvilError(ErrorCodes.TOOL_UNAVAILABLE, `waitSeconds: training job ${jobId} is still running; call payments_risk_train again with the same arguments to pick it up`, {
        details: { jobId, field: 'waitSeconds', reason: 'training_running' },
      });
    }
    job = await invoke(deps, request, 'jobs_get', { id: jobId, waitSeconds: Math.min(60, left) });
    if (!job.timedOut) break;
  }
  if (job.state !== 'succeeded') {
    throw new AnvilError(ErrorCodes.CONFLICT, `training job ${jobId} ended ${String(job.state)}: ${JSON.stringify(job.error ?? null)}`, { details: { jobId, state: job.state } });
  }
  const result = (job.result ?? {}) as { model?: { name: string; version: number }; metrics?: Record<string, unknown> };
  if (!result.model) throw new AnvilError(ErrorCodes.INTERNAL, `training job ${jobId} registered no model`, { details: { jobId } });
  const version = result.model.version;

  const created = await call(deps, request, 'deployments_create', { name: request.deployment, model: request.model, version });
  if (created.isError) {
    // It exists with another version: move all of its traffic to the new one.
    if ((created._meta?.['dev.anvil/error'] as { code?: string } | undefined)?.code !== ErrorCodes.CONFLICT) throw failure('deployments_create', created);
    await invoke(deps, request, 'deployments_set_traffic', { name: request.deployment, weights: { [`v${version}`]: 100 } });
  }

  const seed = evaluationSeed(request.seed);
  const heldOut = generateHistory(seed, request.evaluationRows, request.fraudRate);
  const scored: Array<{ score: number; fraud: boolean }> = [];
  for (let start = 0; start < heldOut.length; start += PREDICT_CHUNK) {
    const chunk = heldOut.slice(start, start + PREDICT_CHUNK);
    const inputs = chunk.map(({ label: _label, ...features }) => features);
    const answer = await deps.predict(request.project, request.deployment, inputs, { topK: 20, version });
    answer.predictions.forEach((prediction, i) => {
      const fraud = prediction.topK.find((each) => each.label === 'fraud');
      scored.push({ score: Math.round((fraud?.probability ?? 0) * 10_000) / 10_000, fraud: (chunk[i] as { label: string }).label === 'fraud' });
    });
  }
  const evaluation = { ...evaluate(scored, request.costs), seed };
  await deps.risk.recordModel({
    project: request.project,
    deployment: request.deployment,
    model: request.model,
    version,
    thresholds: evaluation.thresholds,
    prAuc: evaluation.prAuc,
    evaluation: { ...evaluation, costs: request.costs, trainingSeed: request.seed, dataset, jobId },
    by: request.principal.id,
  });
  await deps.risk.configure(request.project, request.principal.id, { deployment: request.deployment });
  return { dataset, jobId, model: { name: request.model, version, metrics: result.metrics ?? {} }, deployment: request.deployment, evaluation };
}
