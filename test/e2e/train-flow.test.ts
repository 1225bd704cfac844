/**
 * The train flow end to end, as an assistant would run it: the real `anvil serve --http` (embedded
 * PGlite, its local worker) and a real MCP client (SDK 1.x over Streamable HTTP, API key). Import a
 * Banking77 slice, train on it, read the model card (tool and resource), evaluate the model, and
 * promote it to champion.
 *
 * The steps share one server and run in order; each `it` is one step of the flow, and a step uses
 * what the ones before it made (the dataset version, the trained model).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type AnvilServerProcess, connectHttp, type CreatedKey, type McpHttpSession, startAnvil, type ToolOutcome } from '../support/anvil-process.ts';
import { createDatasetRoot, type DatasetRoot } from '../support/dataset-root.ts';
import { banking77Missing, loadBanking77 } from '../training/banking77.ts';

const missing = banking77Missing();
if (missing) process.stderr.write(`train flow e2e skipped: ${missing}\n`);

const DATASET = 'banking77-e2e';
const MODEL = 'intents';
/** What the assistant's key may do: import, train, watch jobs, read and promote models, evaluate. */
const SCOPES = 'datasets:write,training:write,jobs:read,models:write,evaluation:write';

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** 50 rows of each of the first 5 intents (by name) of Banking77's train.csv. */
function sliceCsv(): { csv: string; categories: string[] } {
  const rows = loadBanking77('train');
  const categories = [...new Set(rows.map((row) => row.category))].sort().slice(0, 5);
  const kept = categories.flatMap((category) => rows.filter((row) => row.category === category).slice(0, 50));
  return { csv: ['text,category', ...kept.map((row) => `${csvField(row.text)},${csvField(row.category)}`)].join('\n') + '\n', categories };
}

function ok(outcome: ToolOutcome): Record<string, unknown> {
  assert.equal(outcome.isError, false, outcome.text);
  assert.ok(outcome.structured, `no structured content: ${outcome.text}`);
  return outcome.structured;
}

/** jobs_get in waits of at most 50 s (below the client's 60 s request timeout) until the job ends. */
async function waitForJob(session: McpHttpSession, id: string, limitMs = 120_000): Promise<Record<string, unknown>> {
  const until = Date.now() + limitMs;
  for (;;) {
    const job = ok(await session.callTool('jobs_get', { id, waitSeconds: 50 }));
    if (job.timedOut !== true) return job;
    assert.ok(Date.now() < until, `job ${id} still ${String(job.state)} after ${limitMs} ms`);
  }
}

describe('train flow over MCP: import, train, model card, evaluate, champion', { skip: missing ?? false }, () => {
  let server: AnvilServerProcess;
  let data: DatasetRoot;
  let key: CreatedKey;
  let session: McpHttpSession;
  let tools: string[] = [];
  let categories: string[] = [];
  let dataset: { name: string; version: number; sha256: string };
  let trained: { jobId: string; model: { name: string; version: number } };

  before(async () => {
    data = createDatasetRoot();
    server = await startAnvil({ env: data.env });
    key = await server.createKey('alpha', SCOPES, 'assistant');
    session = await connectHttp('sdk1', server.mcpUrl, { key: key.key });
    tools = await session.listTools();
  });

  after(async () => {
    await session?.close().catch(() => {});
    await server?.dispose();
    data?.remove();
  });

  it('offers the tools of the flow to the key', () => {
    for (const tool of ['datasets_import', 'training_start', 'jobs_get', 'models_get', 'eval_run', 'models_set_alias']) assert.ok(tools.includes(tool), `${tool}: ${tools.join(', ')}`);
  });

  it('imports a Banking77 slice from a directory the operator opened for imports', async () => {
    const slice = sliceCsv();
    categories = slice.categories;
    // Over HTTP, datasets_import reads only under the operator's roots (ANVIL_DATASET_ROOTS).
    const file = data.write('banking77-e2e.csv', slice.csv);
    const imported = ok(await session.callTool('datasets_import', { name: DATASET, path: file, labelColumn: 'category', split: { validation: 0.1, test: 0.2, seed: 11 } }));
    assert.equal(imported.rows, 250);
    assert.equal(imported.textColumn, 'text');
    dataset = { name: DATASET, version: imported.version as number, sha256: imported.sha256 as string };
  });

  it('trains on it; the finished job names the registered model version', async () => {
    const started = ok(
      await session.callTool('training_start', {
        dataset: { name: DATASET, version: dataset.version },
        model: MODEL,
        params: { epochs: 4, hiddenSize: 32, maxFeatures: 4000, batchSize: 16, learningRate: 0.01, dropout: 0, checkpointEvery: 0 },
        idempotencyKey: 'e2e-train-1',
      }),
    );
    assert.equal(started.recipe, 'text-classifier');
    assert.equal(started.model, MODEL);
    const job = await waitForJob(session, started.jobId as string);
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    const result = job.result as Record<string, unknown>;
    assert.deepEqual(result.model, { name: MODEL, version: 1 });
    assert.deepEqual(result.labels, categories);
    trained = { jobId: started.jobId as string, model: { name: MODEL, version: 1 } };
  });

  it('reads the model card: models_get and the anvil://models/{name}/{version}/card resource', async () => {
    const model = ok(await session.callTool('models_get', { name: MODEL, version: 1 }));
    const lineage = model.lineage as { dataset: { name: string; version: number; sha256: string }; jobId: string; codeVersion: string };
    assert.deepEqual(lineage.dataset, dataset);
    assert.equal(lineage.jobId, trained.jobId);
    assert.equal(typeof lineage.codeVersion, 'string');
    assert.equal(typeof (model.metrics as Record<string, unknown>).testAccuracy, 'number');
    assert.deepEqual((model.signature as { labels: string[] }).labels, categories);
    const card = model.card as string;
    assert.match(card, /^# intents — version 1/);
    assert.ok(card.includes(dataset.sha256), 'the card names the dataset by SHA-256');
    assert.ok(card.includes(trained.jobId), 'the card names the training job');
    assert.equal(model.cardUri, 'anvil://models/intents/1/card');

    // The same card as an MCP resource, read by a plain SDK client with the same key.
    const client = new Client({ name: 'anvil-e2e-resources', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(server.mcpUrl, { requestInit: { headers: { authorization: `Bearer ${key.key}` } } }));
    try {
      const read = await client.readResource({ uri: 'anvil://models/intents/1/card' });
      const content = read.contents[0];
      assert.ok(content && 'text' in content, JSON.stringify(read));
      assert.equal(content.mimeType, 'text/markdown');
      assert.equal(content.text, card);
    } finally {
      await client.close();
    }
  });

  // The evaluation step of the flow: eval_run (tools/evaluation) scores a registered model on a
  // dataset version's test split as a job; its result carries the metrics.
  it('evaluates the trained model with eval_run', async () => {
    const started = ok(await session.callTool('eval_run', { model: MODEL, version: 1, dataset: DATASET }));
    const job = await waitForJob(session, started.jobId as string);
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    const result = job.result as { split: string; rows: number; evaluations: { candidate: { accuracy: number; rows: number } } };
    assert.equal(result.split, 'test');
    assert.equal(result.rows, 50, '10 test rows per intent');
    const { accuracy } = result.evaluations.candidate;
    assert.ok(typeof accuracy === 'number' && accuracy > 0.5 && accuracy <= 1, `accuracy ${String(accuracy)}`);
  });

  it('promotes the model to champion', async () => {
    const set = ok(await session.callTool('models_set_alias', { name: MODEL, alias: 'champion', version: trained.model.version, reason: 'first model trained on banking77-e2e' }));
    assert.deepEqual(set, { alias: 'champion', version: 1, previous: null, action: 'set' });
    const champion = ok(await session.callTool('models_get', { name: MODEL, version: 'champion' }));
    assert.equal(champion.version, 1);
    assert.deepEqual(champion.aliases, ['champion']);
  });
});
