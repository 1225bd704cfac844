/**
 * `text-classifier` run as a child process through the runner, on a 10-class slice of Banking77
 * (two more classes relabelled `oos`): artifacts, ONNX parity with the training-time predictions,
 * exact resume after SIGTERM, and unrecoverable errors for bad data.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { ArtifactEvent, CheckpointEvent, RecipeEvent } from '../../gpu-workers/protocol.ts';
import { bagFeeds, toEmbeddingBag } from '../../gpu-workers/recipes/text-classifier/bag.ts';
import { Featurizer } from '../../gpu-workers/recipes/text-classifier/featurizer.ts';
import { TextClassifier } from '../../gpu-workers/recipes/text-classifier/predict.ts';
import { textClassifierParams, textClassifierRecipe } from '../../gpu-workers/recipes/text-classifier/recipe.ts';
import { entryCommand, runRecipe, startRecipe, type RunOptions, type RunOutcome } from '../../gpu-workers/runner.ts';
import { makeSpec, recorder, workDir } from '../workers/helpers.ts';
import { banking77Missing, loadBanking77 } from './banking77.ts';

const entry = entryCommand(textClassifierRecipe.entry);
const missing = banking77Missing();
if (missing) process.stderr.write(`text-classifier tests on Banking77 skipped: ${missing}\n`);

function options(dir: string, params: Record<string, unknown>, onEvent: (event: RecipeEvent) => void, resume: CheckpointEvent | null = null): RunOptions {
  return {
    ...entry,
    spec: makeSpec(dir, { recipe: textClassifierRecipe.name, params, attempt: resume ? 2 : 1, resume: resume ? { checkpoint: { step: resume.step, path: resume.path, ...(resume.state ? { state: resume.state } : {}) } } : null }),
    cwd: dir,
    timeoutMs: 170_000,
    graceMs: 20_000,
    onEvent,
  };
}

function succeeded(outcome: RunOutcome): Record<string, unknown> {
  assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome));
  return outcome.status === 'succeeded' ? outcome.result : {};
}

const artifacts = (events: RecipeEvent[]): Map<string, ArtifactEvent> =>
  new Map(events.filter((event): event is ArtifactEvent => event.type === 'artifact').map((event) => [event.name, event]));
const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** 10 Banking77 classes (≤ 60 training rows each) plus 2 classes relabelled `oos`; test rows of the same classes. */
function slice(dir: string): { file: string; testTexts: string[] } {
  const categories = [...new Set(loadBanking77('train').map((row) => row.category))].sort().slice(0, 12);
  const oos = new Set(categories.slice(10));
  const relabel = (category: string): string => (oos.has(category) ? 'oos' : category);
  const seen = new Map<string, number>();
  const train = loadBanking77('train').filter((row) => {
    if (!categories.includes(row.category)) return false;
    const count = (seen.get(row.category) ?? 0) + 1;
    seen.set(row.category, count);
    return count <= 60;
  });
  const test = loadBanking77('test').filter((row) => categories.includes(row.category));
  const lines = [
    ...train.map((row) => ({ utterance: row.text, intent: relabel(row.category), part: 'train' })),
    ...test.map((row) => ({ utterance: row.text, intent: relabel(row.category), part: 'test' })),
  ];
  const file = path.join(dir, 'slice.jsonl');
  writeFileSync(file, lines.map((line) => JSON.stringify(line)).join('\n'));
  return { file, testTexts: test.map((row) => row.text) };
}

const smallParams = (file: string): Record<string, unknown> => ({
  // Recipes read only files inside their work dir, named relative to it.
  dataset: { file: path.basename(file), textColumn: 'utterance', labelColumn: 'intent', splitColumn: 'part' },
  hiddenSize: 64,
  epochs: 10,
  checkpointEvery: 10,
  validationFraction: 0.15,
  seed: 7,
});

describe('text-classifier', () => {
  it('is described for the plugin API with documented defaults', () => {
    assert.equal(textClassifierRecipe.name, 'text-classifier');
    assert.ok(textClassifierRecipe.entry.pathname.endsWith('/gpu-workers/recipes/text-classifier/main.ts'));
    const parsed = textClassifierParams.parse({ dataset: { file: 'inputs/x.jsonl' } });
    assert.deepEqual([parsed.wordNgrams, parsed.charNgrams, parsed.model, parsed.oosLabel, parsed.dataset.textColumn, parsed.dataset.labelColumn], [[1, 2], [2, 5], 'mlp', 'oos', 'text', 'label']);
    assert.equal(textClassifierParams.safeParse({ dataset: { file: 'x' }, wordNgrams: [3, 1] }).success, false);
    for (const file of ['/etc/passwd', '../../home/.env', 'inputs/../../x.jsonl', 'inputs\\..\\x']) {
      const refused = textClassifierParams.safeParse({ dataset: { file } });
      assert.equal(refused.success, false, `${file} is refused`);
      assert.match(refused.error?.issues[0]?.message ?? '', /relative to the work directory/);
    }
    assert.equal(textClassifierParams.safeParse({ dataset: {} }).success, false);
  });

  describe('on a Banking77 slice', { skip: missing ?? false }, () => {
    let dir = '';
    let data: { file: string; testTexts: string[] };
    let events: RecipeEvent[] = [];
    let result: Record<string, unknown> = {};

    before(async () => {
      dir = workDir();
      data = slice(dir);
      const rec = recorder();
      result = succeeded(await runRecipe(options(dir, smallParams(data.file), rec.onEvent)));
      events = rec.events;
    });

    it('trains, reports metrics, checkpoints and artifacts, and learns', () => {
      assert.equal(events.filter((event) => event.type === 'invalid').length, 0, JSON.stringify(events.filter((event) => event.type === 'invalid')));
      const labels = result.labels as string[];
      assert.equal(labels.length, 11);
      assert.ok(labels.includes('oos'));
      const metrics = result.metrics as Record<string, number>;
      assert.ok((metrics.testAccuracy ?? 0) > 0.75, JSON.stringify(metrics));
      assert.ok(typeof result.threshold === 'number' && result.threshold >= 0 && result.threshold < 1);
      assert.equal(result.resumedFrom, 0);
      assert.ok((result.featureCount as number) > 1000);
      assert.ok(events.some((event) => event.type === 'metric' && event.name === 'val_accuracy'));
      assert.ok(events.some((event) => event.type === 'checkpoint' && event.step === 10));
      const found = artifacts(events);
      for (const name of ['model', 'featurizer', 'metrics', 'predictions']) {
        const artifact = found.get(name);
        assert.ok(artifact, `artifact ${name}`);
        assert.equal(sha256(artifact.path), artifact.sha256);
      }
      assert.equal(found.get('model')?.mediaType, 'application/onnx');
      const featurizer = JSON.parse(readFileSync(found.get('featurizer')?.path as string, 'utf8')) as Record<string, unknown>;
      assert.equal(featurizer.thresholdMethod, 'oos', 'validation has oos rows, so the threshold is chosen on them');
      const point = result.operatingPoint as { objective: { kind: string }; oosRecall: number; noAbstainAccuracy: number };
      assert.equal(point.objective.kind, 'oos-recall-target');
      assert.ok(point.oosRecall >= 0.6 && point.noAbstainAccuracy > 0.7, JSON.stringify(point));
      assert.equal(featurizer.threshold, result.threshold);
    });

    it('exports ONNX whose probabilities on held-out texts equal the training-time predictions', async () => {
      const found = artifacts(events);
      const spec = JSON.parse(readFileSync(found.get('featurizer')?.path as string, 'utf8')) as unknown;
      const predictions = JSON.parse(readFileSync(found.get('predictions')?.path as string, 'utf8')) as { probabilities: number[][]; confidence?: number[] };
      assert.equal((spec as { model: { input: string } }).model.input, 'embedding-bag');
      const session = await ort.InferenceSession.create(found.get('model')?.path as string);
      assert.deepEqual(session.inputNames, ['ids', 'weights']);
      const output = await session.run(bagFeeds(toEmbeddingBag(Featurizer.fromSpec(spec).transformSparse(data.testTexts))));
      const onnx = output.probabilities?.data as Float32Array;
      assert.equal(predictions.probabilities.length, data.testTexts.length);
      let worst = 0;
      predictions.probabilities.forEach((row, r) => row.forEach((p, c) => (worst = Math.max(worst, Math.abs(p - (onnx[r * row.length + c] as number))))));
      assert.ok(worst <= 1e-5, `max |onnx - training| = ${worst}`);
      // The abstain confidence (the k-means prototype score, the default) too.
      assert.equal((spec as { confidence?: string }).confidence, 'prototype-cosine');
      const confidence = output.confidence?.data as Float32Array;
      assert.equal(predictions.confidence?.length, data.testTexts.length);
      let worstConfidence = 0;
      predictions.confidence?.forEach((value, r) => (worstConfidence = Math.max(worstConfidence, Math.abs(value - (confidence[r] as number)))));
      assert.ok(worstConfidence <= 1e-5, `max |onnx - training| confidence = ${worstConfidence}`);
      assert.ok(predictions.confidence?.every((value) => value >= 0 && value < 1));
      await session.release();

      const classifier = await TextClassifier.load(found.get('featurizer')?.path as string, found.get('model')?.path as string);
      const predicted = await classifier.predict(data.testTexts.slice(0, 20));
      assert.equal(predicted.length, 20);
      for (const [r, p] of predicted.entries()) {
        assert.equal(p.abstained, p.label === null);
        assert.ok(Math.abs(p.confidence - (confidence[r] as number)) <= 1e-6);
        assert.equal(p.abstained, p.confidence < classifier.threshold || p.topLabel === 'oos');
      }
      const probabilities = await classifier.probabilities(data.testTexts.slice(0, 3));
      assert.ok(Math.abs((probabilities[0] as number) - (onnx[0] as number)) <= 1e-6);
      await classifier.release();
    });

    it('without out-of-scope rows in validation, simulates them by holding out intents and states the objective', async () => {
      const simDir = workDir();
      // Recipes read only files inside their own work dir.
      copyFileSync(data.file, path.join(simDir, path.basename(data.file)));
      const rec = recorder();
      // 'oos' is an ordinary class when the OOS label is something else: validation has no OOS rows.
      const simulated = succeeded(await runRecipe(options(simDir, { ...smallParams(data.file), oosLabel: 'not-a-label', epochs: 4, checkpointEvery: 0 }, rec.onEvent)));
      const point = simulated.operatingPoint as { method: string; objective: { kind: string; oosRecallTarget: number }; targetMet: boolean; oosRecall: number; simulated: { heldOut: string[]; seed: number } };
      assert.equal(point.method, 'simulated-oos');
      assert.deepEqual(point.objective, { kind: 'oos-recall-target', oosRecallTarget: 0.6 });
      assert.equal(point.simulated.heldOut.length, 3, '25% of 11 intents');
      assert.equal(point.simulated.seed, 7);
      assert.equal(point.targetMet, true);
      assert.ok(point.oosRecall >= 0.6);
      assert.ok((simulated.threshold as number) > 0);
      const found = artifacts(rec.events);
      const featurizer = JSON.parse(readFileSync(found.get('featurizer')?.path as string, 'utf8')) as { thresholdMethod: string; threshold: number };
      assert.deepEqual([featurizer.thresholdMethod, featurizer.threshold], ['simulated-oos', simulated.threshold]);
      const metrics = JSON.parse(readFileSync(found.get('metrics')?.path as string, 'utf8')) as { threshold: { curve: Array<{ threshold: number; oosRecall: number }> } };
      assert.ok(metrics.threshold.curve.length > 10 && metrics.threshold.curve.some((p) => p.threshold === simulated.threshold || p.oosRecall >= 0.6));
    });

    it('stopped by SIGTERM and resumed, ends with the same model as the uninterrupted run', async () => {
      const resumedDir = workDir();
      const file = path.join(resumedDir, 'slice.jsonl');
      writeFileSync(file, readFileSync(data.file));
      const params = smallParams(file);
      const first = recorder();
      const run = startRecipe(
        options(resumedDir, params, (event) => {
          first.onEvent(event);
          if (event.type === 'checkpoint' && event.step === 20) run.stop('preempted');
        }),
      );
      const stopped = await run.outcome;
      assert.equal(stopped.status, 'stopped', JSON.stringify(stopped));
      assert.equal(stopped.exitCode, 143);
      const last = stopped.lastCheckpoint;
      assert.ok(last && last.step >= 20, JSON.stringify(last));
      assert.ok(first.events.some((event) => event.type === 'log' && /SIGTERM: checkpointed at step/.test(event.message)));

      const second = recorder();
      const resumed = succeeded(await runRecipe(options(resumedDir, params, second.onEvent, { type: 'checkpoint', step: last.step, path: last.path, ...(last.state ? { state: last.state } : {}) })));
      assert.equal(resumed.resumedFrom, last.step);
      assert.equal(resumed.steps, result.steps);
      assert.deepEqual(resumed.metrics, result.metrics);
      const original = artifacts(events);
      const again = artifacts(second.events);
      assert.equal(again.get('model')?.sha256, original.get('model')?.sha256, 'bit-identical model.onnx');
      assert.equal(again.get('predictions')?.sha256, original.get('predictions')?.sha256);
      assert.equal(again.get('featurizer')?.sha256, original.get('featurizer')?.sha256);
    });
  });

  describe('refuses bad data as unrecoverable (exit 2), naming the problem', () => {
    const attempt = async (lines: string, params: Record<string, unknown> = {}): Promise<string> => {
      const dir = workDir();
      const file = path.join(dir, 'data.jsonl');
      writeFileSync(file, lines);
      const outcome = await runRecipe(options(dir, { dataset: { file: path.basename(file), labelColumn: 'intent' }, ...params }, () => undefined));
      assert.equal(outcome.status, 'failed', JSON.stringify(outcome));
      if (outcome.status !== 'failed') return '';
      assert.equal(outcome.exitCode, 2);
      assert.equal(outcome.unrecoverable, true);
      return outcome.message;
    };

    it('a missing label column', async () => {
      assert.match(await attempt('{"text":"a b","intent":"x"}\n{"text":"c d","label":"y"}\n'), /line 2 has no value in the label column 'intent'/);
    });
    it('an empty file', async () => {
      assert.match(await attempt('\n'), /is empty: it has no rows/);
    });
    it('a single class', async () => {
      assert.match(await attempt('{"text":"a b","intent":"x"}\n{"text":"c d","intent":"x"}\n'), /label column 'intent' has a single class \("x"\)/);
    });
    it('a dataset file outside the work dir: an absolute path, a .. step, a symlink leading out', async () => {
      const outside = workDir();
      writeFileSync(path.join(outside, 'secret.jsonl'), '{"text":"sk_live_secret","intent":"x"}\n{"text":"other","intent":"y"}\n');
      for (const file of [path.join(outside, 'secret.jsonl'), `../${path.basename(outside)}/secret.jsonl`]) {
        const dir = workDir();
        const outcome = await runRecipe(options(dir, { dataset: { file, labelColumn: 'intent' } }, () => undefined));
        assert.ok(outcome.status === 'failed' && outcome.exitCode === 2 && outcome.unrecoverable, JSON.stringify(outcome));
        if (outcome.status === 'failed') assert.match(outcome.message, /dataset\.file: must be a path relative to the work directory/);
      }
      const dir = workDir();
      symlinkSync(path.join(outside, 'secret.jsonl'), path.join(dir, 'linked.jsonl'));
      const outcome = await runRecipe(options(dir, { dataset: { file: 'linked.jsonl', labelColumn: 'intent' } }, () => undefined));
      assert.ok(outcome.status === 'failed' && outcome.exitCode === 2 && outcome.unrecoverable, JSON.stringify(outcome));
      if (outcome.status === 'failed') {
        assert.match(outcome.message, /dataset\.file leads outside the work directory/);
        assert.ok(!outcome.message.includes(outside) && !outcome.message.includes('sk_live'), outcome.message);
      }
    });
    it('a missing text column, and bad params', async () => {
      assert.match(await attempt('{"body":"a b","intent":"x"}\n'), /line 1 has no string in the text column 'text'/);
      assert.match(await attempt('{"text":"a","intent":"x"}\n', { model: 'forest' }), /invalid params for text-classifier: model:/);
    });
  });
});
