/**
 * `serving`: the deployments plugin's OIP v2 endpoint under load, against anchors measured in the
 * same run. A Banking77 text classifier is trained by the real training plugin inside a spawned
 * `anvil serve --http` (embedded) twice with the same seed: exported as an embedding bag (the
 * default: `ids` + `weights`) and as a dense `features` [N, F] input. The bag model is deployed
 * with batching on (defaults) and off; the dense one too (where the model's compute dominates,
 * which is what batching is for). Anchors:
 * - raw `InferenceSession.run` on the same model.onnx files in this process (one row; 64 rows per run);
 * - a bare Hono endpoint (fixtures/bare-serving.ts) that featurises and runs the same bag session
 *   with no auth, routing, logging or batching.
 * Per concurrency level (1, 16, 64 clients, each sending one-text requests back to back over
 * keep-alive connections), the bare endpoint, Anvil batched and Anvil unbatched are measured in
 * alternating slices; at 64 clients the dense model batched and unbatched too. At 1 client the
 * server's own Server-Timing (parse, route, featurise, queue, run, total) says where the time goes
 * on the server; the rest of the round trip is HTTP and the operating system (on a loaded machine,
 * mostly waiting to be scheduled — the bare endpoint pays it too).
 *
 * Knobs: BENCH_SERVING_LEVELS (default "1,16,64"), BENCH_SERVING_SECONDS (per slice, default 3),
 * BENCH_SERVING_ROUNDS (default 2), BENCH_SERVING_EPOCHS (training epochs, default 1).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { bagFeeds, toEmbeddingBag } from '../../gpu-workers/recipes/text-classifier/bag.ts';
import { Featurizer } from '../../gpu-workers/recipes/text-classifier/featurizer.ts';
import { connectHttp, startAnvil } from '../support/anvil-process.ts';
import { banking77Dir, banking77Missing, loadBanking77 } from '../training/banking77.ts';
import type { BenchContext, Figure } from './run.ts';

export const name = 'serving';
export const description = 'OIP v2 predict over HTTP at 1/16/64 clients, batching on and off, vs raw onnxruntime runs and a bare Hono endpoint';

const envNumber = (key: string, fallback: number) => {
  const raw = process.env[key];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${key}: expected a positive number, got "${raw}"`);
  return value;
};

interface Load {
  requests: number;
  errors: number;
  rps: number;
  p50Ms: number;
  /** Server-Timing phases' medians (Anvil only). */
  server: Record<string, number>;
}

const percentile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

/** One POST over a keep-alive agent (node:http costs the load generator far less CPU than fetch). */
function post(agent: http.Agent, url: URL, headers: Record<string, string>, body: string): Promise<{ status: number; timing: string | undefined }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (response) => {
      response.on('data', () => {});
      response.on('end', () => resolve({ status: response.statusCode ?? 0, timing: response.headers['server-timing'] as string | undefined }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

async function load(url: string, key: string | undefined, texts: readonly string[], clients: number, seconds: number): Promise<Load> {
  const latencies: number[] = [];
  const phases: Record<string, number[]> = {};
  let errors = 0;
  let next = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const target = new URL(url);
  const end = performance.now() + seconds * 1000;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) };
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const text = texts[next++ % texts.length] as string;
        const t0 = performance.now();
        try {
          const response = await post(agent, target, headers, JSON.stringify({ inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: [text] }] }));
          if (response.status !== 200) errors++;
          else latencies.push(performance.now() - t0);
          for (const part of response.timing?.split(',') ?? []) {
            const match = /^\s*(\w+);dur=([\d.]+)/.exec(part);
            if (match) (phases[match[1] as string] ??= []).push(Number(match[2]));
          }
        } catch {
          errors++;
        }
      }
    }),
  );
  agent.destroy();
  const elapsed = (performance.now() - started) / 1000;
  const server = Object.fromEntries(Object.entries(phases).map(([phase, values]) => [phase, percentile(values, 0.5)]));
  return { requests: latencies.length, errors, rps: latencies.length / elapsed, p50Ms: percentile(latencies, 0.5), server };
}

function startBare(featurizer: string, model: string, root: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test/bench/fixtures/bare-serving.ts'), featurizer, model], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
      const match = /bare serving on (http:\/\/\S+)/.exec(err);
      if (match) resolve({ url: match[1] as string, child });
    });
    child.once('exit', (code) => reject(new Error(`bare-serving exited ${code}: ${err}`)));
  });
}

export async function run(context: BenchContext): Promise<Figure[]> {
  const missing = banking77Missing();
  if (missing) throw new Error(missing);
  const levels = (process.env.BENCH_SERVING_LEVELS ?? '1,16,64').split(',').map(Number);
  const seconds = envNumber('BENCH_SERVING_SECONDS', 3);
  const rounds = envNumber('BENCH_SERVING_ROUNDS', 2);
  const epochs = envNumber('BENCH_SERVING_EPOCHS', 1);
  const texts = loadBanking77('test').map((row) => row.text);

  const server = await startAnvil({ startTimeoutMs: 300_000, env: { ANVIL_DATASET_ROOTS: [banking77Dir, realpathSync(banking77Dir)].join(',') } });
  let bare: { url: string; child: ChildProcess } | undefined;
  try {
    const admin = await server.createKey('default', '*');
    const app = await server.createKey('default', 'deployments:predict');
    const session = await connectHttp('sdk1', server.mcpUrl, { key: admin.key });
    const call = async (tool: string, args: Record<string, unknown>) => {
      const outcome = await session.callTool(tool, args);
      if (outcome.isError) throw new Error(`${tool}: ${outcome.text}`);
      return outcome.structured as Record<string, unknown>;
    };
    context.log('training a Banking77 model (full train split) in anvil, as an embedding bag and as a dense input');
    await call('datasets_import', { name: 'banking77', path: path.join(banking77Dir, 'train.csv'), labelColumn: 'category', split: { validation: 0.1, test: 0, seed: 1 } });
    const train = async (modelName: string, onnxInput: string) => {
      const started = await call('training_start', { dataset: 'banking77', model: modelName, params: { epochs, checkpointEvery: 0, onnxInput } });
      let job: Record<string, unknown>;
      do job = await call('jobs_get', { id: started.jobId, waitSeconds: 120 });
      while (job.timedOut === true);
      if (job.state !== 'succeeded') throw new Error(`training ${String(job.state)}: ${JSON.stringify(job.error)}`);
      const model = await call('models_get', { name: modelName, version: 1 });
      const artifacts = model.artifacts as Array<{ name: string; sha256: string }>;
      return (file: string) => {
        const sha = artifacts.find((a) => a.name === file)?.sha256 ?? '';
        return path.join(server.home, 'artifacts', 'sha256', sha.slice(0, 2), sha);
      };
    };
    const bagBlob = await train('b77', 'embedding-bag');
    const denseBlob = await train('b77-dense', 'features');
    await call('deployments_create', { name: 'b77', model: 'b77', version: 1, logging: { sample: 1 } });
    await call('deployments_create', { name: 'b77-unbatched', model: 'b77', version: 1, batching: { enabled: false } });
    await call('deployments_create', { name: 'dense', model: 'b77-dense', version: 1 });
    await call('deployments_create', { name: 'dense-unbatched', model: 'b77-dense', version: 1, batching: { enabled: false } });
    await session.close();

    // Raw anchors in this process: the same model files, one row and 64 rows per run.
    const featurizer = Featurizer.fromSpec(JSON.parse(readFileSync(bagBlob('featurizer.json'), 'utf8')));
    const options = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' } as const;
    const rawBag = await ort.InferenceSession.create(readFileSync(bagBlob('model.onnx')), options);
    const rawDense = await ort.InferenceSession.create(readFileSync(denseBlob('model.onnx')), options);
    const timeRun = async (form: 'bag' | 'dense', count: number, at: number) => {
      const batch = Array.from({ length: count }, (_, i) => texts[(at + i) % texts.length] as string);
      if (form === 'bag') {
        const feeds = bagFeeds(toEmbeddingBag(featurizer.transformSparse(batch)));
        const t0 = performance.now();
        await rawBag.run(feeds);
        return performance.now() - t0;
      }
      const f = featurizer.transform(batch);
      const feeds = { features: new ort.Tensor('float32', f.data, [f.rows, f.cols]) };
      const t0 = performance.now();
      await rawDense.run(feeds);
      return performance.now() - t0;
    };
    const measure = async (form: 'bag' | 'dense') => {
      for (let i = 0; i < 200; i++) await timeRun(form, 1, i);
      const single: number[] = [];
      for (let i = 0; i < 1000; i++) single.push(await timeRun(form, 1, i));
      const batched: number[] = [];
      for (let i = 0; i < 50; i++) batched.push((await timeRun(form, 64, i * 64)) / 64);
      return { single: percentile(single, 0.5), batched: percentile(batched, 0.5) };
    };
    const bagRaw = await measure('bag');
    const denseRaw = await measure('dense');
    context.log(`raw run: embedding bag ${bagRaw.single.toFixed(3)} ms for one row, ${bagRaw.batched.toFixed(3)} ms/row at 64 | dense ${denseRaw.single.toFixed(3)} ms for one row, ${denseRaw.batched.toFixed(3)} ms/row at 64; features ${featurizer.featureCount}`);

    bare = await startBare(bagBlob('featurizer.json'), bagBlob('model.onnx'), context.root);
    const urls = {
      bare: `${bare.url}/v2/models/b77/infer`,
      batched: `${server.baseUrl}/v2/models/b77/infer`,
      unbatched: `${server.baseUrl}/v2/models/b77-unbatched/infer`,
      dense: `${server.baseUrl}/v2/models/dense/infer`,
      denseUnbatched: `${server.baseUrl}/v2/models/dense-unbatched/infer`,
    };
    for (const url of Object.values(urls)) await load(url, app.key, texts, 4, 1);

    const figures: Figure[] = [
      // The embedding bag's single row (goal ≤ 0.1 ms) against the dense export of the same weights.
      { metric: 'bag_run_b1_ms', value: bagRaw.single, unit: 'ms', anchor: denseRaw.single },
      { metric: 'raw_run_b64_ms_per_row', value: bagRaw.batched, unit: 'ms', anchor: bagRaw.single },
      { metric: 'dense_raw_run_b64_ms_per_row', value: denseRaw.batched, unit: 'ms', anchor: denseRaw.single },
    ];
    type Side = keyof typeof urls;
    for (const clients of levels) {
      const sides: Side[] = clients === 64 ? ['bare', 'batched', 'unbatched', 'dense', 'denseUnbatched'] : ['bare', 'batched', 'unbatched'];
      const sums = Object.fromEntries(sides.map((side) => [side, [] as Load[]])) as Record<Side, Load[]>;
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? sides : [...sides].reverse();
        for (const side of order) sums[side].push(await load(urls[side], side === 'bare' ? undefined : app.key, texts, clients, seconds));
      }
      const merge = (loads: Load[]) => ({
        rps: loads.reduce((a, b) => a + b.rps, 0) / loads.length,
        p50Ms: loads.reduce((a, b) => a + b.p50Ms, 0) / loads.length,
        errors: loads.reduce((a, b) => a + b.errors, 0),
        server: Object.fromEntries(Object.keys(loads[0]?.server ?? {}).map((phase) => [phase, loads.reduce((a, b) => a + (b.server[phase] ?? 0), 0) / loads.length])),
      });
      const b = merge(sums.bare);
      const on = merge(sums.batched);
      const off = merge(sums.unbatched);
      const phases = (m: ReturnType<typeof merge>) => Object.entries(m.server).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ');
      context.log(`c${clients}: bare ${b.rps.toFixed(0)} rps p50 ${b.p50Ms.toFixed(2)} ms | batched ${on.rps.toFixed(0)} rps p50 ${on.p50Ms.toFixed(2)} ms [server: ${phases(on)}] | unbatched ${off.rps.toFixed(0)} rps p50 ${off.p50Ms.toFixed(2)} ms [server: ${phases(off)}]`);
      if (clients === 1) {
        figures.push(
          { metric: 'oip_c1_p50_ms', value: on.p50Ms, unit: 'ms', anchor: bagRaw.single },
          { metric: 'oip_c1_unbatched_p50_ms', value: off.p50Ms, unit: 'ms', anchor: bagRaw.single },
          { metric: 'bare_c1_p50_ms', value: b.p50Ms, unit: 'ms', anchor: bagRaw.single },
          // Anvil's round trip against the bare endpoint's: what auth, routing, batching and the log add.
          { metric: 'oip_c1_p50_vs_bare_ms', value: on.p50Ms, unit: 'ms', anchor: b.p50Ms },
          // The server's own time for one request (Server-Timing total: parse to answer).
          { metric: 'oip_c1_server_p50_ms', value: on.server.total ?? Number.NaN, unit: 'ms', anchor: bagRaw.single },
        );
      }
      figures.push({ metric: `oip_c${clients}_rps`, value: on.rps, unit: 'req/s', anchor: b.rps }, { metric: `oip_c${clients}_unbatched_rps`, value: off.rps, unit: 'req/s', anchor: b.rps });
      let errors = on.errors + off.errors;
      if (clients === 64) {
        const dense = merge(sums.dense);
        const denseOff = merge(sums.denseUnbatched);
        context.log(`c64 dense: batched ${dense.rps.toFixed(0)} rps [server: ${phases(dense)}] | unbatched ${denseOff.rps.toFixed(0)} rps [server: ${phases(denseOff)}]`);
        figures.push({ metric: 'dense_c64_batched_rps', value: dense.rps, unit: 'req/s', anchor: denseOff.rps });
        errors += dense.errors + denseOff.errors;
      }
      figures.push({ metric: `oip_c${clients}_errors`, value: errors, unit: 'count', anchor: 0 });
    }
    await rawBag.release();
    await rawDense.release();
    return figures;
  } finally {
    bare?.child.kill('SIGTERM');
    await server.dispose();
  }
}
