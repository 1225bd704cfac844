/**
 * `serving`: the deployments plugin's OIP v2 endpoint under load, against anchors measured in the
 * same run. A Banking77 text classifier is trained by the real training plugin inside a spawned
 * `anvil serve --http` (embedded), then deployed twice: batching on (defaults) and off. Anchors:
 * - raw `InferenceSession.run` on the same model.onnx in this process (one row; 64 rows per run);
 * - a bare Hono endpoint (fixtures/bare-serving.ts) that featurises and runs the same session with
 *   no auth, routing, logging or batching.
 * Per concurrency level (1, 16, 64 clients, each sending one-text requests back to back), the bare
 * endpoint, Anvil batched and Anvil unbatched are measured in alternating slices.
 *
 * Knobs: BENCH_SERVING_LEVELS (default "1,16,64"), BENCH_SERVING_SECONDS (per slice, default 3),
 * BENCH_SERVING_ROUNDS (default 2), BENCH_SERVING_EPOCHS (training epochs, default 1).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
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
}

const percentile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

async function load(url: string, key: string | undefined, texts: readonly string[], clients: number, seconds: number): Promise<Load> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const end = performance.now() + seconds * 1000;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) };
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const text = texts[next++ % texts.length] as string;
        const t0 = performance.now();
        try {
          const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: [text] }] }) });
          await response.arrayBuffer();
          if (response.status !== 200) errors++;
          else latencies.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { requests: latencies.length, errors, rps: latencies.length / elapsed, p50Ms: percentile(latencies, 0.5) };
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
    context.log('training a Banking77 model (full train split) in anvil');
    await call('datasets_import', { name: 'banking77', path: path.join(banking77Dir, 'train.csv'), labelColumn: 'category', split: { validation: 0.1, test: 0, seed: 1 } });
    const started = await call('training_start', { dataset: 'banking77', model: 'b77', params: { epochs, checkpointEvery: 0 } });
    let job: Record<string, unknown>;
    do job = await call('jobs_get', { id: started.jobId, waitSeconds: 120 });
    while (job.timedOut === true);
    if (job.state !== 'succeeded') throw new Error(`training ${String(job.state)}: ${JSON.stringify(job.error)}`);
    const model = await call('models_get', { name: 'b77', version: 1 });
    const artifacts = model.artifacts as Array<{ name: string; sha256: string }>;
    const blob = (file: string) => {
      const sha = artifacts.find((a) => a.name === file)?.sha256 ?? '';
      return path.join(server.home, 'artifacts', 'sha256', sha.slice(0, 2), sha);
    };
    await call('deployments_create', { name: 'b77', model: 'b77', version: 1, logging: { sample: 1 } });
    await call('deployments_create', { name: 'b77-unbatched', model: 'b77', version: 1, batching: { enabled: false } });
    await session.close();

    // Raw anchors in this process.
    const featurizer = Featurizer.fromSpec(JSON.parse(readFileSync(blob('featurizer.json'), 'utf8')));
    const raw = await ort.InferenceSession.create(readFileSync(blob('model.onnx')), { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
    const runRows = async (count: number, at: number) => {
      const f = featurizer.transform(Array.from({ length: count }, (_, i) => texts[(at + i) % texts.length] as string));
      const t0 = performance.now();
      await raw.run({ features: new ort.Tensor('float32', f.data, [f.rows, f.cols]) });
      return performance.now() - t0;
    };
    for (let i = 0; i < 200; i++) await runRows(1, i);
    const single: number[] = [];
    for (let i = 0; i < 1000; i++) single.push(await runRows(1, i));
    const batched: number[] = [];
    for (let i = 0; i < 50; i++) batched.push((await runRows(64, i * 64)) / 64);
    const rawSingle = percentile(single, 0.5);
    const rawBatched = percentile(batched, 0.5);
    context.log(`raw run: ${rawSingle.toFixed(3)} ms for one row, ${rawBatched.toFixed(3)} ms/row at 64; features ${featurizer.featureCount}`);

    bare = await startBare(blob('featurizer.json'), blob('model.onnx'), context.root);
    const urls = { bare: `${bare.url}/v2/models/b77/infer`, batched: `${server.baseUrl}/v2/models/b77/infer`, unbatched: `${server.baseUrl}/v2/models/b77-unbatched/infer` };
    for (const url of [urls.bare, urls.batched, urls.unbatched]) await load(url, app.key, texts, 4, 1);

    const figures: Figure[] = [{ metric: 'raw_run_b64_ms_per_row', value: rawBatched, unit: 'ms', anchor: rawSingle }];
    for (const clients of levels) {
      const sums = { bare: [] as Load[], batched: [] as Load[], unbatched: [] as Load[] };
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? (['bare', 'batched', 'unbatched'] as const) : (['unbatched', 'batched', 'bare'] as const);
        for (const side of order) sums[side].push(await load(urls[side], side === 'bare' ? undefined : app.key, texts, clients, seconds));
      }
      const merge = (loads: Load[]) => ({ rps: loads.reduce((a, b) => a + b.rps, 0) / loads.length, p50Ms: loads.reduce((a, b) => a + b.p50Ms, 0) / loads.length, errors: loads.reduce((a, b) => a + b.errors, 0) });
      const b = merge(sums.bare);
      const on = merge(sums.batched);
      const off = merge(sums.unbatched);
      context.log(`c${clients}: bare ${b.rps.toFixed(0)} rps p50 ${b.p50Ms.toFixed(2)} ms | batched ${on.rps.toFixed(0)} rps p50 ${on.p50Ms.toFixed(2)} ms | unbatched ${off.rps.toFixed(0)} rps p50 ${off.p50Ms.toFixed(2)} ms`);
      if (clients === 1) figures.push({ metric: 'oip_c1_p50_ms', value: on.p50Ms, unit: 'ms', anchor: rawSingle }, { metric: 'oip_c1_unbatched_p50_ms', value: off.p50Ms, unit: 'ms', anchor: rawSingle }, { metric: 'bare_c1_p50_ms', value: b.p50Ms, unit: 'ms', anchor: rawSingle });
      figures.push({ metric: `oip_c${clients}_rps`, value: on.rps, unit: 'req/s', anchor: b.rps }, { metric: `oip_c${clients}_unbatched_rps`, value: off.rps, unit: 'req/s', anchor: b.rps });
      if (clients === 64) figures.push({ metric: 'dense_c64_batched_rps', value: on.rps, unit: 'req/s', anchor: off.rps });
      figures.push({ metric: `oip_c${clients}_errors`, value: on.errors + off.errors, unit: 'count', anchor: 0 });
    }
    await raw.release();
    return figures;
  } finally {
    bare?.child.kill('SIGTERM');
    await server.dispose();
  }
}
