/**
 * The Open Inference Protocol v2 over HTTP with curl against a real `anvil serve --http` (embedded):
 * health, metadata, readiness and inference for a text model (BYTES) and tabular ones (one FP32
 * matrix, or one tensor per column by name with BYTES for categorical columns),
 * errors as `{"error": …}` with 400/401/404, a burst past maxQueueSize answered 429 with Retry-After
 * while every accepted request is answered, feedback over HTTP, and the Prometheus series.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { type AnvilServerProcess, type CreatedKey, connectHttp, type McpHttpSession, startAnvil } from '../support/anvil-process.ts';
import { createDatasetRoot, type DatasetRoot } from '../support/dataset-root.ts';
import { banking77Missing, banking77Slice, ok, trainVersion, writeSliceCsv, type Slice } from './support.ts';

const missing = banking77Missing();
const exec = promisify(execFile);

interface CurlAnswer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

async function curl(method: 'GET' | 'POST', url: string, key?: string, body?: unknown): Promise<CurlAnswer> {
  const args = ['-s', '-i', '-X', method, url, ...(key ? ['-H', `Authorization: Bearer ${key}`] : []), ...(body === undefined ? [] : ['-H', 'Content-Type: application/json', '--data-binary', typeof body === 'string' ? body : JSON.stringify(body)])];
  const { stdout } = await exec('curl', args, { maxBuffer: 16 << 20 });
  const split = stdout.indexOf('\r\n\r\n');
  const head = stdout.slice(0, split).split('\r\n');
  const status = Number(head[0]?.split(' ')[1]);
  const headers = Object.fromEntries(head.slice(1).map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  const text = stdout.slice(split + 4);
  return { status, headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

type Output = { name: string; datatype: string; shape: number[]; data: unknown[] };
const output = (answer: CurlAnswer, name: string): Output => {
  const found = (answer.body.outputs as Output[] | undefined)?.find((o) => o.name === name);
  assert.ok(found, `no output ${name} in ${JSON.stringify(answer.body).slice(0, 300)}`);
  return found;
};

describe('deployments: Open Inference Protocol v2 over HTTP', { skip: missing ?? false }, () => {
  let server: AnvilServerProcess;
  let data: DatasetRoot | undefined;
  let admin: CreatedKey;
  let app: CreatedKey;
  let stranger: CreatedKey;
  let operator: CreatedKey;
  let session: McpHttpSession;
  let slice: Slice;

  before(async () => {
    data = createDatasetRoot();
    server = await startAnvil({ startTimeoutMs: 180_000, env: data.env });
    admin = await server.createKey('default', '*');
    app = await server.createKey('default', 'deployments:predict');
    stranger = await server.createKey('other', '*');
    operator = await server.createKey('default', 'cluster:observe');
    session = await connectHttp('sdk1', server.mcpUrl, { key: admin.key });
    const call = (tool: string, args?: Record<string, unknown>) => session.callTool(tool, args);
    slice = banking77Slice();
    const text = await trainVersion(call, writeSliceCsv(data.dir, 'b77.csv', slice.train), 'b77', 'intents');
    ok(await call('deployments_create', { name: 'intents', model: 'intents', version: text }));
    ok(await call('deployments_create', { name: 'intents-tight', model: 'intents', version: text, batching: { maxBatchSize: 8, maxQueueSize: 4, maxQueueDelayMicros: 300_000 } }));
    const rows = ['amount,hour,label'];
    for (let i = 0; i < 160; i++) rows.push(`${i % 4 === 0 ? 500 + ((i * 37) % 400) : 10 + ((i * 13) % 90)},${(i * 7) % 24},${i % 4 === 0 ? 'fraud' : 'ok'}`);
    const tableFile = path.join(data.dir, 'payments.csv');
    writeFileSync(tableFile, `${rows.join('\n')}\n`);
    ok(await call('datasets_import', { name: 'payments', path: tableFile, split: { validation: 0.2, test: 0.2, seed: 3 } }));
    const started = ok<{ jobId: string }>(await call('training_start', { dataset: 'payments', model: 'risk', params: { epochs: 20, checkpointEvery: 0 } }));
    const job = ok<{ state: string; result: { model: { version: number } } }>(await call('jobs_get', { id: started.jobId, waitSeconds: 120 }));
    assert.equal(job.state, 'succeeded');
    ok(await call('deployments_create', { name: 'risk', model: 'risk', version: job.result.model.version }));
    // A tabular model with a categorical column (channel): fraud is the large amounts by card-not-present.
    const mixed = ['amount,channel,label'];
    for (let i = 0; i < 160; i++) {
      const channel = ['web', 'pos'][i % 2] as string;
      const large = i % 4 < 2;
      mixed.push(`${large ? 500 + ((i * 37) % 400) : 10 + ((i * 13) % 90)},${channel},${large && channel === 'web' ? 'fraud' : 'ok'}`);
    }
    writeFileSync(path.join(data.dir, 'mixed.csv'), `${mixed.join('\n')}\n`);
    ok(await call('datasets_import', { name: 'mixed', path: path.join(data.dir, 'mixed.csv'), split: { validation: 0.2, test: 0.2, seed: 3 } }));
    const mixedJob = ok<{ jobId: string }>(await call('training_start', { dataset: 'mixed', model: 'mixed', params: { epochs: 30, checkpointEvery: 0 } }));
    const mixedDone = ok<{ state: string; result: { model: { version: number } } }>(await call('jobs_get', { id: mixedJob.jobId, waitSeconds: 120 }));
    assert.equal(mixedDone.state, 'succeeded');
    ok(await call('deployments_create', { name: 'mixed', model: 'mixed', version: mixedDone.result.model.version }));
  });
  after(async () => {
    await session?.close().catch(() => {});
    await server?.dispose();
    data?.remove();
  });

  test('health, metadata and readiness', async () => {
    assert.equal((await curl('GET', `${server.baseUrl}/v2/health/live`)).status, 200);
    assert.equal((await curl('GET', `${server.baseUrl}/v2/health/ready`)).status, 200);
    assert.equal((await curl('GET', `${server.baseUrl}/v2`)).body.name, 'anvil');
    const meta = await curl('GET', `${server.baseUrl}/v2/models/intents`, app.key);
    assert.equal(meta.status, 200, JSON.stringify(meta.body));
    assert.equal(meta.body.name, 'intents');
    assert.deepEqual(meta.body.inputs, [{ name: 'text', datatype: 'BYTES', shape: [-1] }]);
    assert.deepEqual((meta.body.parameters as { labels: string[] }).labels, slice.categories);
    assert.equal((await curl('GET', `${server.baseUrl}/v2/models/intents/ready`, app.key)).body.ready, true);
    assert.equal((await curl('GET', `${server.baseUrl}/v2/models/intents/versions/1/ready`, app.key)).status, 200);
    assert.equal((await curl('GET', `${server.baseUrl}/v2/models/intents/versions/9`, app.key)).status, 404);
  });

  test('infer: BYTES texts for the text model, FP32 rows for the tabular one; feedback over HTTP', async () => {
    const texts = slice.test.slice(0, 8).map((row) => row.text);
    const answer = await curl('POST', `${server.baseUrl}/v2/models/intents/infer`, app.key, { id: 'req-1', inputs: [{ name: 'text', shape: [texts.length], datatype: 'BYTES', data: texts }] });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.id, 'req-1');
    assert.equal(answer.body.model_version, '1');
    const labels = output(answer, 'label').data;
    const probabilities = output(answer, 'probabilities');
    assert.deepEqual(probabilities.shape, [texts.length, slice.categories.length]);
    const mcp = ok<{ predictions: Array<{ label: string | null; topK: Array<{ label: string; probability: number }> }> }>(await session.callTool('predict', { deployment: 'intents', inputs: texts }));
    mcp.predictions.forEach((p, i) => {
      assert.equal(labels[i], p.label ?? '');
      const c = slice.categories.indexOf(p.topK[0]?.label ?? '');
      assert.ok(Math.abs((probabilities.data[i * slice.categories.length + c] as number) - (p.topK[0]?.probability ?? 0)) < 1e-6);
    });

    const meta = await curl('GET', `${server.baseUrl}/v2/models/risk`, app.key);
    const columns = (meta.body.inputs as Array<{ name: string; parameters?: { columns: string[] } }>)[0]?.parameters?.columns;
    assert.deepEqual(columns, ['amount', 'hour']);
    const risk = await curl('POST', `${server.baseUrl}/v2/models/risk/infer`, app.key, { inputs: [{ name: 'rows', shape: [2, 2], datatype: 'FP32', data: [[850, 3], [20, 14]] }] });
    assert.equal(risk.status, 200, JSON.stringify(risk.body));
    assert.deepEqual(output(risk, 'label').data, ['fraud', 'ok']);

    const requestId = output(answer, 'request_id').data[0] as string;
    const feedback = await curl('POST', `${server.baseUrl}/api/deployments/feedback`, app.key, { requestId, label: slice.test[0]?.category });
    assert.equal(feedback.status, 200, JSON.stringify(feedback.body));
    assert.equal(feedback.body.requestId, requestId);
  });

  test('tabular inputs as one tensor per column, by name: numeric FP32/INT, categorical BYTES; the same answers as the FP32 matrix', async () => {
    const matrix = await curl('POST', `${server.baseUrl}/v2/models/risk/infer`, app.key, { inputs: [{ name: 'rows', shape: [3, 2], datatype: 'FP32', data: [850, 3, 20, 14, 700, 2] }] });
    assert.equal(matrix.status, 200, JSON.stringify(matrix.body));
    // Columns in another order than the metadata's, one of them INT32: matched by name.
    const columns = await curl('POST', `${server.baseUrl}/v2/models/risk/infer`, app.key, {
      inputs: [
        { name: 'hour', shape: [3], datatype: 'INT32', data: [3, 14, 2] },
        { name: 'amount', shape: [3], datatype: 'FP32', data: [850, 20, 700] },
      ],
    });
    assert.equal(columns.status, 200, JSON.stringify(columns.body));
    assert.deepEqual(output(columns, 'label').data, output(matrix, 'label').data);
    output(columns, 'probabilities').data.forEach((p, i) => assert.ok(Math.abs((p as number) - (output(matrix, 'probabilities').data[i] as number)) < 1e-6));

    const meta = await curl('GET', `${server.baseUrl}/v2/models/mixed`, app.key);
    assert.deepEqual(
      (meta.body.inputs as Array<{ name: string; datatype: string }>).slice(1).map((i) => [i.name, i.datatype]),
      [['amount', 'FP32'], ['channel', 'BYTES']],
    );
    const mixed = await curl('POST', `${server.baseUrl}/v2/models/mixed/infer`, app.key, {
      inputs: [
        { name: 'amount', shape: [4], datatype: 'FP32', data: [800, 800, 30, 30] },
        { name: 'channel', shape: [4], datatype: 'BYTES', data: ['web', 'pos', 'web', 'pos'] },
      ],
    });
    assert.equal(mixed.status, 200, JSON.stringify(mixed.body));
    assert.deepEqual(output(mixed, 'probabilities').shape, [4, 2]);
    const viaMcp = ok<{ predictions: Array<{ topK: Array<{ label: string; probability: number }> }> }>(
      await session.callTool('predict', { deployment: 'mixed', inputs: [{ amount: 800, channel: 'web' }, { amount: 800, channel: 'pos' }, { amount: 30, channel: 'web' }, { amount: 30, channel: 'pos' }] }),
    );
    const labels = (mixed.body.parameters as { labels: string[] }).labels;
    viaMcp.predictions.forEach((p, r) => {
      const top = p.topK[0] as { label: string; probability: number };
      assert.ok(Math.abs((output(mixed, 'probabilities').data[r * labels.length + labels.indexOf(top.label)] as number) - top.probability) < 1e-6, 'the same rows over MCP');
    });

    const bad: Array<[unknown[], RegExp]> = [
      [[{ name: 'amount', shape: [1], datatype: 'FP32', data: [5] }], /missing the column tensor channel/],
      [[{ name: 'amount', shape: [1], datatype: 'FP32', data: [5] }, { name: 'channel', shape: [1], datatype: 'FP32', data: [1] }], /inputs\[1\]\.datatype.*channel.*categorical: BYTES/],
      [[{ name: 'amount', shape: [1], datatype: 'BYTES', data: ['5'] }, { name: 'channel', shape: [1], datatype: 'BYTES', data: ['web'] }], /inputs\[0\]\.datatype.*amount.*numeric/],
      [[{ name: 'amount', shape: [2], datatype: 'FP32', data: [5, 6] }, { name: 'channel', shape: [1], datatype: 'BYTES', data: ['web'] }], /inputs\[1\]\.shape/],
      [[{ name: 'amount', shape: [1], datatype: 'FP32', data: [5] }, { name: 'amount', shape: [1], datatype: 'FP32', data: [6] }], /given twice/],
      [[{ name: 'amount', shape: [1], datatype: 'FP32', data: [5] }, { name: 'colour', shape: [1], datatype: 'BYTES', data: ['red'] }], /"colour" is not a column/],
      [[{ name: 'amount', shape: [1], datatype: 'FP32', data: [5] }, { name: 'channel', shape: [1], datatype: 'BYTES', data: [7] }], /inputs\[1\]\.data\[0\]: expected a string/],
    ];
    for (const [inputs, pattern] of bad) {
      const answer = await curl('POST', `${server.baseUrl}/v2/models/mixed/infer`, app.key, { inputs });
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.match(String(answer.body.error), pattern);
    }
  });

  test('bad requests are 400/401/404 with {"error": …} and change nothing', async () => {
    const url = `${server.baseUrl}/v2/models/intents/infer`;
    const cases: Array<[unknown, RegExp]> = [
      [{ inputs: [{ name: 'text', shape: [1], datatype: 'FP32', data: [1] }] }, /datatype.*BYTES/],
      [{ inputs: [{ name: 'text', shape: [2], datatype: 'BYTES', data: ['a'] }] }, /shape \[2\] needs 2 values/],
      [{ inputs: [{ name: 'text', shape: [300], datatype: 'BYTES', data: Array.from({ length: 300 }, () => 'x') }] }, /1 to 256/],
      [{ inputs: [] }, /inputs/],
      ['{not json', /not JSON/],
    ];
    for (const [body, pattern] of cases) {
      const answer = await curl('POST', url, app.key, body);
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.match(String(answer.body.error), pattern);
    }
    const tabular = await curl('POST', `${server.baseUrl}/v2/models/risk/infer`, app.key, { inputs: [{ name: 'rows', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] });
    assert.equal(tabular.status, 400);
    assert.match(String(tabular.body.error), /\[N, 2\]/);
    assert.equal((await curl('POST', `${server.baseUrl}/v2/models/nope/infer`, app.key, { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['x'] }] })).status, 404);
    assert.equal((await curl('POST', url, undefined, { inputs: [] })).status, 401);
    assert.equal((await curl('POST', url, stranger.key, { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['x'] }] })).status, 404, 'another project does not see it');
    const feedback = await curl('POST', `${server.baseUrl}/api/deployments/feedback`, app.key, { requestId: 'nope', label: 'x' });
    assert.equal(feedback.status, 404);
  });

  test('a burst past maxQueueSize gets 429 with Retry-After; every accepted request is answered', async () => {
    const url = `${server.baseUrl}/v2/models/intents-tight/infer`;
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        fetch(url, { method: 'POST', headers: { authorization: `Bearer ${app.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: [slice.test[i % slice.test.length]?.text] }] }) }).then(async (response) => ({
          status: response.status,
          retryAfter: response.headers.get('retry-after'),
          body: (await response.json()) as Record<string, unknown>,
        })),
      ),
    );
    const accepted = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    assert.equal(accepted.length + refused.length, answers.length, JSON.stringify(answers.filter((a) => a.status !== 200 && a.status !== 429)));
    assert.ok(refused.length > 0, 'the queue of 4 overflowed (a batch of 8 never fills, so rows wait 300 ms)');
    assert.ok(accepted.length >= 4);
    for (const a of refused) assert.ok(Number(a.retryAfter) >= 1, 'Retry-After');
    for (const a of accepted) assert.equal((a.body.outputs as Output[])[0]?.shape[0], 1);
    const metrics = await fetch(`${server.baseUrl}/metrics`, { headers: { authorization: `Bearer ${operator.key}` } }).then((r) => r.text());
    assert.match(metrics, /anvil_deployments_predictions_total\{[^}]*deployment="intents-tight"[^}]*outcome="rejected"[^}]*\} \d+/);
    assert.match(metrics, /anvil_deployments_queue_rejected_total/);
  });
});
