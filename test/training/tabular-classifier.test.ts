/** `tabular-classifier` through the runner on a synthetic imbalanced binary table; ONNX parity; errors. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { ArtifactEvent, RecipeEvent } from '../../gpu-workers/protocol.ts';
import { Prng } from '../../gpu-workers/recipes/ml/prng.ts';
import { TabularFeaturizer } from '../../gpu-workers/recipes/tabular-classifier/featurizer.ts';
import { tabularClassifierParams, tabularClassifierRecipe } from '../../gpu-workers/recipes/tabular-classifier/recipe.ts';
import { entryCommand, runRecipe, type RunOptions } from '../../gpu-workers/runner.ts';
import { makeSpec, recorder, workDir } from '../workers/helpers.ts';

const entry = entryCommand(tabularClassifierRecipe.entry);

function options(dir: string, params: Record<string, unknown>, onEvent: (event: RecipeEvent) => void): RunOptions {
  return { ...entry, spec: makeSpec(dir, { recipe: tabularClassifierRecipe.name, params }), cwd: dir, timeoutMs: 120_000, graceMs: 10_000, onEvent };
}

/** ~15% positives: y = 1 when x + 1.5·[color = red] + noise > 1.6. */
function table(n: number): Record<string, unknown>[] {
  const rng = Prng.fromSeed(3);
  const colors = ['red', 'green', 'blue', 'grey'];
  return Array.from({ length: n }, (_, i) => {
    const x = rng.next() * 2 - 0.5;
    const color = colors[rng.nextInt(colors.length)] as string;
    const noise = (rng.next() - 0.5) * 0.6;
    const y = x + (color === 'red' ? 1.5 : 0) + noise > 1.6 ? 'fraud' : 'ok';
    return { amount: x, age: String(Math.round(rng.next() * 60 + 18)), color: i % 97 === 0 ? null : color, y, part: i < n * 0.8 ? 'train' : 'test' };
  });
}

describe('tabular-classifier', () => {
  it('is described for the plugin API', () => {
    assert.equal(tabularClassifierRecipe.name, 'tabular-classifier');
    assert.ok(tabularClassifierRecipe.entry.pathname.endsWith('/gpu-workers/recipes/tabular-classifier/main.ts'));
    const parsed = tabularClassifierParams.parse({ dataset: { file: 'inputs/x.jsonl' } });
    for (const file of ['/etc/passwd', '../x.jsonl']) assert.equal(tabularClassifierParams.safeParse({ dataset: { file } }).success, false, `${file} is refused`);
    assert.deepEqual([parsed.model, parsed.classWeights, parsed.dataset.labelColumn], ['softmax', 'balanced', 'label']);
  });

  it('featurizes numeric and categorical columns with an unknown slot', () => {
    const f = TabularFeaturizer.fromSpec({ numeric: [{ column: 'a', mean: 1, std: 2 }], categorical: [{ column: 'c', values: ['x', 'y'] }] });
    assert.deepEqual(f.featureNames(), ['a', 'c=x', 'c=y', 'c=<unknown>']);
    assert.deepEqual(Array.from(f.transform([{ a: 3, c: 'y' }, { a: 'n/a', c: 'z' }, {}]).data), [1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
  });

  for (const model of ['softmax', 'mlp'] as const) {
    it(`trains a ${model}, reports PR-AUC, and exports ONNX equal to the training-time predictions`, async () => {
      const dir = workDir();
      const rows = table(1500);
      const file = path.join(dir, 'table.jsonl');
      writeFileSync(file, rows.map((row) => JSON.stringify(row)).join('\n'));
      const { events, onEvent } = recorder();
      const outcome = await runRecipe(options(dir, { dataset: { file: path.basename(file), labelColumn: 'y', splitColumn: 'part', categoricalColumns: [] }, model, epochs: 30, checkpointEvery: 50 }, onEvent));
      assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome));
      if (outcome.status !== 'succeeded') return;
      const metrics = outcome.result.metrics as Record<string, number>;
      assert.deepEqual(outcome.result.labels, ['fraud', 'ok']);
      assert.ok(metrics.valPrAuc !== undefined && metrics.valPrAuc > 0.8, JSON.stringify(metrics));
      assert.ok((metrics.testAccuracy ?? 0) > 0.85, JSON.stringify(metrics));
      assert.deepEqual(events.filter((event) => event.type === 'invalid'), []);

      const found = new Map(events.filter((e): e is ArtifactEvent => e.type === 'artifact').map((e) => [e.name, e]));
      const spec = JSON.parse(readFileSync(found.get('featurizer')?.path as string, 'utf8')) as { positiveLabel: string; numeric: { column: string }[]; categorical: { column: string }[] };
      assert.equal(spec.positiveLabel, 'fraud');
      assert.deepEqual(spec.numeric.map((c) => c.column), ['amount', 'age']);
      assert.deepEqual(spec.categorical.map((c) => c.column), ['color']);
      const testRows = rows.filter((row) => row.part === 'test');
      const features = TabularFeaturizer.fromSpec(spec).transform(testRows);
      const session = await ort.InferenceSession.create(found.get('model')?.path as string);
      const onnx = (await session.run({ features: new ort.Tensor('float32', features.data, [features.rows, features.cols]) })).probabilities?.data as Float32Array;
      await session.release();
      const predictions = JSON.parse(readFileSync(found.get('predictions')?.path as string, 'utf8')) as { probabilities: number[][] };
      let worst = 0;
      predictions.probabilities.forEach((row, r) => row.forEach((p, c) => (worst = Math.max(worst, Math.abs(p - (onnx[r * 2 + c] as number))))));
      assert.ok(worst <= 1e-5, `max |onnx - training| = ${worst}`);
    });
  }

  it('refuses a single class and a missing label column (exit 2, unrecoverable)', async () => {
    for (const [lines, pattern] of [
      ['{"a":1,"y":"k"}\n{"a":2,"y":"k"}\n', /label column 'y' has a single class/],
      ['{"a":1,"y":"k"}\n{"a":2}\n', /line 2 has no value in the label column 'y'/],
    ] as const) {
      const dir = workDir();
      const file = path.join(dir, 'table.jsonl');
      writeFileSync(file, lines);
      const outcome = await runRecipe(options(dir, { dataset: { file: path.basename(file), labelColumn: 'y' } }, () => undefined));
      assert.ok(outcome.status === 'failed' && outcome.exitCode === 2 && outcome.unrecoverable, JSON.stringify(outcome));
      if (outcome.status === 'failed') assert.match(outcome.message, pattern);
    }
  });
});
