/**
 * `datasets_import` from a server path, tried as an attacker with a `datasets:write` key over HTTP
 * (real `anvil serve`, real MCP client): /etc/passwd, `..`, `.env`, the config file, ANVIL_HOME,
 * symlinks leading out, the server's working directory, and recipe params naming files outside the
 * work dir. Then a stdio user, who keeps the working directory but not its hidden files nor
 * ANVIL_HOME. (A server without roots refusing every path over HTTP: tenant-sweep.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import {
  anvilCommand,
  type AnvilServerProcess,
  childEnv,
  connectHttp,
  createHome,
  type McpHttpSession,
  repoRoot,
  startAnvil,
  type TempHome,
  type ToolOutcome,
  toOutcome,
} from '../support/anvil-process.ts';
import { createDatasetRoot, type DatasetRoot } from '../support/dataset-root.ts';

const GOOD = 'text,label\nhello there,greet\nbye now,leave\nhi again,greet\nsee you,leave\n';
/** Strings planted in files an attacker must never read back, in any answer. */
const SECRETS = ['hunter2', 'sk_live_', 'TOKEN=', 'leakcheck', 'root:x:0:0'];

function refused(outcome: ToolOutcome, code: RegExp, what: string): void {
  assert.equal(outcome.isError, true, `${what}: expected a refusal, got ${outcome.text}`);
  assert.match(outcome.text, code, what);
  for (const secret of SECRETS) assert.ok(!outcome.text.includes(secret), `${what}: the answer echoes ${secret}: ${outcome.text}`);
}

describe('datasets_import over HTTP, as an attacker with a datasets:write key', () => {
  let home: TempHome;
  let data: DatasetRoot;
  let server: AnvilServerProcess;
  let session: McpHttpSession;

  before(async () => {
    data = createDatasetRoot();
    home = await createHome();
    data.write('good.csv', GOOD);
    data.write('.env', 'text,label\nTOKEN=sk_live_abc,a\nPASSWORD=hunter2,b\n');
    mkdirSync(path.join(data.dir, 'sub'));
    data.write('sub/.env', 'text,label\nTOKEN=sk_live_def,a\nother,b\n');
    mkdirSync(path.join(data.dir, 'conf'));
    // A config file an operator keeps under a dataset root: one JSON line of scalars, which would
    // import as a one-row JSONL dataset if nothing refused it.
    const configFile = data.write('conf/anvil.json', '{"queuePrefix":"leakcheck"}\n');
    writeFileSync(path.join(home.home, 'secrets.jsonl'), '{"text":"sk_live_home","label":"a"}\n{"text":"hunter2","label":"b"}\n');
    symlinkSync('/etc/passwd', path.join(data.dir, 'passwd.csv'));
    symlinkSync(home.home, path.join(data.dir, 'home-link'));
    symlinkSync(path.join(data.dir, '.env'), path.join(data.dir, 'innocent.csv'));
    data.write('bad.csv', 'text,label,API_TOKEN\nhi,a,sk_live_ghi\nyo,b\n');
    // The home's parent is a root too: ANVIL_HOME inside a root stays closed.
    server = await startAnvil({ startTimeoutMs: 180_000, home: home.home, env: { ANVIL_DATASET_ROOTS: `${data.dir},${path.dirname(home.home)}`, ANVIL_CONFIG: configFile } });
    const key = await server.createKey('alpha', 'datasets:read,datasets:write,jobs:read,jobs:write');
    session = await connectHttp('sdk2', server.mcpUrl, { key: key.key });
  });

  after(async () => {
    await session?.close().catch(() => {});
    await server?.dispose();
    home?.remove();
    data?.remove();
  });

  it('imports a file under an operator root', async () => {
    const imported = await session.callTool('datasets_import', { name: 'good', path: path.join(data.dir, 'good.csv') });
    assert.equal(imported.isError, false, imported.text);
    assert.equal(imported.structured?.rows, 4);
  });

  const attempts: Array<[string, (dir: string, homeDir: string) => string, string?]> = [
    ['/etc/passwd', () => '/etc/passwd', 'csv'],
    ['.. out of a root', (dir) => `${dir}/sub/../../../../etc/passwd`, 'csv'],
    ['.env under a root', (dir) => path.join(dir, '.env'), 'csv'],
    ['.env in a subdirectory', (dir) => path.join(dir, 'sub', '.env'), 'csv'],
    ['the config file', (dir) => path.join(dir, 'conf', 'anvil.json'), 'jsonl'],
    ['a file in ANVIL_HOME (under a root)', (_dir, homeDir) => path.join(homeDir, 'secrets.jsonl')],
    ['a symlink to /etc/passwd', (dir) => path.join(dir, 'passwd.csv')],
    ['a path through a symlink to ANVIL_HOME', (dir) => path.join(dir, 'home-link', 'secrets.jsonl')],
    ['a symlink to .env', (dir) => path.join(dir, 'innocent.csv')],
    ["a file in the server's working directory", () => path.join(repoRoot, 'package.json'), 'json'],
    ['a relative path', () => 'package.json', 'json'],
  ];
  for (const [what, target, format] of attempts) {
    it(`refuses ${what}`, async () => {
      const file = target(data.dir, home.home);
      const outcome = await session.callTool('datasets_import', { name: 'stolen', path: file, ...(format ? { format } : {}) });
      refused(outcome, /^ANVIL_E_FORBIDDEN/, what);
      assert.ok(!outcome.text.includes('/etc/passwd') || file.includes('/etc/passwd'), `${what}: the refusal does not say where a link leads: ${outcome.text}`);
    });
  }

  it('a bad file: the error names line and column, never the content', async () => {
    const outcome = await session.callTool('datasets_import', { name: 'bad', path: path.join(data.dir, 'bad.csv') });
    refused(outcome, /^ANVIL_E_INVALID_INPUT: line 3: 2 fields, but the header has 3 columns$/, 'bad.csv');
    assert.ok(!outcome.text.includes('API_TOKEN'), outcome.text);
  });

  it('a job cannot name a file outside its work dir in the recipe params', async () => {
    for (const file of ['/etc/passwd', path.join(home.home, 'secrets.jsonl'), '../../secrets.jsonl', 'inputs/../../x.jsonl']) {
      const outcome = await session.callTool('jobs_submit', { recipe: 'text-classifier', params: { dataset: { file } } });
      refused(outcome, /^ANVIL_E_INVALID_INPUT: .*dataset\.file.*relative to the work directory/, `jobs_submit with dataset.file ${file}`);
    }
    const evaluation = await session.callTool('jobs_submit', {
      recipe: 'evaluation',
      params: { dataset: { file: 'inputs/dataset.jsonl' }, models: [{ role: 'candidate', featurizer: '/etc/passwd', model: 'inputs/m.onnx' }] },
    });
    refused(evaluation, /^ANVIL_E_INVALID_INPUT: .*featurizer.*relative to the work directory/, 'evaluation featurizer');
  });

  it('nothing but the good import was stored', async () => {
    const listed = await session.callTool('datasets_list', {});
    assert.equal(listed.isError, false, listed.text);
    assert.deepEqual((listed.structured?.datasets as Array<{ name: string }>).map((item) => item.name), ['good']);
  });
});

describe('datasets_import over stdio: the local user keeps the working directory', () => {
  let home: TempHome;
  let data: DatasetRoot;
  let client: Client;

  before(async () => {
    home = await createHome();
    data = createDatasetRoot();
    data.write('good.csv', GOOD);
    data.write('.env', 'text,label\nTOKEN=sk_live_abc,a\nPASSWORD=hunter2,b\n');
    writeFileSync(path.join(home.home, 'secrets.csv'), 'text,label\nsk_live_home,a\nhunter2,b\n');
    const { command, args } = anvilCommand(['serve', '--stdio']);
    client = new Client({ name: 'anvil-e2e-stdio-paths', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command, args, cwd: data.dir, env: childEnv({ ANVIL_HOME: home.home }), stderr: 'ignore' }), { timeout: 180_000 });
  });
  after(async () => {
    await client?.close().catch(() => {});
    home?.remove();
    data?.remove();
  });

  it('imports a relative path in the working directory, refuses .env and ANVIL_HOME', async () => {
    const call = async (args: Record<string, unknown>) => toOutcome(await client.callTool({ name: 'datasets_import', arguments: args }));
    const imported = await call({ name: 'good', path: 'good.csv' });
    assert.equal(imported.isError, false, imported.text);
    assert.equal(imported.structured?.rows, 4);
    refused(await call({ name: 'x', path: '.env', format: 'csv' }), /^ANVIL_E_FORBIDDEN/, '.env');
    refused(await call({ name: 'x', path: path.join(home.home, 'secrets.csv') }), /^ANVIL_E_FORBIDDEN/, 'ANVIL_HOME');
    refused(await call({ name: 'x', path: '/etc/passwd', format: 'csv' }), /^ANVIL_E_FORBIDDEN/, '/etc/passwd');
  });
});
