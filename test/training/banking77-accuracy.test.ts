/**
 * Pins what the text-classifier's DEFAULT params reach on the full Banking77 split (10,003 train /
 * 3,080 test, 77 intents): test accuracy ≥ 0.92. The recipe runs as a child process through the
 * runner, as a worker runs it (~30 s on a quiet 2-core machine). This file is the one place in
 * `npm test` that trains on the whole set; the figure with its scikit-learn anchor is
 * `npm run bench -- banking77`. In CI a missing dataset fails the file (shared-datasets.ts).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { entryCommand, runRecipe } from '../../gpu-workers/runner.ts';
import { textClassifierRecipe } from '../../gpu-workers/recipes/text-classifier/recipe.ts';
import { makeSpec, workDir } from '../workers/helpers.ts';
import { banking77Missing, writeBanking77Jsonl } from './banking77.ts';

const missing = banking77Missing();
const ACCURACY_FLOOR = 0.92;

describe('text-classifier defaults on the full Banking77', { skip: missing ?? false }, () => {
  it(`reach test accuracy ≥ ${ACCURACY_FLOOR}`, { timeout: 900_000 }, async () => {
    const dir = workDir();
    const file = path.join(dir, 'banking77.jsonl');
    const { train, test } = writeBanking77Jsonl(file);
    assert.equal(train.length, 10_003);
    assert.equal(test.length, 3_080);
    // Only the dataset is given: every training setting is the recipe's default.
    const params = { dataset: { file: path.basename(file), textColumn: 'text', labelColumn: 'category', splitColumn: 'split' } };
    const outcome = await runRecipe({
      ...entryCommand(textClassifierRecipe.entry),
      spec: makeSpec(dir, { recipe: textClassifierRecipe.name, params }),
      cwd: dir,
      timeoutMs: 880_000,
      graceMs: 10_000,
      onEvent: () => undefined,
    });
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome));
    if (outcome.status !== 'succeeded') return;
    const metrics = outcome.result.metrics as { testAccuracy?: number };
    assert.equal(typeof metrics.testAccuracy, 'number', JSON.stringify(outcome.result));
    assert.ok((metrics.testAccuracy as number) >= ACCURACY_FLOOR, `test accuracy ${metrics.testAccuracy} is below ${ACCURACY_FLOOR}`);
  });
});
