/**
 * The evaluation plugin end to end on an in-process Anvil (embedded PGlite, local worker): a tiny
 * Banking77 slice imported as a dataset, two model versions trained on it, then eval_run (summary,
 * stored evaluation, Markdown report and JSON detail as resources, dataset lineage), eval_compare
 * against the `champion` alias (a verdict), labels the model never saw, and the refusals.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { createTestHost, type CallOutcome, type TestHost } from 'anvil/testing';
import { jobsPlugin } from '../../tools/jobs/index.ts';
import { modelsPlugin } from '../../tools/models/index.ts';
import { createDatasetRoot, type DatasetRoot } from '../support/dataset-root.ts';
import { banking77Missing, readCsvRows } from '../training/banking77.ts';

const banking77 = fileURLToPath(new URL('../../../shared/datasets/banking77/train.csv', import.meta.url));
const missing = banking77Missing();

const INTENTS = 4;
const PER_INTENT = 40;

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function ok<T>(outcome: CallOutcome): T {
  assert.equal(outcome.isError, false, outcome.text);
  return outcome.structured as T;
}

interface JobView {
  id: string;
  state: string;
  result: Record<string, unknown> | null;
  error: { code?: string; message: string } | null;
}

interface Summary {
  rows: number;
  accuracy: number;
  macroF1: number;
  microF1: number;
  logLoss: number | null;
  ece: number | null;
  unseenLabels: Array<{ label: string; count: number }>;
  unseenLabelCount: number;
  operatingPoint: { threshold: number; inScopeAccuracy: number | null; noAbstainAccuracy: number | null; curve: Array<{ threshold: number; inScopeAccuracy: number | null }> } | null;
}

interface EvaluationView {
  id: string;
  kind: 'run' | 'compare';
  model: { name: string; version: number } | null;
  champion: { name: string; version: number } | null;
  dataset: { name: string; version: number; sha256: string } | null;
  split: string;
  rows: number;
  metrics: { candidate: Summary; champion?: Summary; comparison?: { verdict: string; deltas: Record<string, { delta: number | null }> } };
  verdict: string | null;
  reportUri: string | null;
  detailUri: string | null;
}

describe('evaluation plugin', { skip: missing ?? false }, () => {
  let host: TestHost;
  let data: DatasetRoot;
  let fifthIntent = '';

  const waitFor = async (id: string): Promise<JobView> => {
    const outcome = await host.client.callTool({ name: 'jobs_get', arguments: { id, waitSeconds: 120 } }, { timeout: 150_000 });
    const view = (outcome as { structuredContent?: JobView }).structuredContent;
    assert.ok(view, JSON.stringify(outcome));
    return view;
  };

  const succeeded = async (id: string): Promise<JobView> => {
    const job = await waitFor(id);
    assert.equal(job.state, 'succeeded', `job ${id}: ${job.error?.message ?? ''}`);
    return job;
  };

  /** A model version trained with training_start when it exists, else by hand (job + registry). */
  const train = async (params: Record<string, unknown>): Promise<number> => {
    const tools = (await host.client.listTools()).tools.map((tool) => tool.name);
    if (tools.includes('training_start')) {
      const started = ok<{ jobId: string }>(await host.call('training_start', { dataset: 'b77', model: 'intent', params }));
      const job = await succeeded(started.jobId);
      const model = job.result?.model as { name: string; version: number } | undefined;
      assert.ok(model, JSON.stringify(job.result));
      return model.version;
    }
    const jobs = host.server.plugins.exportsOf(jobsPlugin)?.jobs();
    const registry = host.server.plugins.exportsOf(modelsPlugin)?.registry();
    assert.ok(jobs && registry);
    const dataset = ok<{ dataset: { sha256: string } }>(await host.call('datasets_get', { name: 'b77', sampleRows: 0 })).dataset;
    const { job } = await jobs.service.submit('default', {
      recipe: 'text-classifier',
      params: { ...params, dataset: { file: 'inputs/dataset.jsonl', textColumn: 'text', labelColumn: 'category', splitColumn: 'split' } },
      inputs: [{ name: 'dataset.jsonl', sha256: dataset.sha256 }],
    });
    const done = await succeeded(job.id);
    const artifacts = await jobs.service.artifacts(job.id);
    const pick = (name: string, file: string) => {
      const artifact = artifacts.find((a) => a.name === name);
      assert.ok(artifact, `artifact ${name}`);
      return { name: file, sha256: artifact.sha256, size: artifact.size, mediaType: artifact.mediaType };
    };
    const labels = (done.result?.labels ?? []) as string[];
    const registered = await registry.registerVersion('default', {
      name: 'intent',
      task: 'text-classification',
      recipe: 'text-classifier',
      signature: { inputs: [{ name: 'text', type: 'string' }], outputs: [{ name: 'probabilities', type: 'float32' }], labels },
      lineage: { jobId: job.id, dataset: { name: 'b77', version: 1, sha256: dataset.sha256 } },
      artifacts: [pick('model', 'model.onnx'), pick('featurizer', 'featurizer.json')],
      createdBy: 'test',
    });
    return registered.version;
  };

  before(async () => {
    data = createDatasetRoot();
    host = await createTestHost({ plugins: [], env: data.env });
    const rows = readCsvRows(banking77);
    const intents = [...new Set(rows.map((row) => row.category ?? ''))].sort().slice(0, INTENTS + 1);
    fifthIntent = intents[INTENTS] as string;
    const kept = intents.slice(0, INTENTS).flatMap((intent) => rows.filter((row) => row.category === intent).slice(0, PER_INTENT));
    const line = (row: Record<string, string>) => `${csvField(row.text ?? '')},${csvField(row.category ?? '')}`;
    data.write('b77.csv', ['text,category', ...kept.map(line)].join('\n') + '\n');
    // The same intents (train/test by position) plus a fifth the models never see, in the test split only.
    const unseen = rows.filter((row) => row.category === fifthIntent).slice(0, 8);
    const withSplit = [
      ...kept.map((row, i) => `${line(row)},${i % PER_INTENT < 30 ? 'train' : 'test'}`),
      ...unseen.map((row) => `${line(row)},test`),
    ];
    data.write('b77-unseen.csv', ['text,category,split', ...withSplit].join('\n') + '\n');

    ok(await host.call('datasets_import', { name: 'b77', path: path.join(data.dir, 'b77.csv'), labelColumn: 'category', split: { validation: 0.15, test: 0.25, seed: 7 } }));
    ok(await host.call('datasets_import', { name: 'b77-unseen', path: path.join(data.dir, 'b77-unseen.csv'), labelColumn: 'category', splitColumn: 'split' }));
  });
  after(async () => {
    await host?.close();
    data?.remove();
  });

  let weak = 0;
  let strong = 0;

  test('trains two versions of a model on the slice', { timeout: 120_000 }, async () => {
    weak = await train({ model: 'softmax', epochs: 1, charNgrams: null, learningRate: 0.001, seed: 3 });
    strong = await train({ model: 'mlp', epochs: 8, hiddenSize: 64, seed: 3 });
    assert.ok(strong > weak, `${weak} < ${strong}`);
  });

  test('eval_run: a job whose summary, stored evaluation, report and detail agree; lineage is recorded', { timeout: 60_000 }, async () => {
    const submitted = ok<{ jobId: string; model: { name: string; version: number }; dataset: { name: string; version: number }; split: string; rows: number; reportUri: string }>(
      await host.call('eval_run', { model: 'intent', dataset: 'b77' }),
    );
    assert.deepEqual(submitted.model, { name: 'intent', version: strong });
    assert.deepEqual(submitted.dataset, { name: 'b77', version: 1 });
    assert.equal(submitted.split, 'test');
    assert.ok(submitted.rows > 0);

    const job = await succeeded(submitted.jobId);
    const result = job.result as { evaluations: { candidate: Summary }; evaluation: { id: string; reportUri: string } };
    const candidate = result.evaluations.candidate;
    assert.equal(candidate.rows, submitted.rows);
    for (const value of [candidate.accuracy, candidate.macroF1, candidate.microF1]) assert.ok(value >= 0 && value <= 1, String(value));
    assert.ok(candidate.logLoss !== null && candidate.logLoss > 0);
    assert.deepEqual(candidate.unseenLabels, []);
    // The operating point's cost: accuracy at the threshold against never abstaining, and the curve.
    const operating = candidate.operatingPoint;
    assert.ok(operating && operating.noAbstainAccuracy !== null && operating.inScopeAccuracy !== null, JSON.stringify(operating));
    assert.ok(operating.inScopeAccuracy <= operating.noAbstainAccuracy);
    assert.ok(operating.curve.length >= 2 && operating.curve.length <= 21);
    assert.equal(operating.curve[0]?.threshold, 0);
    assert.equal(operating.curve[0]?.inScopeAccuracy, operating.noAbstainAccuracy, 'no OOS class trained: t = 0 is the model without abstaining');
    assert.deepEqual(result.evaluation, { id: submitted.jobId, reportUri: submitted.reportUri });
    assert.ok(JSON.stringify(job.result).length < 64 * 1024);

    const stored = ok<EvaluationView>(await host.call('eval_get', { id: submitted.jobId }));
    assert.equal(stored.kind, 'run');
    assert.deepEqual(stored.model, { name: 'intent', version: strong });
    assert.equal(stored.champion, null);
    assert.equal(stored.dataset?.name, 'b77');
    assert.equal(stored.verdict, null);
    assert.equal(stored.metrics.candidate.accuracy, candidate.accuracy);
    assert.equal(stored.reportUri, submitted.reportUri);

    const report = await host.client.readResource({ uri: submitted.reportUri });
    const markdown = (report.contents[0] as { text?: string; mimeType?: string }).text ?? '';
    assert.equal((report.contents[0] as { mimeType?: string }).mimeType, 'text/markdown');
    assert.match(markdown, /^# Evaluation: intent v\d+/);
    assert.match(markdown, /\| Accuracy \| /);
    assert.match(markdown, /## Per class/);
    assert.match(markdown, /## Operating point/);
    // The same report through the tool, for clients (and the dashboard) that do not read resources.
    assert.equal((stored as { report?: string }).report, undefined, 'only with includeReport');
    assert.equal(ok<EvaluationView & { report: string }>(await host.call('eval_get', { id: submitted.jobId, includeReport: true })).report, markdown);
    assert.ok(stored.detailUri);
    const detail = JSON.parse(((await host.client.readResource({ uri: stored.detailUri })).contents[0] as { text: string }).text) as {
      evaluations: { candidate: { perClass: Array<{ label: string; support: number }> } };
    };
    // Every intent, plus `oos` when the model abstained on a row (abstaining counts as predicting it).
    assert.equal(detail.evaluations.candidate.perClass.filter((c) => c.support > 0).length, INTENTS);
    if (process.env.EVAL_TEST_PRINT) process.stdout.write(`${markdown}\n`);

    const lineage = ok<{ lineage: Array<{ kind: string; jobId: string | null; model: { name: string; version: string } | null }> }>(
      await host.call('datasets_get', { name: 'b77', sampleRows: 0 }),
    ).lineage;
    assert.ok(
      lineage.some((entry) => entry.kind === 'evaluated' && entry.jobId === submitted.jobId && entry.model?.name === 'intent'),
      JSON.stringify(lineage),
    );
  });

  test('eval_compare without a champion alias is NOT_FOUND naming it; with one, a verdict', { timeout: 60_000 }, async () => {
    const unset = await host.call('eval_compare', { candidate: { model: 'intent' }, dataset: 'b77' });
    assert.equal(unset.isError, true);
    assert.match(unset.text, /^ANVIL_E_NOT_FOUND: .*alias "champion"/);

    ok(await host.call('models_set_alias', { name: 'intent', alias: 'champion', version: weak }));
    const same = await host.call('eval_compare', { candidate: { model: 'intent', version: weak }, dataset: 'b77' });
    assert.match(same.text, /^ANVIL_E_INVALID_INPUT: .*same version/);

    const submitted = ok<{ jobId: string; candidate: { version: number }; champion: { version: number } }>(
      await host.call('eval_compare', { candidate: { model: 'intent' }, dataset: { name: 'b77', version: 1 }, split: 'test' }),
    );
    assert.equal(submitted.candidate.version, strong);
    assert.equal(submitted.champion.version, weak);
    const job = await succeeded(submitted.jobId);
    const result = job.result as { comparison: { verdict: string }; evaluations: { champion?: Summary } };
    assert.ok(['better', 'worse', 'inconclusive'].includes(result.comparison.verdict));
    assert.ok(result.evaluations.champion);

    const stored = ok<EvaluationView>(await host.call('eval_get', { id: submitted.jobId }));
    assert.equal(stored.kind, 'compare');
    assert.deepEqual(stored.champion, { name: 'intent', version: weak });
    assert.equal(stored.verdict, result.comparison.verdict);
    assert.ok(stored.metrics.comparison?.deltas.macroF1);
    const markdown = ((await host.client.readResource({ uri: stored.reportUri ?? '' })).contents[0] as { text: string }).text;
    assert.match(markdown, /\*\*Verdict: (better|worse|inconclusive)\*\*/);
    assert.match(markdown, /## Candidate: intent v/);
    assert.match(markdown, /## Champion: intent v/);
  });

  test('labels the model never saw are reported, not crashed on', { timeout: 60_000 }, async () => {
    const submitted = ok<{ jobId: string; rows: number }>(await host.call('eval_run', { model: 'intent', version: strong, dataset: 'b77-unseen' }));
    const job = await succeeded(submitted.jobId);
    const candidate = (job.result as { evaluations: { candidate: Summary } }).evaluations.candidate;
    assert.deepEqual(candidate.unseenLabels, [{ label: fifthIntent, count: 8 }]);
    assert.equal(candidate.unseenLabelCount, 1);
    assert.ok(candidate.accuracy < 1);
    const markdown = ((await host.client.readResource({ uri: `anvil://evaluations/${submitted.jobId}/report` })).contents[0] as { text: string }).text;
    assert.match(markdown, /## Labels the model never saw/);

    // The same idempotency key again: the same job, nothing new.
    const first = ok<{ jobId: string; created: boolean }>(await host.call('eval_run', { model: 'intent', dataset: 'b77-unseen', idempotencyKey: 'unseen-1' }));
    const again = ok<{ jobId: string; created: boolean }>(await host.call('eval_run', { model: 'intent', dataset: 'b77-unseen', idempotencyKey: 'unseen-1' }));
    assert.deepEqual([first.created, again.created, again.jobId], [true, false, first.jobId]);
    await succeeded(first.jobId);
  });

  test('a tabular model: scored through its featurizer spec, binary metrics', { timeout: 60_000 }, async () => {
    assert.ok((await host.client.listTools()).tools.some((tool) => tool.name === 'training_start'), 'training_start is served (it trains the tabular model)');
    // Two classes separated by x1 (noisy), a categorical column that helps a little.
    let state = 12345;
    const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const lines = ['x1,x2,color,label'];
    for (let i = 0; i < 160; i++) {
      const positive = i % 2 === 0;
      lines.push(`${((positive ? 1 : -1) + (random() - 0.5) * 2.5).toFixed(3)},${(random() * 10).toFixed(2)},${positive && random() < 0.7 ? 'red' : 'blue'},${positive ? 'yes' : 'no'}`);
    }
    ok(await host.call('datasets_import', { name: 'tab', path: data.write('tabular.csv', `${lines.join('\n')}\n`), labelColumn: 'label', split: { validation: 0.2, test: 0.25, seed: 3 } }));
    const started = ok<{ jobId: string; recipe: string }>(await host.call('training_start', { dataset: 'tab', model: 'tab-model' }));
    assert.equal(started.recipe, 'tabular-classifier');
    await succeeded(started.jobId);

    const submitted = ok<{ jobId: string; rows: number }>(await host.call('eval_run', { model: 'tab-model', dataset: 'tab' }));
    const job = await succeeded(submitted.jobId);
    const candidate = (job.result as { evaluations: { candidate: Summary } }).evaluations.candidate;
    assert.equal(candidate.rows, submitted.rows);
    assert.ok(candidate.accuracy > 0.5, String(candidate.accuracy));
    const markdown = ((await host.client.readResource({ uri: `anvil://evaluations/${submitted.jobId}/report` })).contents[0] as { text: string }).text;
    assert.match(markdown, /ROC-AUC \(positive: /);
    assert.match(markdown, /\| candidate \| tab-model v1 \| tabular \|/);

    // A text model cannot be evaluated on a dataset without text.
    assert.match((await host.call('eval_run', { model: 'intent', dataset: 'tab' })).text, /^ANVIL_E_INVALID_INPUT: .*no text column/);
  });

  test('refusals: unknown model, unknown dataset, an empty split, an unknown evaluation, bad recipe inputs', { timeout: 60_000 }, async () => {
    assert.match((await host.call('eval_run', { model: 'no-such-model', dataset: 'b77' })).text, /^ANVIL_E_NOT_FOUND: .*no-such-model/);
    assert.match((await host.call('eval_run', { model: 'intent', dataset: 'no-such-data' })).text, /^ANVIL_E_NOT_FOUND/);
    assert.match((await host.call('eval_run', { model: 'intent', dataset: 'b77-unseen', split: 'validation' })).text, /^ANVIL_E_INVALID_INPUT: .*no validation rows/);
    assert.match((await host.call('eval_get', { id: '00000000-0000-4000-8000-000000000000' })).text, /^ANVIL_E_NOT_FOUND/);
    assert.match((await host.call('eval_get', { id: 'not-a-uuid' })).text, /^ANVIL_E_NOT_FOUND/);

    // The recipe itself, submitted by hand with a dataset file that does not exist: an unrecoverable error naming it.
    const submitted = ok<{ id: string }>(
      await host.call('jobs_submit', {
        recipe: 'evaluation',
        params: { dataset: { file: 'inputs/missing.jsonl', labelColumn: 'category' }, models: [{ role: 'candidate', featurizer: 'f.json', model: 'm.onnx' }] },
      }),
    );
    const job = await waitFor(submitted.id);
    assert.equal(job.state, 'failed');
    assert.match(job.error?.message ?? '', /missing\.jsonl does not exist/);
    assert.match((await host.call('eval_get', { id: submitted.id })).text, /^ANVIL_E_CONFLICT: .*failed/);
  });
});
