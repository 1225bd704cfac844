/**
 * `torch-text-classifier` (Python, Debian's python3-torch) run through the runner like a worker runs
 * it, on an 8-class slice of Banking77 (two more classes relabelled `oos`): it trains and exports,
 * its ONNX model run in onnxruntime-node (featurised by the TypeScript featurizer from its
 * featurizer.json) reproduces the PyTorch predictions, and a run stopped by SIGTERM and resumed ends
 * with the same predictions as the uninterrupted one. Skipped (saying so) where no Python has torch.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { ArtifactEvent, CheckpointEvent, RecipeEvent } from '../../gpu-workers/protocol.ts';
import { bagFeeds, toEmbeddingBag } from '../../gpu-workers/recipes/text-classifier/bag.ts';
import { Featurizer } from '../../gpu-workers/recipes/text-classifier/featurizer.ts';
import { TextClassifier } from '../../gpu-workers/recipes/text-classifier/predict.ts';
import { torchUnavailable } from '../../gpu-workers/recipes/torch-text-classifier/availability.ts';
import { torchTextClassifierParams, torchTextClassifierRecipe } from '../../gpu-workers/recipes/torch-text-classifier/recipe.ts';
import { entryCommand, runRecipe, startRecipe, type RunOptions, type RunOutcome } from '../../gpu-workers/runner.ts';
import { makeSpec, recorder, workDir } from '../workers/helpers.ts';
import { banking77Missing, loadBanking77 } from './banking77.ts';

const entry = entryCommand(torchTextClassifierRecipe.entry);
const skip = banking77Missing() ?? torchUnavailable();
if (skip) process.stderr.write(`torch-text-classifier tests skipped: ${skip}\n`);

function options(dir: string, params: Record<string, unknown>, onEvent: (event: RecipeEvent) => void, resume: CheckpointEvent | null = null): RunOptions {
  return {
    ...entry,
    spec: makeSpec(dir, { recipe: torchTextClassifierRecipe.name, params, attempt: resume ? 2 : 1, resume: resume ? { checkpoint: { step: resume.step, path: resume.path, ...(resume.state ? { state: resume.state } : {}) } } : null }),
    cwd: dir,
    timeoutMs: 170_000,
    graceMs: 30_000,
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

function slice(dir: string): { file: string; testTexts: string[] } {
  const categories = [...new Set(loadBanking77('train').map((row) => row.category))].sort().slice(20, 30);
  const oos = new Set(categories.slice(8));
  const seen = new Map<string, number>();
  const train = loadBanking77('train').filter((row) => {
    if (!categories.includes(row.category)) return false;
    seen.set(row.category, (seen.get(row.category) ?? 0) + 1);
    return (seen.get(row.category) ?? 0) <= 50;
  });
  const test = loadBanking77('test').filter((row) => categories.includes(row.category));
  const label = (category: string): string => (oos.has(category) ? 'oos' : category);
  const lines = [...train.map((row) => ({ text: row.text, intent: label(row.category), part: 'train' })), ...test.map((row) => ({ text: row.text, intent: label(row.category), part: 'test' }))];
  const file = path.join(dir, 'slice.jsonl');
  writeFileSync(file, lines.map((line) => JSON.stringify(line)).join('\n'));
  return { file, testTexts: test.map((row) => row.text) };
}

const params = (file: string): Record<string, unknown> => ({
  dataset: { file, labelColumn: 'intent', splitColumn: 'part' },
  hiddenSize: 32,
  epochs: 5,
  learningRate: 0.02,
  checkpointEvery: 10,
  validationFraction: 0.15,
  seed: 5,
  device: 'cpu',
});

describe('torch-text-classifier', () => {
  it('is described with a params schema and a launcher entry', () => {
    assert.equal(torchTextClassifierRecipe.name, 'torch-text-classifier');
    assert.ok(torchTextClassifierRecipe.entry.pathname.endsWith('/torch-text-classifier/run'));
    assert.equal(torchTextClassifierParams.parse({ dataset: { file: 'inputs/x.jsonl' } }).device, 'auto');
    assert.equal(torchTextClassifierParams.safeParse({ dataset: { file: 'inputs/x.jsonl' }, device: 'tpu' }).success, false);
  });

  describe('on a Banking77 slice', { skip: skip ?? false }, () => {
    let dir = '';
    let data: { file: string; testTexts: string[] };
    let events: RecipeEvent[] = [];
    let result: Record<string, unknown> = {};

    before(async () => {
      dir = workDir();
      data = slice(dir);
      const rec = recorder();
      result = succeeded(await runRecipe(options(dir, params(data.file), rec.onEvent)));
      events = rec.events;
    });

    it('trains on the protocol: metrics, checkpoints, artifacts, a result', () => {
      assert.equal(events.filter((event) => event.type === 'invalid').length, 0, JSON.stringify(events.filter((event) => event.type === 'invalid')));
      assert.deepEqual((result.labels as string[]).length, 9);
      const metrics = result.metrics as Record<string, number>;
      assert.ok((metrics.testAccuracy ?? 0) > 0.6, JSON.stringify(metrics));
      assert.equal(result.onnxInput, 'embedding-bag');
      assert.equal(result.device, 'cpu');
      assert.equal(result.resumedFrom, 0);
      assert.ok(events.some((event) => event.type === 'metric' && event.name === 'val_accuracy'));
      assert.ok(events.some((event) => event.type === 'checkpoint' && event.step === 10));
      const found = artifacts(events);
      for (const name of ['model', 'featurizer', 'metrics', 'predictions']) {
        const artifact = found.get(name);
        assert.ok(artifact, `artifact ${name}`);
        assert.equal(sha256(artifact.path), artifact.sha256);
      }
      const point = result.operatingPoint as { method: string; oosRecall: number };
      assert.equal(point.method, 'oos', 'validation has oos rows');
    });

    it('its ONNX export, run in onnxruntime-node on TypeScript features, reproduces the PyTorch predictions', async () => {
      const found = artifacts(events);
      const spec = JSON.parse(readFileSync(found.get('featurizer')?.path as string, 'utf8')) as unknown;
      const predictions = JSON.parse(readFileSync(found.get('predictions')?.path as string, 'utf8')) as { probabilities: number[][] };
      const session = await ort.InferenceSession.create(found.get('model')?.path as string);
      try {
        assert.deepEqual(session.inputNames, ['ids', 'weights']);
        const onnx = (await session.run(bagFeeds(toEmbeddingBag(Featurizer.fromSpec(spec).transformSparse(data.testTexts))))).probabilities?.data as Float32Array;
        assert.equal(predictions.probabilities.length, data.testTexts.length);
        let worst = 0;
        predictions.probabilities.forEach((row, r) => row.forEach((p, c) => (worst = Math.max(worst, Math.abs(p - (onnx[r * row.length + c] as number))))));
        assert.ok(worst <= 1e-5, `max |onnx - torch| = ${worst}`);
      } finally {
        await session.release();
      }
      const classifier = await TextClassifier.load(found.get('featurizer')?.path as string, found.get('model')?.path as string);
      const predicted = await classifier.predict(data.testTexts.slice(0, 5));
      assert.equal(predicted.length, 5);
      await classifier.release();
    });

    it('stopped by SIGTERM and resumed, ends with the same predictions as the uninterrupted run', async () => {
      const resumedDir = workDir();
      const file = path.join(resumedDir, 'slice.jsonl');
      writeFileSync(file, readFileSync(data.file));
      const first = recorder();
      const run = startRecipe(
        options(resumedDir, params(file), (event) => {
          first.onEvent(event);
          if (event.type === 'checkpoint' && event.step === 20) run.stop('preempted');
        }),
      );
      const stopped = await run.outcome;
      assert.equal(stopped.status, 'stopped', JSON.stringify(stopped));
      assert.equal(stopped.exitCode, 143);
      const last = stopped.lastCheckpoint;
      assert.ok(last && last.step >= 20, JSON.stringify(last));
      const second = recorder();
      const resumed = succeeded(await runRecipe(options(resumedDir, params(file), second.onEvent, { type: 'checkpoint', step: last.step, path: last.path, ...(last.state ? { state: last.state } : {}) })));
      assert.equal(resumed.resumedFrom, last.step);
      assert.equal(resumed.steps, result.steps);
      assert.deepEqual(resumed.metrics, result.metrics);
      assert.equal(artifacts(second.events).get('predictions')?.sha256, artifacts(events).get('predictions')?.sha256, 'identical predictions.json');
    });
  });
});
