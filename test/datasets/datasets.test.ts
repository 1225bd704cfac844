/**
 * The datasets plugin through its MCP tools on an in-process Anvil (embedded PGlite): a Banking77
 * slice imported with a stratified split, idempotent re-import, CSV edge cases, errors that name
 * the line and column and leave nothing behind, allowed roots, tenancy, the sample budget, and the
 * DatasetStore API (resolve, lineage) the training code uses.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { createTestHost, type CallOutcome, type TestHost } from 'anvil/testing';
import { parseCsv } from '../../tools/datasets/csv.ts';
import { banking77Missing } from '../training/banking77.ts';
import { datasetsPlugin, type DatasetsRuntime } from '../../tools/datasets/index.ts';

const banking77 = fileURLToPath(new URL('../../../shared/datasets/banking77/train.csv', import.meta.url));

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** 60 rows of each of the first 5 categories of Banking77's train.csv, as CSV. */
async function banking77Slice(): Promise<{ csv: string; categories: string[] }> {
  const perCategory = new Map<string, string[]>();
  let header = true;
  for await (const record of parseCsv(createReadStream(banking77), { maxFieldChars: 100_000, maxFields: 10 })) {
    if (header) {
      header = false;
      assert.deepEqual(record.fields, ['text', 'category']);
      continue;
    }
    const [text, category] = record.fields as [string, string];
    if (!perCategory.has(category) && perCategory.size >= 5) continue;
    const rows = perCategory.get(category) ?? [];
    if (rows.length < 60) rows.push(`${csvField(text)},${csvField(category)}`);
    perCategory.set(category, rows);
  }
  const categories = [...perCategory.keys()];
  return { csv: ['text,category', ...categories.flatMap((category) => perCategory.get(category) ?? [])].join('\n') + '\n', categories };
}

function structured<T>(outcome: CallOutcome): T {
  assert.equal(outcome.isError, false, outcome.text);
  return outcome.structured as T;
}

interface ImportResult {
  id: string;
  name: string;
  version: number;
  sha256: string;
  rows: number;
  columns: Array<{ name: string; type: string; inferred: string }>;
  textColumn: string | null;
  labelColumn: string | null;
  featureColumns: string[];
  splits: { train: number; validation: number; test: number };
  splitMode: string;
  seed: number | null;
  labels: { count: number; top: Array<{ label: string; count: number }> };
  created: boolean;
}

interface GetResult {
  dataset: ImportResult & { latestVersion: number; source: string };
  labels: { count: number; truncated: boolean; distribution: Array<{ label: string; train: number; validation: number; test: number; total: number }> };
  lineage: Array<{ kind: string; jobId: string | null; model: { name: string; version: string } | null }>;
  sample: { split: string | null; rows: Array<Record<string, unknown>>; truncated: boolean; valuesCut: boolean };
}

describe('datasets plugin', () => {
  let host: TestHost;
  let root: string;
  let outside: string;
  const write = (name: string, content: string | Buffer): string => {
    const file = path.join(root, name);
    writeFileSync(file, content);
    return file;
  };
  const artifacts = () => path.join(host.home, 'artifacts');
  /** Every file under the blob store (content-addressed blobs and temp files). */
  const storedFiles = (): string[] => {
    const dir = artifacts();
    if (!existsSync(dir)) return [];
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.join(entry.parentPath, entry.name))
      .sort();
  };
  const runtime = (): DatasetsRuntime => {
    const exported = host.server.plugins.exportsOf(datasetsPlugin);
    assert.ok(exported, 'the datasets plugin is active');
    return exported.datasets();
  };

  before(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'anvil-datasets-'));
    outside = mkdtempSync(path.join(os.tmpdir(), 'anvil-outside-'));
    host = await createTestHost({ plugins: [datasetsPlugin], env: { ANVIL_DATASET_ROOTS: root } });
  });
  after(async () => {
    await host?.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  test('a Banking77 slice: stratified split with a seed, label distribution, idempotent re-import, the stored JSONL', async (t) => {
    const missing = banking77Missing();
    if (missing) {
      t.skip(missing);
      return;
    }
    const { csv, categories } = await banking77Slice();
    assert.equal(categories.length, 5);
    const file = write('banking77-slice.csv', csv);
    const args = { name: 'banking77', path: file, labelColumn: 'category', split: { validation: 0.1, test: 0.2, seed: 7 } };

    const first = structured<ImportResult>(await host.call('datasets_import', args));
    assert.equal(first.version, 1);
    assert.equal(first.created, true);
    assert.equal(first.rows, 300);
    assert.equal(first.textColumn, 'text', 'the text column is found by its name');
    assert.equal(first.labelColumn, 'category');
    assert.deepEqual(first.featureColumns, []);
    assert.deepEqual(first.columns.map((column) => [column.name, column.type]), [['text', 'text'], ['category', 'label']]);
    // Per class of 60: round(60 × 0.2) = 12 test, round(60 × 0.1) = 6 validation, 42 train.
    assert.deepEqual(first.splits, { train: 210, validation: 30, test: 60 });
    assert.equal(first.splitMode, 'stratified');
    assert.equal(first.seed, 7);
    assert.equal(first.labels.count, 5);
    assert.deepEqual(first.labels.top.map((label) => label.count), [60, 60, 60, 60, 60]);
    assert.deepEqual(new Set(first.labels.top.map((label) => label.label)), new Set(categories));

    const got = structured<GetResult>(await host.call('datasets_get', { name: 'banking77', sampleRows: 3, split: 'test' }));
    assert.equal(got.labels.count, 5);
    for (const entry of got.labels.distribution) assert.deepEqual([entry.train, entry.validation, entry.test, entry.total], [42, 6, 12, 60], entry.label);
    assert.equal(got.sample.rows.length, 3);
    for (const row of got.sample.rows) assert.equal(row.split, 'test');

    // The stored blob: content-addressed JSONL, one object per row with its split.
    const blob = path.join(artifacts(), 'sha256', first.sha256.slice(0, 2), first.sha256);
    const bytes = readFileSync(blob);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), first.sha256);
    const lines = bytes.toString('utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(lines.length, 300);
    assert.deepEqual(Object.keys(lines[0] ?? {}), ['text', 'category', 'split']);
    assert.equal(lines.filter((line) => line.split === 'validation').length, 30);

    // The same file and options again: the same version, nothing new stored.
    const filesBefore = storedFiles();
    const again = structured<ImportResult>(await host.call('datasets_import', args));
    assert.equal(again.version, 1);
    assert.equal(again.created, false);
    assert.equal(again.sha256, first.sha256);
    assert.deepEqual(storedFiles(), filesBefore);

    // Another seed: another split, so a new version; the same seed is deterministic.
    const reseeded = structured<ImportResult>(await host.call('datasets_import', { ...args, split: { ...args.split, seed: 8 } }));
    assert.equal(reseeded.version, 2);
    assert.equal(reseeded.created, true);
    assert.notEqual(reseeded.sha256, first.sha256);
    assert.deepEqual(reseeded.splits, first.splits);

    // The API the training code uses.
    const resolved = await runtime().store.resolve('default', 'banking77', 1);
    assert.equal(resolved.id, first.id);
    assert.equal(resolved.sha256, first.sha256);
    assert.deepEqual(resolved.labels, [...categories].sort());
    assert.equal(resolved.textColumn, 'text');
    assert.equal((await runtime().store.resolve('default', 'banking77')).version, 2);
    const jobId = '3f1c1b9e-2d7a-4c39-9a51-0c2d5c1e7a10';
    const entry = await runtime().store.recordLineage(first.id, { jobId, model: { name: 'intent-clf', version: 1 }, kind: 'trained' });
    assert.equal(entry.kind, 'trained');
    assert.deepEqual(entry.model, { name: 'intent-clf', version: '1' });
    await runtime().store.recordLineage(first.id, { jobId, model: { name: 'intent-clf', version: 1 }, kind: 'trained' }); // idempotent
    await runtime().store.recordLineage(first.id, { model: { name: 'intent-clf', version: 1 }, kind: 'evaluated' });
    const byModel = await runtime().store.lineage('default', { model: { name: 'intent-clf', version: 1 } });
    assert.equal(byModel.length, 2);
    assert.deepEqual(byModel.map((item) => item.dataset), [{ name: 'banking77', version: 1 }, { name: 'banking77', version: 1 }]);
    assert.equal((await runtime().store.lineage('other', { model: { name: 'intent-clf' } })).length, 0, 'lineage is project-scoped');
    const withLineage = structured<GetResult>(await host.call('datasets_get', { name: 'banking77', version: 1, sampleRows: 0 }));
    assert.deepEqual(withLineage.lineage.map((item) => item.kind).sort(), ['evaluated', 'trained']);
    assert.equal(withLineage.dataset.latestVersion, 2);
    assert.equal(withLineage.sample.rows.length, 0);
  });

  test('CSV edge cases: quotes, escaped quotes, embedded newline and comma, CRLF, BOM', async () => {
    const rows = [
      ['text', 'label', 'score'],
      ['plain text', 'a', '1'],
      ['"quoted, with comma"', 'b', '2.5'],
      ['"she said ""hello"""', 'a', '-3'],
      ['"first line\r\nsecond line"', 'b', '4e2'],
      ['ünïcödé ☕', 'a', ''],
    ];
    const file = write('edge.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(rows.map((row) => row.join(',')).join('\r\n') + '\r\n')]));
    const result = structured<ImportResult>(await host.call('datasets_import', { name: 'edge', path: file, split: { validation: 0, test: 0 } }));
    assert.equal(result.rows, 5);
    assert.deepEqual(result.columns.map((column) => [column.name, column.type]), [['text', 'text'], ['label', 'label'], ['score', 'number']]);
    assert.deepEqual(result.featureColumns, ['score']);
    assert.deepEqual(result.splits, { train: 5, validation: 0, test: 0 });
    const got = structured<GetResult>(await host.call('datasets_get', { name: 'edge', sampleRows: 10 }));
    assert.deepEqual(
      got.sample.rows.map((row) => [row.text, row.label, row.score]),
      [
        ['plain text', 'a', 1],
        ['quoted, with comma', 'b', 2.5],
        ['she said "hello"', 'a', -3],
        ['first line\r\nsecond line', 'b', 400],
        ['ünïcödé ☕', 'a', null],
      ],
    );
    assert.equal(got.sample.truncated, false);
  });

  test('JSONL and JSON: types inferred (number, category, text), columnTypes override, a split column', async () => {
    const colors = ['red', 'green', 'blue'];
    const lines = Array.from({ length: 40 }, (_, i) =>
      JSON.stringify({ utterance: `message number ${i}`, intent: i % 2 === 0 ? 'pay' : 'refund', amount: i * 1.5, color: colors[i % 3], zip: String(10_000 + i), split: i < 30 ? 'train' : i < 35 ? 'dev' : 'test' }),
    );
    const jsonl = write('intents.jsonl', `${lines.join('\n')}\n`);
    const result = structured<ImportResult>(await host.call('datasets_import', { name: 'intents', path: jsonl, columnTypes: { zip: 'category' } }));
    assert.equal(result.textColumn, 'utterance');
    assert.equal(result.labelColumn, 'intent');
    assert.equal(result.splitMode, 'column');
    assert.equal(result.seed, null);
    assert.deepEqual(result.splits, { train: 30, validation: 5, test: 5 });
    assert.deepEqual(
      result.columns.map((column) => [column.name, column.type, column.inferred]),
      [['utterance', 'text', 'text'], ['intent', 'label', 'category'], ['amount', 'number', 'number'], ['color', 'category', 'category'], ['zip', 'category', 'number']],
    );
    const json = write('intents.json', JSON.stringify(lines.map((line) => JSON.parse(line) as unknown)));
    const fromJson = structured<ImportResult>(await host.call('datasets_import', { name: 'intents-json', path: json, columnTypes: { zip: 'category' } }));
    assert.equal(fromJson.sha256, result.sha256, 'the same rows give the same normalised content whatever the source format');
  });

  describe('bad files: the error names the place, and nothing is left behind', () => {
    // `hidden`: text of the file the error must not echo (errors name places, never content).
    const cases: Array<{ what: string; name: string; content: string; args?: Record<string, unknown>; ext?: string; error: RegExp; hidden?: string[] }> = [
      { what: 'a missing label column', name: 'bad-label', content: 'text,category\nhi,a\nyo,b\n', args: { labelColumn: 'label' }, error: /header has no column "label" \(labelColumn\); it has 2 columns/, hidden: ['category'] },
      { what: 'an empty file', name: 'bad-empty', content: '', error: /the file is empty/ },
      { what: 'a header without rows', name: 'bad-header-only', content: 'text,label\r\n', error: /the file has a header but no rows/ },
      { what: 'a single class', name: 'bad-one-class', content: 'text,label\nhi,x\nyo,x\n', error: /a classifier needs at least 2 labels; column "label" holds only one/, hidden: ['"x"'] },
      {
        what: 'an empty label on line 17',
        name: 'bad-empty-label',
        content: `text,category\n${Array.from({ length: 13 }, (_, i) => `row ${i},${i % 2 ? 'a' : 'b'}`).join('\n')}\n"multi\nline",a\nlast,\n`,
        error: /line 17: column "category" is empty/,
      },
      { what: 'a wrong field count', name: 'bad-fields', content: 'text,label\nhi,a\nyo,b,extra\n', error: /line 3: 3 fields, but the header has 2 columns$/, hidden: ['text', 'extra'] },
      {
        what: 'an unparseable JSONL line',
        name: 'bad-jsonl',
        ext: 'jsonl',
        content: '{"text":"a","label":"x"}\n{"text":"b","label":"y"}\n\n{"text":"c",label:"x"}\n',
        error: /line 4: not valid JSON, column 13$/,
        hidden: ['label:', '"c"'],
      },
      { what: 'a bad split value', name: 'bad-split', content: 'text,label,split\nhi,a,train\nyo,b,holdout\n', error: /line 3: column "split" holds a value that names no split; expected train, validation or test/, hidden: ['holdout'] },
      { what: 'columnTypes number on text', name: 'bad-number', content: 'text,label,n\nhi,a,1\nyo,b,two\n', args: { columnTypes: { n: 'number' } }, error: /line 3: column "n" holds a value that is not a number/, hidden: ['two'] },
      { what: 'a header naming a column twice', name: 'bad-header', content: 'text,label,SECRET_KEY,SECRET_KEY\nhi,a,1,2\nyo,b,3,4\n', error: /line 1: header columns 3 and 4 have the same name/, hidden: ['SECRET'] },
      {
        what: 'a JSON value that is an object',
        name: 'bad-nested',
        ext: 'jsonl',
        content: '{"text":"a","label":"x","db_password":{"v":"hunter2"}}\n',
        error: /line 1: column 3 holds an object/,
        hidden: ['db_password', 'hunter2'],
      },
      { what: 'a JSON document that does not parse', name: 'bad-json', ext: 'json', content: '[{"text":"a","label":"x"},\n {"text": sk_live_123}]', error: /the file is not valid JSON \(line 2, column 11\)$/, hidden: ['sk_live'] },
    ];
    for (const item of cases) {
      test(item.what, async () => {
        const before = storedFiles();
        const file = write(`${item.name}.${item.ext ?? 'csv'}`, item.content);
        const outcome = await host.call('datasets_import', { name: item.name, path: file, ...item.args });
        assert.equal(outcome.isError, true, `expected an error, got ${outcome.text}`);
        assert.match(outcome.text, /^ANVIL_E_INVALID_INPUT/);
        assert.match(outcome.text, item.error);
        for (const secret of item.hidden ?? []) assert.ok(!outcome.text.includes(secret), `the error echoes ${secret}: ${outcome.text}`);
        const got = await host.call('datasets_get', { name: item.name });
        assert.match(got.text, /^ANVIL_E_NOT_FOUND/, 'no version row');
        const listed = structured<{ datasets: Array<{ name: string }> }>(await host.call('datasets_list', { name: item.name }));
        assert.deepEqual(listed.datasets, []);
        assert.deepEqual(storedFiles(), before, 'no blob and no temp file left');
      });
    }
  });

  test('paths outside the allowed roots are FORBIDDEN, symlinks out of them too', async () => {
    const secret = path.join(outside, 'secret.csv');
    writeFileSync(secret, 'text,label\nhi,a\nyo,b\n');
    const direct = await host.call('datasets_import', { name: 'sneaky', path: secret });
    assert.equal(direct.isError, true);
    assert.match(direct.text, /^ANVIL_E_FORBIDDEN/);
    assert.ok(direct.text.includes(root), `the error names the roots: ${direct.text}`);
    const traversal = await host.call('datasets_import', { name: 'sneaky', path: path.join(root, '..', path.basename(outside), 'secret.csv') });
    assert.match(traversal.text, /^ANVIL_E_FORBIDDEN/);
    mkdirSync(path.join(root, 'links'), { recursive: true });
    const link = path.join(root, 'links', 'linked.csv');
    symlinkSync(secret, link);
    const linked = await host.call('datasets_import', { name: 'sneaky', path: link });
    assert.match(linked.text, /^ANVIL_E_FORBIDDEN/);
    assert.match(linked.text, /symbolic link/);
    assert.ok(!linked.text.includes(outside), `the error does not say where the link leads: ${linked.text}`);
    const dir = await host.call('datasets_import', { name: 'sneaky', path: path.join(root, 'links'), format: 'csv' });
    assert.match(dir.text, /^ANVIL_E_INVALID_INPUT: .* is not a regular file/);
    const fifo = path.join(root, 'pipe.csv');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      // no mkfifo here: the directory case above covers "not a regular file"
    }
    if (existsSync(fifo)) {
      const piped = await host.call('datasets_import', { name: 'sneaky', path: fifo });
      assert.match(piped.text, /is not a regular file/, 'a FIFO is refused without blocking on it');
    }
    const missing = await host.call('datasets_import', { name: 'sneaky', path: path.join(root, 'nope.csv') });
    assert.match(missing.text, /^ANVIL_E_NOT_FOUND/);
    assert.match((await host.call('datasets_get', { name: 'sneaky' })).text, /^ANVIL_E_NOT_FOUND/);
  });

  test('hidden files, ANVIL_HOME and links into it are never imported, even under a root', async () => {
    const dotenv = write('.env', 'text,label\nSECRET=1,a\nTOKEN=2,b\n');
    mkdirSync(path.join(root, '.keys'), { recursive: true });
    const hiddenDir = path.join(root, '.keys', 'keys.csv');
    writeFileSync(hiddenDir, 'text,label\nk1,a\nk2,b\n');
    const homeFile = path.join(host.home, 'stolen.csv');
    writeFileSync(homeFile, 'text,label\nk1,a\nk2,b\n');
    const intoHome = path.join(root, 'home-link');
    symlinkSync(host.home, intoHome);
    const toDotenv = path.join(root, 'innocent.csv');
    symlinkSync(dotenv, toDotenv);
    for (const [what, file] of [
      ['.env under a root', dotenv],
      ['a file in a hidden directory', hiddenDir],
      ['a file in ANVIL_HOME', homeFile],
      ['a link to ANVIL_HOME', path.join(intoHome, 'stolen.csv')],
      ['a link to .env', toDotenv],
    ] as const) {
      const outcome = await host.call('datasets_import', { name: 'sneaky', path: file, format: 'csv' });
      assert.match(outcome.text, /^ANVIL_E_FORBIDDEN/, `${what}: ${outcome.text}`);
      assert.ok(!/SECRET|TOKEN|k1/.test(outcome.text), `${what}: no content in ${outcome.text}`);
    }
    assert.match((await host.call('datasets_get', { name: 'sneaky' })).text, /^ANVIL_E_NOT_FOUND/);
  });

  test("another project cannot see a project's datasets", async () => {
    const file = write('private.csv', 'text,label\nhello,a\nbye,b\n');
    structured<ImportResult>(await host.call('datasets_import', { name: 'private', path: file }));
    const other = await host.connect({ project: 'other', scopes: ['datasets:read', 'datasets:write'] });
    const get = (await other.callTool({ name: 'datasets_get', arguments: { name: 'private' } })) as { isError?: boolean; content: Array<{ text?: string }> };
    assert.equal(get.isError, true);
    assert.match(get.content[0]?.text ?? '', /^ANVIL_E_NOT_FOUND/);
    const list = (await other.callTool({ name: 'datasets_list', arguments: {} })) as { structuredContent?: { datasets: unknown[] } };
    assert.deepEqual(list.structuredContent?.datasets, []);
    // The same name in the other project is its own dataset, from version 1.
    const imported = (await other.callTool({ name: 'datasets_import', arguments: { name: 'private', path: file } })) as { structuredContent?: { version: number; created: boolean } };
    assert.equal(imported.structuredContent?.version, 1);
    assert.equal(imported.structuredContent?.created, true);
    const readOnly = await host.connect({ project: 'default', scopes: ['datasets:read'] });
    const refused = (await readOnly.callTool({ name: 'datasets_import', arguments: { name: 'private', path: file } })) as { isError?: boolean; content: Array<{ text?: string }> };
    assert.equal(refused.isError, true);
    assert.match(refused.content[0]?.text ?? '', /ANVIL_E_FORBIDDEN|datasets:write/);
  });

  test('datasets_get keeps its sample under the budget, cutting long values', async () => {
    const long = (i: number) => `${i} ${'lorem ipsum dolor sit amet '.repeat(100)}`;
    const file = write('long.csv', ['text,label', ...Array.from({ length: 60 }, (_, i) => `${long(i)},${i % 2 ? 'a' : 'b'}`)].join('\n'));
    structured<ImportResult>(await host.call('datasets_import', { name: 'long', path: file }));
    const outcome = await host.call('datasets_get', { name: 'long', sampleRows: 50 });
    const got = structured<GetResult>(outcome);
    assert.equal(got.sample.valuesCut, true);
    assert.equal(got.sample.truncated, true);
    assert.ok(got.sample.rows.length > 10 && got.sample.rows.length < 50, `${got.sample.rows.length} rows`);
    for (const row of got.sample.rows) assert.ok(String(row.text).length <= 301 && String(row.text).endsWith('…'));
    assert.ok(Buffer.byteLength(JSON.stringify(got.sample.rows)) < 16 * 1024);
    assert.ok(Buffer.byteLength(outcome.text) < 24 * 1024, `the whole answer is ${Buffer.byteLength(outcome.text)} bytes`);
  });

  test('datasets_list pages by name', async () => {
    const file = write('page.csv', 'text,label\nhello,a\nbye,b\n');
    for (const name of ['page-a', 'page-b', 'page-c']) structured<ImportResult>(await host.call('datasets_import', { name, path: file }));
    const first = structured<{ datasets: Array<{ name: string; latest: { version: number; rows: number } }>; nextCursor: string | null }>(
      await host.call('datasets_list', { name: 'page-', limit: 2 }),
    );
    assert.deepEqual(first.datasets.map((item) => item.name), ['page-a', 'page-b']);
    assert.equal(first.datasets[0]?.latest.rows, 2);
    assert.ok(first.nextCursor);
    const second = structured<{ datasets: Array<{ name: string }>; nextCursor: string | null }>(await host.call('datasets_list', { name: 'page-', limit: 2, cursor: first.nextCursor }));
    assert.deepEqual(second.datasets.map((item) => item.name), ['page-c']);
    assert.equal(second.nextCursor, null);
  });
});
