/**
 * `banking77`: the built-in `text-classifier` recipe with its DEFAULT params on Banking77 (10,003
 * train / 3,080 test, 77 intents), run as a child process through the runner like a worker runs it.
 *
 * Figures: test accuracy (from the ONNX model, featurised with featurizer.json), training wall
 * seconds (the whole recipe process), its CPU seconds (user + sys of all its threads: the figure
 * that means something on a shared machine, with the load average logged beside it) and its main
 * thread's CPU seconds (≈ the wall time on an idle 2-core machine), peak RSS of the recipe process, ONNX inference ms per query in
 * batches of 32 (model only, embedding-bag input) and with featurisation. The anchor of each is scikit-learn TF-IDF
 * (word 1–2 + char_wb 2–5, sublinear tf) + LinearSVC measured in the same run, interleaved: once
 * before Anvil's run and once after (their mean is the anchor): its test accuracy, fit seconds,
 * peak RSS of the Python process, and predict ms/query without and with the TF-IDF transform.
 * Without scikit-learn (`python3 -c 'import sklearn'` fails) the figures are printed with no anchor
 * and no ratio, and the log says how to install it (`apt-get install -y python3-sklearn`).
 * Knob: BENCH_BANKING77_PARAMS (JSON merged over the defaults).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ArtifactEvent, RecipeEvent } from '../../gpu-workers/protocol.ts';
import { bagFeeds, toEmbeddingBag } from '../../gpu-workers/recipes/text-classifier/bag.ts';
import { Featurizer } from '../../gpu-workers/recipes/text-classifier/featurizer.ts';
import { textClassifierRecipe } from '../../gpu-workers/recipes/text-classifier/recipe.ts';
import { entryCommand, startRecipe } from '../../gpu-workers/runner.ts';
import { argmax } from '../../gpu-workers/recipes/ml/matrix.ts';
import { banking77Dir, banking77Missing, writeBanking77Jsonl } from '../training/banking77.ts';
import type { BenchContext, Figure } from './run.ts';

export const name = 'banking77';
export const description = 'text-classifier defaults on Banking77: test accuracy, train seconds, peak RSS, ONNX ms/query vs scikit-learn TF-IDF + LinearSVC';

/** Rows per ONNX run: the embedding bag's Gather materialises rows × longest row × width floats. */
const BATCH = 32;

const SKLEARN = `
import sys, time, csv
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_union
from sklearn.svm import LinearSVC
def load(p):
    with open(p, newline='', encoding='utf-8') as f:
        rows = list(csv.DictReader(f))
    return [r['text'] for r in rows], [r['category'] for r in rows]
Xtr, ytr = load(sys.argv[1] + '/train.csv'); Xte, yte = load(sys.argv[1] + '/test.csv')
import numpy, resource
t = time.time()
vec = make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), TfidfVectorizer(analyzer='char_wb', ngram_range=(2, 5), sublinear_tf=True))
clf = LinearSVC().fit(vec.fit_transform(Xtr), ytr)
secs = time.time() - t
t = time.time(); features = vec.transform(Xte); featurize = time.time() - t
t = time.time(); predicted = clf.predict(features); model = time.time() - t
acc = (predicted == numpy.array(yte)).mean()
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
n = len(Xte)
print(f'{acc} {secs} {rss_mb} {model * 1000 / n} {(model + featurize) * 1000 / n}')
`;

interface Measured {
  accuracy: number;
  trainSeconds: number;
  peakRssMb: number;
  msPerQuery: number;
  withFeaturizeMsPerQuery: number;
}

const INSTALL_HINT = 'install it with `apt-get install -y python3-sklearn` (Debian/Ubuntu) or `pip install scikit-learn`';

/** The first of `python3` (PATH) and `/usr/bin/python3` that imports scikit-learn; logs how to install it when none does. */
function sklearnPython(context: BenchContext): string | undefined {
  for (const python of ['python3', '/usr/bin/python3']) {
    if (spawnSync(python, ['-c', 'import sklearn'], { stdio: 'ignore' }).status === 0) return python;
  }
  context.log(`scikit-learn is not importable by python3: the figures have no anchor and no ratio; ${INSTALL_HINT}, then run again`);
  return undefined;
}

/** One scikit-learn TF-IDF + LinearSVC run on Banking77, measured now. */
function sklearnRun(context: BenchContext, python: string, when: string): Measured {
  context.log(`scikit-learn TF-IDF + LinearSVC anchor (${when} Anvil's run)`);
  const out = execFileSync(python, ['-c', SKLEARN, banking77Dir], { encoding: 'utf8', timeout: 600_000 }).trim().split(/\s+/).map(Number);
  const [accuracy = NaN, trainSeconds = NaN, peakRssMb = NaN, msPerQuery = NaN, withFeaturizeMsPerQuery = NaN] = out;
  context.log(`  accuracy ${accuracy.toFixed(4)}, fit ${trainSeconds.toFixed(1)} s, peak RSS ${peakRssMb.toFixed(0)} MB, ${msPerQuery.toFixed(4)} ms/query (${withFeaturizeMsPerQuery.toFixed(4)} with TF-IDF)`);
  return { accuracy, trainSeconds, peakRssMb, msPerQuery, withFeaturizeMsPerQuery };
}

function mean(runs: readonly Measured[], key: keyof Measured): number | null {
  return runs.length === 0 ? null : runs.reduce((sum, run) => sum + run[key], 0) / runs.length;
}

/**
 * CPU seconds (user + sys) a live process has used so far, from /proc/<pid>/stat: all its threads,
 * or with `thread` one thread's (`/proc/<pid>/task/<tid>/stat`; the main thread's tid is the pid).
 */
function cpuSeconds(pid: number, thread?: number): number | undefined {
  try {
    const file = thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`;
    // Fields after the command name (which may hold spaces, so split after its closing parenthesis): utime is the 12th, stime the 13th.
    const fields = readFileSync(file, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / CLOCK_TICKS : undefined;
  } catch {
    return undefined;
  }
}

/** USER_HZ: the kernel reports process times in 1/100 s on every Linux architecture Node supports. */
const CLOCK_TICKS = 100;

/** Peak RSS (VmHWM) of a process, in MB, while it lives. */
function peakRssMb(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export async function run(context: BenchContext): Promise<Figure[]> {
  const missing = banking77Missing();
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(path.join(tmpdir(), 'anvil-bench-banking77-'));
  try {
    const python = sklearnPython(context);
    const anchors: Measured[] = python ? [sklearnRun(context, python, 'before')] : [];
    const file = path.join(dir, 'banking77.jsonl');
    const { test } = writeBanking77Jsonl(file);
    const extra = JSON.parse(process.env.BENCH_BANKING77_PARAMS ?? '{}') as Record<string, unknown>;
    const params = { dataset: { file: path.basename(file), textColumn: 'text', labelColumn: 'category', splitColumn: 'split' }, ...extra };
    const events: RecipeEvent[] = [];
    let peak = 0;
    let cpu = 0;
    let mainThreadCpu = 0;
    const loadBefore = loadavg();
    const started = performance.now();
    context.log(`training text-classifier with default params${Object.keys(extra).length ? ` plus ${JSON.stringify(extra)}` : ''}`);
    const { command, args } = entryCommand(textClassifierRecipe.entry);
    const recipeRun = startRecipe({
      command,
      args,
      spec: { jobId: 'bench-banking77', recipe: textClassifierRecipe.name, params, attempt: 1, workDir: dir, resume: null },
      cwd: dir,
      timeoutMs: 600_000,
      graceMs: 10_000,
      onEvent: (event) => {
        events.push(event);
        if (event.type === 'log' && event.level === 'info') context.log(`  ${event.message}`);
      },
    });
    const pid = recipeRun.pid;
    const poll = setInterval(() => {
      if (pid !== undefined) {
        peak = Math.max(peak, peakRssMb(pid) ?? 0);
        cpu = cpuSeconds(pid) ?? cpu;
        mainThreadCpu = cpuSeconds(pid, pid) ?? mainThreadCpu;
      }
    }, 100);
    const outcome = await recipeRun.outcome;
    clearInterval(poll);
    const trainSeconds = (performance.now() - started) / 1000;
    if (outcome.status !== 'succeeded') throw new Error(`the recipe did not succeed: ${JSON.stringify(outcome)}`);
    const found = new Map(events.filter((e): e is ArtifactEvent => e.type === 'artifact').map((e) => [e.name, e]));
    const spec = JSON.parse(readFileSync(found.get('featurizer')?.path as string, 'utf8')) as { labels: string[] };
    const featurizer = Featurizer.fromSpec(spec);
    const session = await ort.InferenceSession.create(found.get('model')?.path as string, { intraOpNumThreads: 2 });

    // Accuracy and latency through ONNX, batches of BATCH.
    const texts = test.map((row) => row.text);
    let correct = 0;
    let modelMs = 0;
    let featurizeMs = 0;
    for (let pass = 0; pass < 2; pass++) {
      modelMs = 0;
      featurizeMs = 0;
      correct = 0;
      for (let from = 0; from < texts.length; from += BATCH) {
        const t0 = performance.now();
        const features = toEmbeddingBag(featurizer.transformSparse(texts.slice(from, from + BATCH)));
        const t1 = performance.now();
        const out = await session.run(bagFeeds(features));
        modelMs += performance.now() - t1;
        featurizeMs += t1 - t0;
        const probabilities = out.probabilities?.data as Float32Array;
        const classes = spec.labels.length;
        for (let r = 0; r < features.rows; r++) if (spec.labels[argmax(probabilities, r * classes, classes)] === test[from + r]?.category) correct++;
      }
    }
    await session.release();
    const accuracy = correct / texts.length;
    const result = outcome.result as { metrics?: { testAccuracy?: number }; featureCount?: number; epochs?: number };
    const load = (values: number[]): string => values.map((v) => v.toFixed(2)).join(', ');
    context.log(`accuracy ${accuracy.toFixed(4)} (recipe's own test accuracy ${result.metrics?.testAccuracy}), ${result.featureCount} features, ${result.epochs} epochs, ${trainSeconds.toFixed(1)} s wall, ${cpu.toFixed(1)} CPU s of which ${mainThreadCpu.toFixed(1)} s in the main thread (the simulated-OOS training runs in another; load average ${load(loadBefore)} before, ${load(loadavg())} after), peak RSS ${peak.toFixed(0)} MB`);
    context.log(`ONNX: ${(modelMs / texts.length).toFixed(4)} ms/query model only, ${((modelMs + featurizeMs) / texts.length).toFixed(4)} ms/query with featurisation`);
    if (python) anchors.push(sklearnRun(context, python, 'after'));
    context.log(`goal: accuracy ≥ 0.935 ${accuracy >= 0.935 ? 'met' : 'MISSED'}; train ≤ 60 s ${trainSeconds <= 60 ? 'met' : 'MISSED'}; RSS ≤ 2048 MB ${peak <= 2048 ? 'met' : 'MISSED'}; ≤ 0.2 ms/query ${modelMs / texts.length <= 0.2 ? 'met' : 'MISSED'}`);
    return [
      { metric: 'test_accuracy', value: accuracy, unit: 'ratio', anchor: mean(anchors, 'accuracy') },
      { metric: 'train_seconds', value: trainSeconds, unit: 's', anchor: mean(anchors, 'trainSeconds') },
      // Anchor: scikit-learn's fit is single-threaded, so its wall seconds are its CPU seconds.
      { metric: 'train_cpu_seconds', value: cpu, unit: 's', anchor: mean(anchors, 'trainSeconds') },
      // The main thread's CPU seconds: roughly the wall time on an idle machine with 2 cores, where the simulation thread runs beside it.
      { metric: 'train_main_thread_cpu_seconds', value: mainThreadCpu, unit: 's', anchor: mean(anchors, 'trainSeconds') },
      { metric: 'peak_rss_mb', value: peak, unit: 'MB', anchor: mean(anchors, 'peakRssMb') },
      { metric: 'onnx_ms_per_query', value: modelMs / texts.length, unit: 'ms', anchor: mean(anchors, 'msPerQuery') },
      { metric: 'onnx_with_featurize_ms_per_query', value: (modelMs + featurizeMs) / texts.length, unit: 'ms', anchor: mean(anchors, 'withFeaturizeMsPerQuery') },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

