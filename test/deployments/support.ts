/**
 * Shared by the deployments tests: Banking77 slices trained into registry models by the real
 * training plugin (small, so tests stay fast), and a job-waiting helper. The bad candidate is the
 * same slice with its labels shuffled among the rows (a seeded permutation).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CallOutcome } from 'anvil/testing';
import { mulberry32 } from '../../tools/shared/mulberry32.ts';
import { loadBanking77, type Banking77Row } from '../training/banking77.ts';

export { banking77Missing } from '../training/banking77.ts';

export const CATEGORIES = 4;
export const PER_CATEGORY = 40;
export const TRAIN_PARAMS = { epochs: 4, hiddenSize: 16, maxFeatures: 2000, batchSize: 16, learningRate: 0.01, dropout: 0, checkpointEvery: 0 };

type Call = (tool: string, args?: Record<string, unknown>) => Promise<CallOutcome | { isError: boolean; text: string; structured: Record<string, unknown> | undefined }>;

export function ok<T>(outcome: { isError: boolean; text: string; structured: Record<string, unknown> | undefined }): T {
  assert.equal(outcome.isError, false, outcome.text);
  return outcome.structured as T;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export interface Slice {
  categories: string[];
  train: Banking77Row[];
  /** Held-out Banking77 test rows of the same intents (10 per intent). */
  test: Banking77Row[];
}

export function banking77Slice(): Slice {
  const rows = loadBanking77('train');
  const categories = [...new Set(rows.map((row) => row.category))].sort().slice(0, CATEGORIES);
  const train = categories.flatMap((category) => rows.filter((row) => row.category === category).slice(0, PER_CATEGORY));
  const testRows = loadBanking77('test');
  const test = categories.flatMap((category) => testRows.filter((row) => row.category === category).slice(0, 10));
  return { categories, train, test };
}

export function writeSliceCsv(dir: string, file: string, rows: readonly Banking77Row[], shuffleSeed?: number): string {
  let labels = rows.map((row) => row.category);
  if (shuffleSeed !== undefined) {
    const random = mulberry32(shuffleSeed);
    labels = [...labels];
    for (let i = labels.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [labels[i], labels[j]] = [labels[j] as string, labels[i] as string];
    }
  }
  const target = path.join(dir, file);
  writeFileSync(target, ['text,category', ...rows.map((row, i) => `${csvField(row.text)},${csvField(labels[i] as string)}`)].join('\n') + '\n');
  return target;
}

/** Imports a CSV and trains it into the next version of `model`; resolves with that version. */
export async function trainVersion(call: Call, file: string, dataset: string, model: string): Promise<number> {
  ok(await call('datasets_import', { name: dataset, path: file, labelColumn: 'category', split: { validation: 0.1, test: 0.1, seed: 7 } }));
  const started = ok<{ jobId: string }>(await call('training_start', { dataset, model, params: TRAIN_PARAMS }));
  const until = Date.now() + 180_000;
  for (;;) {
    const view = ok<{ state: string; timedOut: boolean; result: { model?: { version: number } } | null; error: unknown }>(await call('jobs_get', { id: started.jobId, waitSeconds: 60 }));
    if (!view.timedOut) {
      assert.equal(view.state, 'succeeded', JSON.stringify(view.error));
      assert.ok(view.result?.model, 'the job registered a model');
      return view.result.model.version;
    }
    assert.ok(Date.now() < until, 'training took too long');
  }
}
