/**
 * Serving: a predict call finds its deployment (re-read when its generation moved, at most every
 * `stateTtlMs`), routes to a variant by request key, featurises with the training recipe's own
 * featuriser, runs the variant's model version through its batcher, applies the abstain
 * threshold, answers, and logs off the request path; a mirrored share also runs on the shadow.
 */
import { randomUUID } from 'node:crypto';
import { AnvilError, ErrorCodes, type Logger } from 'anvil/plugin';
import type { ModelRegistry } from '../models/index.ts';
import type { BlobStore } from '../jobs/index.ts';
import type { ServingMetrics } from './metrics.ts';
import type { PredictionLog } from './prediction-log.ts';
import { invalid, LIMITS, notFound, sameJson, type Deployment, type Variant } from './schema.ts';
import { Batcher, type BatchResult } from './serving/batcher.ts';
import type { ModelCache } from './serving/cache.ts';
import { ServingModel, type FeatureRow } from './serving/model.ts';
import { bucketOf, inShadow, pickVariant } from './serving/routing.ts';
import type { DeploymentStore } from './store.ts';

export interface PredictOptions {
  requestKey?: string | undefined;
  topK?: number | undefined;
  /** Serve this model version only (OIP's /versions/{v}); it must be one of the deployment's variants. */
  version?: number | undefined;
  /** Also return each input's full probability row (in the order of the model's labels), as OIP answers it. */
  probabilities?: boolean | undefined;
}

export interface Prediction {
  requestId: string;
  /** The label, or null when the model abstained (out of scope). */
  label: string | null;
  abstained: boolean;
  topK: Array<{ label: string; probability: number }>;
  variant: string;
  modelVersion: number;
  /** The abstain threshold that served this prediction. */
  threshold: number;
  /** Every class's probability in the order of the model's labels (only when asked: `probabilities: true`). */
  probabilities?: Float32Array;
}

export interface PredictResult {
  deployment: string;
  model: string;
  predictions: Prediction[];
  /** The model's labels (the order of `probabilities`). */
  labels: readonly string[];
  /** Where the time went on this server, in ms (OIP answers it as Server-Timing). */
  timing: ServingTiming;
}

export interface ServingTiming {
  /** Finding the deployment (from memory unless it is new to this server) and loading the model. */
  route: number;
  featurize: number;
  /** Waiting in the batcher's queue for a model run. */
  queue: number;
  run: number;
  total: number;
}

export interface ServiceSettings {
  stateTtlMs: number;
  intraOpThreads: number;
  concurrentRuns: number;
}

export interface ServiceDeps {
  store: DeploymentStore;
  registry: () => ModelRegistry;
  blobs: () => BlobStore;
  cache: ModelCache;
  log: PredictionLog;
  metrics: ServingMetrics;
  logger: Logger;
  settings: ServiceSettings;
}

type Input = string | Record<string, unknown>;

interface CachedState {
  deployment: Deployment;
  /** When the background refresh (or a read) last confirmed it. */
  checkedAt: number;
  usedAt: number;
}

/** A cached deployment nobody asked for this long is forgotten (re-read on its next request). */
const UNUSED_STATE_MS = 10 * 60_000;

export class DeploymentService {
  private readonly states = new Map<string, CachedState>();
  private readonly reading = new Map<string, Promise<Deployment>>();
  private readonly batchers = new Map<string, { batching: Deployment['batching']; batcher: Batcher }>();
  /** When this server last answered a request of a deployment (deployments_delete's "serves traffic"). */
  private readonly lastServed = new Map<string, number>();
  private refreshing: Promise<void> | undefined;

  constructor(private readonly deps: ServiceDeps) {}

  /**
   * The deployment as this server serves it: from memory. A background refresh (every stateTtlMs,
   * one query for all of them) re-reads those whose generation moved, so the request path never
   * waits on SQL except for a deployment new to this server, or when the refresh has not succeeded
   * for several periods (storage trouble: then the request reads it itself).
   */
  async current(project: string, name: string): Promise<Deployment> {
    const key = `${project}\0${name}`;
    const cached = this.states.get(key);
    const now = Date.now();
    if (cached && now - cached.checkedAt < this.staleAfterMs()) {
      cached.usedAt = now;
      return cached.deployment;
    }
    let read = this.reading.get(key);
    if (!read) {
      read = this.deps.store.get(project, name).finally(() => this.reading.delete(key));
      this.reading.set(key, read);
    }
    return this.keep(await read, Date.now());
  }

  /** Caches a state read from storage unless a newer one arrived meanwhile (a change made here); returns the one kept. */
  private keep(deployment: Deployment, usedAt: number): Deployment {
    const key = `${deployment.project}\0${deployment.name}`;
    const cached = this.states.get(key);
    if (cached && cached.deployment.generation > deployment.generation) return cached.deployment;
    this.states.set(key, { deployment, checkedAt: Date.now(), usedAt });
    return deployment;
  }

  private staleAfterMs(): number {
    return Math.max(5 * this.deps.settings.stateTtlMs, 5_000);
  }

  /** The background refresh: re-reads deployments whose generation moved, forgets deleted and unused ones. */
  refreshStates(): Promise<void> {
    this.refreshing ??= this.refreshOnce().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async refreshOnce(): Promise<void> {
    const now = Date.now();
    for (const [key, state] of this.states) if (now - state.usedAt > UNUSED_STATE_MS) this.states.delete(key);
    if (this.states.size === 0) return;
    const entries = [...this.states.values()].map((state) => state.deployment);
    const generations = await this.deps.store.generations(entries.map((d) => ({ project: d.project, name: d.name })));
    for (const deployment of entries) {
      const key = `${deployment.project}\0${deployment.name}`;
      const state = this.states.get(key);
      if (!state || state.deployment !== deployment) continue; // replaced meanwhile by a newer read
      const generation = generations.get(key);
      if (generation === undefined) {
        this.forget(deployment.project, deployment.name);
      } else if (generation !== deployment.generation) {
        const fresh = await this.deps.store.find(deployment.project, deployment.name);
        if (!fresh) this.forget(deployment.project, deployment.name);
        else this.keep(fresh, state.usedAt);
      } else {
        state.checkedAt = Date.now();
      }
    }
  }

  /** This server changed it: serve the new state at once. */
  remember(deployment: Deployment): void {
    const key = `${deployment.project}\0${deployment.name}`;
    const usedAt = this.states.get(key)?.usedAt ?? Date.now();
    const current = this.states.get(key)?.deployment;
    if (current && current.generation > deployment.generation) return;
    this.states.set(key, { deployment, checkedAt: Date.now(), usedAt });
  }

  /** The deployment is gone (deleted here or elsewhere): stop serving it; what waits in its queues is refused. */
  forget(project: string, name: string): void {
    this.states.delete(`${project}\0${name}`);
    this.lastServed.delete(`${project}\0${name}`);
    const prefix = `${project}\0${name}\0`;
    for (const [key, entry] of this.batchers) {
      if (!key.startsWith(prefix)) continue;
      this.batchers.delete(key);
      entry.batcher.close(notFound(project, name));
    }
  }

  /** When this server last answered a request of the deployment (undefined: not since it started). */
  lastServedAt(project: string, name: string): number | undefined {
    return this.lastServed.get(`${project}\0${name}`);
  }

  async predict(project: string, name: string, inputs: readonly unknown[], options: PredictOptions = {}): Promise<PredictResult> {
    const started = performance.now();
    const deployment = await this.current(project, name);
    if (inputs.length === 0 || inputs.length > LIMITS.inputsMax) throw invalid(`inputs: expected 1 to ${LIMITS.inputsMax} inputs, got ${inputs.length}`, 'inputs');
    const variant = this.route(deployment, options);
    let lease: Awaited<ReturnType<DeploymentService['model']>>;
    try {
      lease = await this.model(project, deployment.model, variant.version);
    } catch (error) {
      // A version that cannot be loaded is the variant's failure (error rate), not the caller's.
      this.deps.metrics.requests.inc({ project, deployment: name, variant: variant.name, outcome: 'error' }, inputs.length);
      this.logError(deployment, variant, inputs.length, performance.now() - started, error);
      throw error;
    }
    const routed = performance.now();
    let rows: FeatureRow[];
    let checked: Input[];
    try {
      checked = checkInputs(lease.model, inputs);
      rows = lease.model.featurize(checked);
    } finally {
      lease.release();
    }
    const featurized = performance.now();
    const labels = lease.model.labels;
    const threshold = deployment.threshold ?? lease.model.featurizer.threshold;
    const oosLabel = lease.model.featurizer.oosLabel;
    const labelsOf = { deployment: name, project, variant: variant.name };
    let result: BatchResult;
    try {
      result = await this.batcher(deployment, variant, lease.model.width).submit(rows, deployment.batching.timeoutMs);
    } catch (error) {
      const outcome = (error as { code?: unknown }).code === ErrorCodes.RATE_LIMITED ? 'rejected' : 'error';
      this.deps.metrics.requests.inc({ ...labelsOf, outcome }, inputs.length);
      if (outcome === 'rejected') this.deps.metrics.rejected.inc({ project, deployment: name });
      else this.logError(deployment, variant, inputs.length, performance.now() - started, error);
      throw error;
    }
    const latencyMs = performance.now() - started;
    this.lastServed.set(`${project}\0${name}`, Date.now());
    const topK = Math.min(options.topK ?? 3, labels.length);
    const predictions = result.probabilities.map((probabilities) => {
      const prediction = decide(probabilities, labels, threshold, oosLabel, topK, variant);
      if (options.probabilities) prediction.probabilities = probabilities;
      return prediction;
    });
    this.deps.metrics.requests.inc({ ...labelsOf, outcome: 'ok' }, inputs.length);
    this.deps.metrics.latency.observe(labelsOf, latencyMs / 1000);
    this.deps.metrics.batchSize.observe(labelsOf, result.batchSize);
    const abstained = predictions.filter((p) => p.abstained).length;
    if (abstained > 0) this.deps.metrics.abstained.inc(labelsOf, abstained);

    const logged = Math.random() < deployment.logging.sample;
    const at = new Date().toISOString();
    if (logged) {
      predictions.forEach((p, i) => this.deps.log.push(logRow(deployment, p, { at, latencyMs, batchSize: result.batchSize, shadow: false, input: deployment.logging.inputs ? inputs[i] : null })));
    }
    const shadow = deployment.shadow;
    if (shadow && shadow.version !== variant.version && inShadow(name, options.requestKey, shadow.percent)) {
      // Off the response path: the caller has its answer before the shadow runs.
      setImmediate(() => void this.runShadow(deployment, checked, predictions, logged));
    }
    const timing: ServingTiming = { route: routed - started, featurize: featurized - routed, queue: result.queuedMs, run: result.runMs, total: performance.now() - started };
    return { deployment: name, model: deployment.model, predictions, labels, timing };
  }

  private route(deployment: Deployment, options: PredictOptions): Variant {
    if (options.version !== undefined) {
      const pinned = deployment.variants.find((variant) => variant.version === options.version);
      if (!pinned) throw new AnvilError(ErrorCodes.NOT_FOUND, `deployment "${deployment.name}" does not serve version ${options.version} (it serves ${deployment.variants.map((v) => v.version).join(', ')})`, { details: { field: 'version' } });
      return pinned;
    }
    return pickVariant(deployment.variants, bucketOf(deployment.name, options.requestKey));
  }

  private async runShadow(deployment: Deployment, inputs: Input[], primary: Prediction[], logged: boolean): Promise<void> {
    const shadow = deployment.shadow;
    if (!shadow) return;
    const started = performance.now();
    const labels = { project: deployment.project, deployment: deployment.name };
    try {
      const lease = await this.model(deployment.project, deployment.model, shadow.version);
      let rows: FeatureRow[];
      try {
        rows = lease.model.featurize(inputs);
      } finally {
        lease.release();
      }
      const variant: Variant = { name: shadow.variant, version: shadow.version, weight: 0 };
      const result = await this.batcher(deployment, variant, lease.model.width).submit(rows, deployment.batching.timeoutMs);
      const threshold = deployment.threshold ?? lease.model.featurizer.threshold;
      const latencyMs = performance.now() - started;
      const at = new Date().toISOString();
      this.deps.metrics.shadowRuns.inc({ ...labels, outcome: 'ok' });
      if (!logged) return;
      result.probabilities.forEach((probabilities, i) => {
        const p = decide(probabilities, lease.model.labels, threshold, lease.model.featurizer.oosLabel, 1, variant);
        this.deps.log.push(logRow(deployment, { ...p, requestId: (primary[i] as Prediction).requestId }, { at, latencyMs, batchSize: result.batchSize, shadow: true, input: null }));
      });
    } catch (error) {
      this.deps.metrics.shadowRuns.inc({ ...labels, outcome: 'error' });
      this.deps.logger.debug({ err: error, deployment: deployment.name }, 'shadow run failed');
    }
  }

  private logError(deployment: Deployment, variant: Variant, count: number, latencyMs: number, error: unknown): void {
    const at = new Date().toISOString();
    const message = error instanceof Error ? error.message.slice(0, 500) : String(error);
    for (let i = 0; i < count; i++) {
      this.deps.log.push({
        project: deployment.project,
        request_id: randomUUID(),
        shadow: false,
        deployment: deployment.name,
        variant: variant.name,
        model_version: variant.version,
        at,
        latency_ms: latencyMs,
        batch_size: 0,
        label: null,
        top_label: null,
        probability: null,
        abstained: false,
        threshold: null,
        error: message,
        input: null,
      });
    }
  }

  private batcher(deployment: Deployment, variant: Variant, classes: number): Batcher {
    const key = `${deployment.project}\0${deployment.name}\0${variant.version}`;
    const existing = this.batchers.get(key);
    if (existing && (existing.batching === deployment.batching || sameJson(existing.batching, deployment.batching))) {
      existing.batching = deployment.batching;
      return existing.batcher;
    }
    // New, or the batching settings changed: a new batcher; the old one finishes what it holds.
    const modelKey = { project: deployment.project, model: deployment.model, version: variant.version };
    const batcher = new Batcher(
      deployment.batching,
      classes,
      async (rows) => {
        const lease = await this.model(modelKey.project, modelKey.model, modelKey.version);
        try {
          return await lease.model.run(rows);
        } finally {
          lease.release();
        }
      },
      this.deps.settings.concurrentRuns,
    );
    this.batchers.set(key, { batching: deployment.batching, batcher });
    return batcher;
  }

  /** The loaded model of a version (loaded from the registry's artifacts on first use). */
  async model(project: string, model: string, version: number) {
    return this.deps.cache.acquire(`${project}\0${model}\0${version}`, async () => {
      const record = await this.deps.registry().resolve(project, model, version);
      const file = async (name: string) => {
        const artifact = record.artifacts.find((each) => each.name === name);
        if (!artifact) throw new AnvilError(ErrorCodes.NOT_FOUND, `model "${model}" version ${version} has no ${name} artifact; it cannot be served`);
        return (await this.deps.blobs().get(artifact.sha256)).file;
      };
      return ServingModel.load(await file('featurizer.json'), await file('model.onnx'), { intraOpThreads: this.deps.settings.intraOpThreads });
    });
  }

  /** Batcher queue and run counts, per deployment variant on this server. */
  batcherStats(project: string, name: string): Record<string, ReturnType<Batcher['stats']>> {
    const out: Record<string, ReturnType<Batcher['stats']>> = {};
    for (const [key, { batcher }] of this.batchers) {
      const [p, n, version] = key.split('\0');
      if (p === project && n === name) out[`v${version}`] = batcher.stats();
    }
    return out;
  }

  close(): void {
    for (const { batcher } of this.batchers.values()) batcher.close(new AnvilError(ErrorCodes.SHUTTING_DOWN, 'the server is stopping'));
    this.batchers.clear();
  }
}

/** Checks inputs against the model's kind; INVALID_INPUT names the first bad one. */
function checkInputs(model: ServingModel, inputs: readonly unknown[]): Input[] {
  const featurizer = model.featurizer;
  if (featurizer.kind === 'text') {
    return inputs.map((input, i) => {
      if (typeof input !== 'string') throw invalid(`inputs[${i}]: expected a string (this deployment serves a text model), got ${input === null ? 'null' : typeof input}`, `inputs.${i}`);
      if (input.length > LIMITS.textCharsMax) throw invalid(`inputs[${i}]: a text of at most ${LIMITS.textCharsMax} characters, got ${input.length}`, `inputs.${i}`);
      return input;
    });
  }
  const known = new Set(featurizer.columns);
  return inputs.map((input, i) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid(`inputs[${i}]: expected a row object with the columns ${featurizer.columns.join(', ')} (this deployment serves a tabular model)`, `inputs.${i}`);
    for (const [column, value] of Object.entries(input)) {
      if (!known.has(column)) throw invalid(`inputs[${i}].${column}: not a column of this model; its columns are ${featurizer.columns.join(', ')}`, `inputs.${i}.${column}`);
      if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) throw invalid(`inputs[${i}].${column}: expected a number, string, boolean or null`, `inputs.${i}.${column}`);
    }
    return input as Record<string, unknown>;
  });
}

/** `row`: the class probabilities, then the model's confidence when it has one (ServingModel.width). */
function decide(row: Float32Array, labels: readonly string[], threshold: number, oosLabel: string | null, topK: number, variant: Variant): Prediction {
  const probabilities = row.subarray(0, labels.length);
  // The k best classes by insertion into a short sorted list (k is small; the full sort was a cost per row).
  const k = Math.max(1, topK);
  const order: number[] = [];
  for (let c = 0; c < probabilities.length; c++) {
    const p = probabilities[c] as number;
    if (order.length === k && p <= (probabilities[order[k - 1] as number] as number)) continue;
    let at = order.length === k ? k - 1 : order.length;
    while (at > 0 && (probabilities[order[at - 1] as number] as number) < p) at--;
    order.splice(at, 0, c);
    if (order.length > k) order.pop();
  }
  const top = order[0] as number;
  const topLabel = labels[top] as string;
  const probability = probabilities[top] as number;
  const confidence = row.length > labels.length ? (row[labels.length] as number) : probability;
  const abstained = confidence < threshold || topLabel === oosLabel;
  return {
    requestId: randomUUID(),
    label: abstained ? null : topLabel,
    abstained,
    topK: order.map((c) => ({ label: labels[c] as string, probability: probabilities[c] as number })),
    variant: variant.name,
    modelVersion: variant.version,
    threshold,
  };
}

function logRow(deployment: Deployment, p: Prediction, extra: { at: string; latencyMs: number; batchSize: number; shadow: boolean; input: unknown }) {
  return {
    project: deployment.project,
    request_id: p.requestId,
    shadow: extra.shadow,
    deployment: deployment.name,
    variant: p.variant,
    model_version: p.modelVersion,
    at: extra.at,
    latency_ms: extra.latencyMs,
    batch_size: extra.batchSize,
    label: p.label,
    top_label: p.topK[0]?.label ?? null,
    probability: p.topK[0]?.probability ?? null,
    abstained: p.abstained,
    threshold: p.threshold,
    error: null,
    input: extra.input ?? null,
  };
}

export interface ModelDescription {
  kind: 'text' | 'tabular';
  labels: readonly string[];
  /** Tabular: the columns in the order an FP32 row gives them. */
  columns: readonly string[];
  numericColumns: readonly string[];
  inputForm: 'dense' | 'sparse';
}

/** What a deployment's model takes and answers (its first variant's version; every variant of one model shares labels and columns). */
export async function describeModel(service: DeploymentService, deployment: Deployment, version?: number): Promise<ModelDescription> {
  const lease = await service.model(deployment.project, deployment.model, version ?? (deployment.variants[0] as Variant).version);
  try {
    const f = lease.model.featurizer;
    return { kind: f.kind, labels: f.labels, columns: f.columns, numericColumns: f.numericColumns, inputForm: lease.model.form };
  } finally {
    lease.release();
  }
}
