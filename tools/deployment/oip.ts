/**
 * The Open Inference Protocol v2 (KServe, Triton, Seldon) over HTTP, beside /mcp, under the same
 * API keys (scope deployments:predict). A "model" here is a deployment of the caller's project:
 *
 *   GET  /v2 · /v2/health/live · /v2/health/ready          server metadata and health (no key)
 *   GET  /v2/models/{name}[/versions/{v}][/ready]          model metadata, readiness
 *   POST /v2/models/{name}[/versions/{v}]/infer            inference
 *
 * Text models take one BYTES tensor of shape [N] (or [N, 1]); tabular models take one FP32 tensor
 * [N, F] with the columns in the metadata's order, or one tensor [N] per column named after it.
 * Answers: `label` BYTES [N] (empty string when abstaining), `probabilities` FP32 [N, C] in the
 * order of `parameters.labels`, `abstained` BOOL [N], `request_id` BYTES [N] (for feedback).
 * `parameters.requestKey` routes sticky. Errors are `{"error": "…"}`: 400 bad input, 404 unknown
 * model, 429 full queue (with Retry-After), 503 not served in time.
 */
import { AnvilError, ErrorCodes, isAnvilError, type PluginHttpContext, type PluginRoute } from 'anvil/plugin';
import { LIMITS } from './schema.ts';
import type { Ready } from './runtime.ts';
import { describeModel, type ModelDescription } from './service.ts';

const NUMERIC_TYPES = new Set(['FP32', 'FP64', 'FP16', 'INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'BOOL']);

interface Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

const bad = (message: string) => new AnvilError(ErrorCodes.INVALID_INPUT, message);

const STATUS: Record<string, 400 | 401 | 403 | 404 | 409 | 429 | 500 | 503> = {
  [ErrorCodes.INVALID_INPUT]: 400,
  [ErrorCodes.NOT_FOUND]: 404,
  [ErrorCodes.FORBIDDEN]: 403,
  [ErrorCodes.RATE_LIMITED]: 429,
  [ErrorCodes.TOOL_UNAVAILABLE]: 503,
  [ErrorCodes.SHUTTING_DOWN]: 503,
};

function errorAnswer(c: PluginHttpContext, error: unknown): Response {
  if (isAnvilError(error)) {
    const status = STATUS[error.code] ?? 500;
    const retry = error.details?.retryAfterSeconds;
    if (typeof retry === 'number') c.header('Retry-After', String(retry));
    return c.json({ error: error.message, code: error.code }, status);
  }
  return c.json({ error: `internal error (request id ${c.get('requestId')})` }, 500);
}

function guarded(handler: (c: PluginHttpContext) => Promise<Response>): (c: PluginHttpContext) => Promise<Response> {
  return async (c) => {
    try {
      return await handler(c);
    } catch (error) {
      return errorAnswer(c, error);
    }
  };
}

function versionParam(c: PluginHttpContext): number | undefined {
  const raw = c.req.param('version');
  if (raw === undefined) return undefined;
  if (!/^[1-9][0-9]{0,8}$/.test(raw)) throw new AnvilError(ErrorCodes.NOT_FOUND, `model version must be a positive integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function flatten(data: unknown[]): unknown[] {
  return data.some(Array.isArray) ? (data as unknown[]).flat(Infinity) : data;
}

function parseTensors(body: unknown): { tensors: Tensor[]; id: string | undefined; requestKey: string | undefined } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('the body must be a JSON object with inputs');
  const { inputs, id, parameters } = body as { inputs?: unknown; id?: unknown; parameters?: unknown };
  if (!Array.isArray(inputs) || inputs.length === 0) throw bad('inputs: expected a non-empty array of tensors {name, shape, datatype, data}');
  if (inputs.length > 1000) throw bad('inputs: at most 1000 tensors');
  const tensors = inputs.map((raw: unknown, i): Tensor => {
    const t = raw as Partial<Tensor> | null;
    if (typeof t !== 'object' || t === null) throw bad(`inputs[${i}]: expected a tensor object`);
    if (typeof t.name !== 'string' || t.name === '') throw bad(`inputs[${i}].name: expected a string`);
    if (!Array.isArray(t.shape) || t.shape.length === 0 || t.shape.length > 2 || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad(`inputs[${i}].shape: expected [N] or [N, F] of non-negative integers`);
    if (typeof t.datatype !== 'string') throw bad(`inputs[${i}].datatype: expected BYTES or a numeric type such as FP32`);
    if (!Array.isArray(t.data)) throw bad(`inputs[${i}].data: expected an array`);
    const data = flatten(t.data);
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw bad(`inputs[${i}].data: shape [${t.shape.join(', ')}] needs ${size} values, got ${data.length}`);
    return { name: t.name, shape: t.shape, datatype: t.datatype, data };
  });
  const params = typeof parameters === 'object' && parameters !== null ? (parameters as Record<string, unknown>) : {};
  const requestKey = params.requestKey;
  if (requestKey !== undefined && (typeof requestKey !== 'string' || requestKey.length === 0 || requestKey.length > LIMITS.requestKeyMax)) throw bad(`parameters.requestKey: expected a string of 1-${LIMITS.requestKeyMax} characters`);
  return { tensors, id: typeof id === 'string' ? id : undefined, requestKey: requestKey as string | undefined };
}

function numberOf(value: unknown, where: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  throw bad(`${where}: expected a finite number`);
}

/** OIP tensors → the predict inputs of this model. */
function toInputs(model: ModelDescription, tensors: Tensor[]): unknown[] {
  if (model.kind === 'text') {
    const [t] = tensors;
    if (tensors.length !== 1 || !t) throw bad('inputs: a text model takes exactly one BYTES tensor of shape [N]');
    if (t.datatype !== 'BYTES') throw bad(`inputs[0].datatype: a text model takes BYTES, got ${t.datatype}`);
    if (t.shape.length === 2 && t.shape[1] !== 1) throw bad(`inputs[0].shape: expected [N] or [N, 1] texts, got [${t.shape.join(', ')}]`);
    return t.data.map((value, i) => {
      if (typeof value !== 'string') throw bad(`inputs[0].data[${i}]: expected a string`);
      return value;
    });
  }
  const numeric = new Set(model.numericColumns);
  if (tensors.length === 1 && tensors[0]?.shape.length === 2) {
    const t = tensors[0];
    if (!NUMERIC_TYPES.has(t.datatype)) throw bad(`inputs[0].datatype: rows of a tabular model are FP32 (or another numeric type), got ${t.datatype}`);
    const [rows, width] = t.shape as [number, number];
    if (width !== model.columns.length) throw bad(`inputs[0].shape: expected [N, ${model.columns.length}] (columns ${model.columns.join(', ')}), got [${t.shape.join(', ')}]`);
    return Array.from({ length: rows }, (_, r) => Object.fromEntries(model.columns.map((column, k) => {
      const value = numberOf(t.data[r * width + k], `inputs[0].data[${r * width + k}]`);
      return [column, numeric.has(column) ? value : String(value)];
    })));
  }
  const rows = tensors[0]?.shape[0] ?? 0;
  const out: Array<Record<string, unknown>> = Array.from({ length: rows }, () => ({}));
  const seen = new Set<string>();
  tensors.forEach((t, i) => {
    if (!model.columns.includes(t.name)) throw bad(`inputs[${i}].name: "${t.name}" is not a column of this model (${model.columns.join(', ')}); give one tensor [N] per column, or one FP32 tensor [N, ${model.columns.length}] named "rows"`);
    if (seen.has(t.name)) throw bad(`inputs[${i}].name: the column "${t.name}" is given twice`);
    seen.add(t.name);
    if (t.shape.length !== 1 || t.shape[0] !== rows) throw bad(`inputs[${i}].shape: every column tensor must be [${rows}] (as many rows as inputs[0]), got [${t.shape.join(', ')}]`);
    const categorical = !numeric.has(t.name);
    if (categorical && t.datatype !== 'BYTES') throw bad(`inputs[${i}].datatype: the column "${t.name}" is categorical: BYTES, got ${t.datatype}`);
    if (!categorical && !NUMERIC_TYPES.has(t.datatype)) throw bad(`inputs[${i}].datatype: the column "${t.name}" is numeric: FP32 (or another numeric type), got ${t.datatype}`);
    t.data.forEach((value, r) => {
      if (categorical && typeof value !== 'string') throw bad(`inputs[${i}].data[${r}]: expected a string`);
      (out[r] as Record<string, unknown>)[t.name] = categorical ? value : numberOf(value, `inputs[${i}].data[${r}]`);
    });
  });
  const missing = model.columns.filter((column) => !seen.has(column));
  if (missing.length > 0) throw bad(`inputs: missing the column tensor${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (one tensor [N] per column)`);
  return out;
}

function metadataInputs(model: ModelDescription) {
  if (model.kind === 'text') return [{ name: 'text', datatype: 'BYTES', shape: [-1] }];
  return [{ name: 'rows', datatype: 'FP32', shape: [-1, model.columns.length], parameters: { columns: model.columns } }, ...model.columns.map((column) => ({ name: column, datatype: model.numericColumns.includes(column) ? 'FP32' : 'BYTES', shape: [-1] }))];
}

export function oipRoutes(ready: Ready, anvilVersion: string): PluginRoute[] {
  const scopes = ['deployments:predict'];
  const metadata = guarded(async (c) => {
    const runtime = ready();
    const principal = c.get('principal');
    const deployment = await runtime.service.current(principal.project, c.req.param('name') ?? '');
    const version = versionParam(c);
    if (version !== undefined && !deployment.variants.some((v) => v.version === version)) throw new AnvilError(ErrorCodes.NOT_FOUND, `deployment "${deployment.name}" does not serve version ${version}`);
    const model = await describeModel(runtime.service, deployment, version);
    return c.json({
      name: deployment.name,
      versions: deployment.variants.map((v) => String(v.version)),
      platform: 'onnxruntime',
      inputs: metadataInputs(model),
      outputs: [
        { name: 'label', datatype: 'BYTES', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, model.labels.length] },
        { name: 'abstained', datatype: 'BOOL', shape: [-1] },
        { name: 'request_id', datatype: 'BYTES', shape: [-1] },
      ],
      parameters: { model: deployment.model, labels: model.labels, inputForm: model.inputForm, weights: Object.fromEntries(deployment.variants.map((v) => [v.name, v.weight])) },
    });
  });
  const modelReady = guarded(async (c) => {
    const runtime = ready();
    const deployment = await runtime.service.current(c.get('principal').project, c.req.param('name') ?? '');
    const version = versionParam(c);
    const variants = deployment.variants.filter((v) => version === undefined || v.version === version);
    if (variants.length === 0) throw new AnvilError(ErrorCodes.NOT_FOUND, `deployment "${deployment.name}" does not serve version ${version ?? ''}`);
    // Ready means loadable: loading it now also warms the cache for the first request.
    for (const variant of variants) await describeModel(runtime.service, deployment, variant.version);
    return c.json({ name: deployment.name, ready: true });
  });
  const infer = guarded(async (c) => {
    const arrived = performance.now();
    const runtime = ready();
    const principal = c.get('principal');
    const name = c.req.param('name') ?? '';
    const version = versionParam(c);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw bad('the body is not JSON');
    }
    const { tensors, id, requestKey } = parseTensors(body);
    const deployment = await runtime.service.current(principal.project, name);
    const model = await describeModel(runtime.service, deployment, version);
    const inputs = toInputs(model, tensors);
    if (inputs.length === 0 || inputs.length > LIMITS.inputsMax) throw bad(`inputs: expected 1 to ${LIMITS.inputsMax} rows, got ${inputs.length}`);
    const parsed = performance.now();
    const result = await runtime.service.predict(principal.project, name, inputs, { requestKey, version, topK: 1, probabilities: true });
    const classes = result.labels.length;
    const n = result.predictions.length;
    const probabilities = new Array<number>(n * classes);
    result.predictions.forEach((p, r) => {
      const row = p.probabilities as Float32Array;
      for (let k = 0; k < classes; k++) probabilities[r * classes + k] = row[k] as number;
    });
    const first = result.predictions[0];
    const t = result.timing;
    // Where the time went on this server (the request's parse and checks, then predict's phases).
    c.header('Server-Timing', `parse;dur=${(parsed - arrived).toFixed(3)}, route;dur=${t.route.toFixed(3)}, featurize;dur=${t.featurize.toFixed(3)}, queue;dur=${t.queue.toFixed(3)}, run;dur=${t.run.toFixed(3)}, total;dur=${(performance.now() - arrived).toFixed(3)}`);
    return c.json({
      model_name: name,
      model_version: String(first?.modelVersion ?? ''),
      id: id ?? c.get('requestId'),
      parameters: { variant: first?.variant, labels: result.labels, threshold: first?.threshold },
      outputs: [
        { name: 'label', datatype: 'BYTES', shape: [n], data: result.predictions.map((p) => p.label ?? '') },
        { name: 'probabilities', datatype: 'FP32', shape: [n, classes], data: probabilities },
        { name: 'abstained', datatype: 'BOOL', shape: [n], data: result.predictions.map((p) => p.abstained) },
        { name: 'request_id', datatype: 'BYTES', shape: [n], data: result.predictions.map((p) => p.requestId) },
      ],
    });
  });
  return [
    { method: 'GET', path: '/v2', public: true, handler: (c) => c.json({ name: 'anvil', version: anvilVersion, extensions: [] }) },
    { method: 'GET', path: '/v2/health/live', public: true, handler: (c) => c.json({ live: true }) },
    { method: 'GET', path: '/v2/health/ready', public: true, handler: (c) => c.json({ ready: true }) },
    { method: 'GET', path: '/v2/models/:name', scopes, handler: metadata },
    { method: 'GET', path: '/v2/models/:name/ready', scopes, handler: modelReady },
    { method: 'GET', path: '/v2/models/:name/versions/:version', scopes, handler: metadata },
    { method: 'GET', path: '/v2/models/:name/versions/:version/ready', scopes, handler: modelReady },
    { method: 'POST', path: '/v2/models/:name/infer', scopes, handler: infer },
    { method: 'POST', path: '/v2/models/:name/versions/:version/infer', scopes, handler: infer },
  ];
}
