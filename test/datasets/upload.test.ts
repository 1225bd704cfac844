/**
 * The upload route on a real `anvil serve --http` (datasets is a built-in skill, always loaded): PUT a CSV with an API key, get a version back, import it again
 * idempotently, read it over MCP, and download its JSONL through the worker blob API.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createHome, startAnvil, withHttpSession, type AnvilServerProcess, type CreatedKey, type TempHome } from '../support/anvil-process.ts';

const csv = ['text,category', ...Array.from({ length: 40 }, (_, i) => `"message ${i}, please",${['card_arrival', 'top_up', 'refund'][i % 3]}`)].join('\r\n');

describe('PUT /api/datasets/:name/upload', () => {
  let home: TempHome;
  let server: AnvilServerProcess;
  let writer: CreatedKey;
  let reader: CreatedKey;

  before(async () => {
    home = await createHome();
    server = await startAnvil({ home: home.home });
    writer = await server.createKey('alpha', 'datasets:write');
    reader = await server.createKey('alpha', 'datasets:read');
  });
  after(async () => {
    await server?.dispose();
    home?.remove();
  });

  const upload = (name: string, query: string, body: string, key: string | undefined, contentType = 'text/csv') =>
    fetch(`${server.baseUrl}/api/datasets/${name}/upload?${query}`, {
      method: 'PUT',
      body,
      headers: { 'content-type': contentType, ...(key ? { authorization: `Bearer ${key}` } : {}) },
    });

  test('uploads a CSV as version 1, then answers 200 with the same version for the same body', async () => {
    const probe = await upload('intents', 'labelColumn=category', csv, writer.key);
    const first = (await probe.json()) as { version: number; created: boolean; rows: number; sha256: string; splits: { train: number; validation: number; test: number }; labelColumn: string; labels: { count: number } };
    assert.equal(probe.status, 201, JSON.stringify(first));
    assert.equal(first.version, 1);
    assert.equal(first.created, true);
    assert.equal(first.rows, 40);
    assert.equal(first.labelColumn, 'category');
    assert.equal(first.labels.count, 3);
    assert.equal(first.splits.train + first.splits.validation + first.splits.test, 40);

    const again = await upload('intents', 'labelColumn=category', csv, writer.key);
    assert.equal(again.status, 200);
    const second = (await again.json()) as { version: number; created: boolean; sha256: string };
    assert.deepEqual([second.version, second.created, second.sha256], [1, false, first.sha256]);

    const reseeded = await upload('intents', 'format=csv&labelColumn=category&seed=9&test=0.25&validation=0', csv, writer.key, 'application/octet-stream');
    assert.equal(reseeded.status, 201);
    const third = (await reseeded.json()) as { version: number; splits: Record<string, number>; seed: number };
    assert.equal(third.version, 2);
    assert.equal(third.seed, 9);
    assert.equal(third.splits.validation, 0);

    // Visible over MCP in the key's project.
    const got = await withHttpSession('sdk2', server.mcpUrl, { key: reader.key }, (session) => session.callTool('datasets_get', { name: 'intents', version: 1, sampleRows: 2 }));
    assert.equal(got.isError, false, got.text);
    const dataset = (got.structured as { dataset: { sha256: string; rows: number } }).dataset;
    assert.deepEqual([dataset.sha256, dataset.rows], [first.sha256, 40]);

    // Workers download the JSONL like a checkpoint.
    const worker = await server.createKey('alpha', 'workers:join');
    const blob = await fetch(`${server.baseUrl}/api/blobs/${first.sha256}`, { headers: { authorization: `Bearer ${worker.key}` } });
    assert.equal(blob.status, 200);
    const bytes = Buffer.from(await blob.arrayBuffer());
    assert.equal(createHash('sha256').update(bytes).digest('hex'), first.sha256);
    assert.equal(bytes.toString('utf8').trimEnd().split('\n').length, 40);
  });

  test('refusals: no key 401, a read-only key 403, a bad file 400 naming the line, no format 400', async () => {
    const probe = await upload('bad', 'labelColumn=category', csv, undefined);
    assert.equal(probe.status, 401);
    assert.equal((await upload('bad', 'labelColumn=category', csv, reader.key)).status, 403);

    const broken = await upload('bad', 'labelColumn=category', 'text,category\nhello,a\n"unclosed,b\n', writer.key);
    assert.equal(broken.status, 400);
    const error = ((await broken.json()) as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'ANVIL_E_INVALID_INPUT');
    assert.match(error.message, /line 3: field 1 opens a quote that is never closed/);

    const noFormat = await upload('bad', '', csv, writer.key, 'application/octet-stream');
    assert.equal(noFormat.status, 400);
    assert.match(((await noFormat.json()) as { error: { message: string } }).error.message, /format/);

    const unknown = await upload('bad', 'labelColum=category', csv, writer.key);
    assert.equal(unknown.status, 400);
    assert.match(((await unknown.json()) as { error: { message: string } }).error.message, /unknown query parameter\(s\): labelColum/);

    const missing = await withHttpSession('sdk2', server.mcpUrl, { key: reader.key }, (session) => session.callTool('datasets_get', { name: 'bad' }));
    assert.match(missing.text, /ANVIL_E_NOT_FOUND/);
  });
});
