/**
 * The training plugin through its MCP tool on an in-process Anvil (embedded PGlite, the local
 * worker): a Banking77 slice imported, trained with training_start, the model registered by the
 * success hook (metrics, signature, lineage, artifacts), the dataset's lineage, ONNX predictions of
 * the registered artifacts equal to the training-time ones, idempotency and errors; and a small
 * synthetic table trained with the tabular recipe chosen by default.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createTestHost, type CallOutcome, type TestHost } from 'anvil/testing';
import { TextClassifier } from '../../gpu-workers/recipes/text-classifier/predict.ts';
import { anvilVersion } from '../../server/version.ts';
import { jobsPlugin } from '../../tools/jobs/index.ts';
import { trainingPlugin } from '../../tools/training/index.ts';
import { DATASET_INPUT, datasetParams } from '../../tools/training/plan.ts';
import { createDatasetRoot, type DatasetRoot } from '../support/dataset-root.ts';
import { banking77Missing, loadBanking77 } from './banking77.ts';

const missing = banking77Missing();
if (missing) process.stderr.write(`training_start tests on Banking77 skipped: ${missing}\n`);

const CATEGORIES = 4;
const PER_CATEGORY = 50;

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The first `PER_CATEGORY` rows of each of the first `CATEGORIES` intents (by name) of Banking77's train.csv. */
function banking77SliceCsv(): { csv: string; categories: string[] } {
  const rows = loadBanking77('train');
  const categories = [...new Set(rows.map((row) => row.category))].sort().slice(0, CATEGORIES);
  const kept = categories.flatMap((category) => rows.filter((row) => row.category === category).slice(0, PER_CATEGORY));
  return { csv: ['text,category', ...kept.map((row) => `${csvField(row.text)},${csvField(row.category)}`)].join('\n') + '\n', categories };
}

function ok<T>(outcome: CallOutcome): T {
  assert.equal(outcome.isError, false, outcome.text);
  return outcome.structured as T;
}

interface StartResult {
  jobId: string;
  state: string;
  created: boolean;
  recipe: string;
  model: string;
  dataset: { name: string; version: number; sha256: string };
}

interface JobView {
  id: string;
  state: string;
  result: Record<string, unknown> | null;
  error: { code?: string; message: string } | null;
  artifacts: Array<{ name: string; sha256: string; size: number; mediaType: string }>;
  timedOut: boolean;
}

interface ModelView {
  name: string;
  version: number;
  task: string;
  recipe: string;
  metrics: Record<string, unknown>;
  signature: { inputs: Array<{ name: string; type: string }>; outputs: Array<{ name: string; type: string }>; labels: string[]; threshold?: number };
  lineage: { dataset: { name: string; version: number | string; sha256: string } | null; jobId: string | null; codeVersion: string | null; params: Record<string, unknown> };
  artifacts: Array<{ name: string; sha256: string; size: number; mediaType: string }>;
  card: string;
  createdBy: string;
}

interface DatasetView {
  lineage: Array<{ kind: string; jobId: string | null; model: { name: string; version: string } | null }>;
}

/** jobs_get with waitSeconds until the job has finished (or `limitMs` passed). */
async function waitFinished(host: TestHost, id: string, limitMs = 120_000): Promise<JobView> {
  const until = Date.now() + limitMs;
  for (;;) {
    const view = ok<JobView>(await host.call('jobs_get', { id, waitSeconds: Math.max(1, Math.min(120, Math.ceil((until - Date.now()) / 1000))) }));
    if (!view.timedOut || Date.now() >= until) return view;
  }
}

describe('training_start', () => {
  let host: TestHost;
  let data: DatasetRoot;

  before(async () => {
    data = createDatasetRoot();
    host = await createTestHost({ plugins: [], env: data.env });
  });
  after(async () => {
    await host?.close();
    data?.remove();
  });

  test('trains a Banking77 slice; the job registers the model with metrics, signature, lineage and artifacts', async (t) => {
    if (missing) {
      t.skip(missing);
      return;
    }
    const { csv, categories } = banking77SliceCsv();
    const file = data.write('banking77-slice.csv', csv);
    const imported = ok<{ name: string; version: number; sha256: string; rows: number }>(
      await host.call('datasets_import', { name: 'banking77-mini', path: file, labelColumn: 'category', split: { validation: 0.1, test: 0.2, seed: 7 } }),
    );
    assert.equal(imported.rows, CATEGORIES * PER_CATEGORY);

    const params = { epochs: 4, hiddenSize: 16, maxFeatures: 3000, batchSize: 16, learningRate: 0.01, dropout: 0, checkpointEvery: 0 };
    const started = ok<StartResult>(await host.call('training_start', { dataset: 'banking77-mini', params, idempotencyKey: 'mini-1' }));
    assert.equal(started.created, true);
    assert.equal(started.recipe, 'text-classifier', 'a dataset with a text column gets the text classifier');
    assert.equal(started.model, 'banking77-mini-text-classifier');
    assert.deepEqual(started.dataset, { name: 'banking77-mini', version: 1, sha256: imported.sha256 });

    // The same key again: the same job, nothing new; the same key for another model: a conflict.
    const again = ok<StartResult>(await host.call('training_start', { dataset: { name: 'banking77-mini', version: 1 }, params, idempotencyKey: 'mini-1' }));
    assert.equal(again.jobId, started.jobId);
    assert.equal(again.created, false);
    const otherModel = await host.call('training_start', { dataset: 'banking77-mini', params, idempotencyKey: 'mini-1', model: 'another-model' });
    assert.equal(otherModel.isError, true);
    assert.match(otherModel.text, /^ANVIL_E_CONFLICT: .*mini-1.*banking77-mini-text-classifier/);

    const job = await waitFinished(host, started.jobId);
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    assert.deepEqual(job.result?.model, { name: 'banking77-mini-text-classifier', version: 1 }, 'the result names the registered version');
    assert.deepEqual(job.result?.labels, categories);

    const model = ok<ModelView>(await host.call('models_get', { name: 'banking77-mini-text-classifier' }));
    assert.equal(model.version, 1);
    assert.equal(model.task, 'text-classification');
    assert.equal(model.recipe, 'text-classifier');
    assert.equal(model.createdBy, 'local:test');
    assert.equal(typeof model.metrics.valAccuracy, 'number');
    assert.equal(typeof model.metrics.testAccuracy, 'number');
    assert.ok((model.metrics.testAccuracy as number) > 0.5, `test accuracy ${String(model.metrics.testAccuracy)}`);
    assert.deepEqual(model.signature.labels, categories);
    assert.deepEqual(model.signature.inputs.map((field) => [field.name, field.type]), [['text', 'string']]);
    assert.equal(model.signature.outputs[0]?.name, 'probabilities');
    const onnx = (model.signature as Record<string, unknown>).onnx as { inputForm: string; inputs: Array<{ name: string; type: string }>; vocabularySize: number };
    assert.equal(onnx.inputForm, 'embedding-bag', 'text models take ids + weights');
    assert.deepEqual(onnx.inputs.map((field) => [field.name, field.type]), [['ids', 'int64'], ['weights', 'float32']]);
    assert.equal(onnx.vocabularySize, job.result?.featureCount);
    if (model.signature.threshold !== undefined) assert.equal(model.signature.threshold, job.result?.threshold);
    const operating = (model.signature as Record<string, unknown>).operatingPoint as { method: string; objective: { kind: string } };
    assert.equal(operating.method, 'simulated-oos', 'the dataset has no out-of-scope rows: they are simulated');
    // The default confidence (MLP): the k-means prototype score, stated in the signature and the card.
    assert.equal((operating as { confidence?: string }).confidence, 'prototype-cosine');
    assert.equal((onnx as { confidence?: { name: string } }).confidence?.name, 'confidence');
    if (model.signature.threshold !== undefined) assert.match(model.card, /Operating point: the threshold \(compared with the cosine of the hidden activations with the best-matching k-means prototype of a class \(adjusted by the prototype's spread and its class's probability\)\) was chosen on validation data with out-of-scope queries simulated by holding out 1 training intents for the highest in-scope accuracy with out-of-scope recall ≥ 0\.6/);
    assert.deepEqual(model.lineage.dataset, { name: 'banking77-mini', version: 1, sha256: imported.sha256 });
    assert.equal(model.lineage.jobId, started.jobId);
    assert.equal(model.lineage.codeVersion, anvilVersion);
    assert.equal(model.lineage.params.epochs, 4);
    assert.equal(model.lineage.params.hiddenSize, 16);
    assert.deepEqual(model.lineage.params.dataset, { file: 'inputs/dataset.jsonl', textColumn: 'text', labelColumn: 'category', splitColumn: 'split' });
    assert.deepEqual(model.artifacts.map((artifact) => artifact.name).sort(), ['featurizer.json', 'metrics.json', 'model.onnx']);
    for (const artifact of model.artifacts) {
      // The recipe publishes `model`, `featurizer`, `metrics`; the registry keeps the file names.
      const fromJob = job.artifacts.find((each) => artifact.name === `${each.name}.${artifact.name.split('.').at(-1) ?? ''}`);
      assert.equal(artifact.sha256, fromJob?.sha256, artifact.name);
    }
    assert.match(model.card, /banking77-mini/);

    const dataset = ok<DatasetView>(await host.call('datasets_get', { name: 'banking77-mini', sampleRows: 0 }));
    assert.ok(dataset.lineage.some((entry) => entry.kind === 'trained' && entry.jobId === started.jobId && entry.model === null), JSON.stringify(dataset.lineage));
    assert.ok(
      dataset.lineage.some((entry) => entry.kind === 'trained' && entry.jobId === started.jobId && entry.model?.name === 'banking77-mini-text-classifier' && entry.model.version === '1'),
      JSON.stringify(dataset.lineage),
    );

    // The registered artifacts, loaded from the blob store, predict what training predicted on the test split.
    const exported = host.server.plugins.exportsOf(jobsPlugin);
    assert.ok(exported);
    const blobs = exported.jobs().blobs;
    const blobFile = async (name: string, from: ReadonlyArray<{ name: string; sha256: string }>) => {
      const artifact = from.find((each) => each.name === name || `${each.name}.json` === name);
      assert.ok(artifact, name);
      return (await blobs.get(artifact.sha256)).file;
    };
    const classifier = await TextClassifier.load(await blobFile('featurizer.json', model.artifacts), await blobFile('model.onnx', model.artifacts));
    assert.deepEqual([...classifier.labels], categories);
    const predictions = JSON.parse(readFileSync(await blobFile('predictions.json', job.artifacts), 'utf8')) as { labels: string[]; lines: number[]; probabilities: number[][] };
    assert.deepEqual(predictions.labels, categories);
    const stored = readFileSync((await blobs.get(imported.sha256)).file, 'utf8').split('\n');
    const texts = predictions.lines.map((line) => (JSON.parse(stored[line - 1] ?? 'null') as { text: string; split: string }).text);
    assert.equal(texts.length, 40, '10 test rows per intent');
    const probabilities = await classifier.probabilities(texts);
    let worst = 0;
    predictions.probabilities.forEach((row, r) => row.forEach((p, c) => (worst = Math.max(worst, Math.abs(p - (probabilities[r * categories.length + c] as number))))));
    assert.ok(worst <= 1e-5, `largest difference ${worst}`);
  });

  test('a table without a text column gets the tabular classifier; its model is registered too', async () => {
    const rows = ['amount,channel,hour,label'];
    for (let i = 0; i < 160; i++) {
      const fraud = i % 4 === 0;
      const amount = fraud ? 500 + ((i * 37) % 400) : 10 + ((i * 13) % 90);
      rows.push(`${amount},${['web', 'app', 'pos'][i % 3] ?? 'web'},${(i * 7) % 24},${fraud ? 'fraud' : 'ok'}`);
    }
    const file = data.write('payments.csv', `${rows.join('\n')}\n`);
    ok(await host.call('datasets_import', { name: 'payments', path: file, split: { validation: 0.2, test: 0.2, seed: 3 } }));

    const started = ok<StartResult>(await host.call('training_start', { dataset: 'payments', model: 'fraud-detector', params: { epochs: 20, checkpointEvery: 0 } }));
    assert.equal(started.recipe, 'tabular-classifier');
    const job = await waitFinished(host, started.jobId);
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    assert.deepEqual(job.result?.model, { name: 'fraud-detector', version: 1 });
    const model = ok<ModelView>(await host.call('models_get', { name: 'fraud-detector', version: 1 }));
    assert.equal(model.task, 'tabular-classification');
    assert.deepEqual(model.signature.labels, ['fraud', 'ok']);
    assert.deepEqual(model.signature.inputs.map((field) => [field.name, field.type]), [['amount', 'number'], ['channel', 'string'], ['hour', 'number']]);
    assert.equal(model.signature.threshold, undefined, 'the tabular recipe does not abstain');
    assert.equal(model.lineage.jobId, started.jobId);
  });

  test('the run is recorded before the job: a crash between the submit and its answer still registers the model', async () => {
    const rows = ['amount,hour,label'];
    for (let i = 0; i < 120; i++) rows.push(`${i % 4 === 0 ? 600 + i : 20 + (i % 50)},${(i * 5) % 24},${i % 4 === 0 ? 'fraud' : 'ok'}`);
    const file = data.write('crash.csv', `${rows.join('\n')}\n`);
    const imported = ok<{ name: string; version: number; sha256: string }>(await host.call('datasets_import', { name: 'crash', path: file, split: { validation: 0.2, test: 0.2, seed: 5 } }));
    const training = host.server.plugins.exportsOf(trainingPlugin)?.training();
    assert.ok(training);
    const dataset = await training.datasets.resolve('default', 'crash');
    // What training_start leaves when the process dies right after the job was submitted: the run
    // reserved under the key, the job submitted with that key, and the run never told the job id.
    const key = 'crash-1';
    const reserved = await training.runs.reserve({
      key,
      project: 'default',
      model: 'crash-model',
      dataset: { id: dataset.id, name: dataset.name, version: dataset.version, sha256: dataset.sha256 },
      recipe: 'tabular-classifier',
      params: { epochs: 10, checkpointEvery: 0 },
      createdBy: 'local:test',
    });
    assert.equal(reserved.created, true);
    const { job } = await training.jobs.submit('default', {
      recipe: 'tabular-classifier',
      params: { epochs: 10, checkpointEvery: 0, dataset: datasetParams(dataset, 'tabular-classifier') },
      inputs: [{ name: DATASET_INPUT, sha256: imported.sha256 }],
      idempotencyKey: key,
    });
    assert.equal((await training.runs.get(job.id)), undefined, 'the run does not name the job yet');

    const done = await waitFinished(host, job.id);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    assert.deepEqual(done.result?.model, { name: 'crash-model', version: 1 }, 'the hook found the run by the key and registered the model');
    assert.equal((await training.runs.get(job.id))?.key, key);
    const model = ok<ModelView>(await host.call('models_get', { name: 'crash-model' }));
    assert.equal(model.lineage.jobId, job.id);

    // training_start retried with the same key (the caller never got its answer): the same job, no second model.
    const retried = ok<StartResult>(await host.call('training_start', { dataset: 'crash', model: 'crash-model', recipe: 'tabular-classifier', params: { epochs: 10, checkpointEvery: 0 }, idempotencyKey: key }));
    assert.equal(retried.jobId, job.id);
    assert.equal(retried.created, false);
  });

  test('errors name what is wrong and start nothing', async () => {
    const unknown = await host.call('training_start', { dataset: 'no-such-dataset' });
    assert.equal(unknown.isError, true);
    assert.match(unknown.text, /^ANVIL_E_NOT_FOUND: .*"no-such-dataset"/);

    const file = data.write('tiny.csv', `text,label\n${Array.from({ length: 20 }, (_, i) => `message number ${i},${i % 2 ? 'a' : 'b'}`).join('\n')}\n`);
    ok(await host.call('datasets_import', { name: 'tiny', path: file }));
    const before = ok<{ jobs: unknown[] }>(await host.call('jobs_list', {})).jobs.length;

    const badParams = await host.call('training_start', { dataset: 'tiny', params: { epochs: 'x' } });
    assert.equal(badParams.isError, true);
    assert.match(badParams.text, /^ANVIL_E_INVALID_INPUT: .*params\.epochs/);

    const datasetParam = await host.call('training_start', { dataset: 'tiny', params: { dataset: { file: '/etc/passwd' } } });
    assert.match(datasetParam.text, /^ANVIL_E_INVALID_INPUT: params\.dataset/);

    const noFeatures = await host.call('training_start', { dataset: 'tiny', recipe: 'tabular-classifier' });
    assert.match(noFeatures.text, /^ANVIL_E_INVALID_INPUT: recipe: dataset "tiny" version 1 has no feature columns/);

    const badModel = await host.call('training_start', { dataset: 'tiny', model: 'has space' });
    assert.match(badModel.text, /^ANVIL_E_INVALID_INPUT: .*model/);

    const unknownVersion = await host.call('training_start', { dataset: { name: 'tiny', version: 9 } });
    assert.match(unknownVersion.text, /^ANVIL_E_NOT_FOUND: Dataset "tiny" has no version 9/);

    assert.equal(ok<{ jobs: unknown[] }>(await host.call('jobs_list', {})).jobs.length, before, 'no job was submitted');
    const { rows } = await host.server.runtime.services.storage.query(`select run_key from plugin_training.training_runs where job_id is null`);
    assert.deepEqual(rows, [], 'a refused start leaves no reserved run behind');
  });
});
