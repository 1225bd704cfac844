import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../server/config/load.ts';
import { redactConfig } from '../../server/config/redact.ts';
import { ErrorCodes, isAnvilError } from '../../server/errors.ts';

const home = mkdtempSync(path.join(os.tmpdir(), 'anv-cfg-'));
after(() => rmSync(home, { recursive: true, force: true }));

function configError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(isAnvilError(error, ErrorCodes.CONFIG_INVALID), `expected ${ErrorCodes.CONFIG_INVALID}, got ${String(error)}`);
    return error.message;
  }
  assert.fail('expected a configuration error');
}

describe('config', () => {
  it('applies defaults with nothing set', () => {
    const { config, file } = loadConfig({ env: {}, cwd: home });
    assert.equal(config.home, path.join(home, '.anvil'));
    assert.equal(config.http.host, '127.0.0.1');
    assert.equal(config.http.port, 7420);
    assert.equal(config.http.auth, true);
    assert.equal(config.queue, 'auto');
    assert.deepEqual(config.stdio.scopes, ['*']);
    assert.equal(file.found, false);
  });

  it('layers file < env < flags and records each source', () => {
    writeFileSync(path.join(home, 'anvil.config.json'), JSON.stringify({ http: { port: 8000, host: '127.0.0.2' }, log: { level: 'debug' } }));
    const { config, sources } = loadConfig({
      env: { ANVIL_HOME: home, ANVIL_PORT: '9000', ANVIL_ALLOWED_HOSTS: 'a.example, b.example' },
      cwd: '/',
      overrides: { http: { host: '127.0.0.3' } },
    });
    assert.equal(config.http.port, 9000);
    assert.equal(config.http.host, '127.0.0.3');
    assert.equal(config.log.level, 'debug');
    assert.deepEqual(config.http.allowedHosts, ['a.example', 'b.example']);
    assert.equal(sources['http.port'], 'env ANVIL_PORT');
    assert.equal(sources['http.host'], '--host');
    assert.equal(sources['log.level'], path.join(home, 'anvil.config.json'));
    rmSync(path.join(home, 'anvil.config.json'));
  });

  it('names the key, its source and the bad value', () => {
    const message = configError(() => loadConfig({ env: { ANVIL_HOME: home, ANVIL_PORT: 'abc' } }));
    assert.match(message, /http\.port \(from env ANVIL_PORT\)/);
    assert.match(message, /"abc"/);
  });

  it('datasets.roots: none by default, absolute directories from ANVIL_DATASET_ROOTS, a relative one refused by name', () => {
    assert.deepEqual(loadConfig({ env: { ANVIL_HOME: home }, cwd: '/' }).config.datasets.roots, []);
    const { config, sources } = loadConfig({ env: { ANVIL_HOME: home, ANVIL_DATASET_ROOTS: '/srv/data, /mnt/shared' }, cwd: '/' });
    assert.deepEqual(config.datasets.roots, ['/srv/data', '/mnt/shared']);
    assert.equal(sources['datasets.roots'], 'env ANVIL_DATASET_ROOTS');
    const message = configError(() => loadConfig({ env: { ANVIL_HOME: home, ANVIL_DATASET_ROOTS: '/srv/data,data' } }));
    assert.match(message, /datasets\.roots\.1 \(from env ANVIL_DATASET_ROOTS\): expected an absolute path/);
  });

  it('knowledge: defaults, env bindings, and a bad value refused by its key', () => {
    assert.equal(loadConfig({ env: { ANVIL_HOME: home } }).config.knowledge.maxUploadBytes, 100 * 1024 ** 2);
    const { config } = loadConfig({ env: { ANVIL_HOME: home, ANVIL_KB_MAX_UPLOAD_BYTES: '2048', ANVIL_KB_STORE: 'pgarray', QDRANT_URL: 'http://127.0.0.1:6333' } });
    assert.equal(config.knowledge.maxUploadBytes, 2048);
    assert.equal(config.knowledge.store, 'pgarray');
    assert.deepEqual(config.knowledge.qdrant, { url: 'http://127.0.0.1:6333', apiKeyEnv: 'QDRANT_API_KEY' });
    const message = configError(() => loadConfig({ env: { ANVIL_HOME: home, ANVIL_KB_MAX_UPLOAD_BYTES: '0' } }));
    assert.match(message, /knowledge\.maxUploadBytes \(from env ANVIL_KB_MAX_UPLOAD_BYTES\)/);
  });

  it('refuses unknown keys and bad enums in the file', () => {
    writeFileSync(path.join(home, 'anvil.config.json'), JSON.stringify({ queue: 'kafka', http: { bogus: true } }));
    const message = configError(() => loadConfig({ env: { ANVIL_HOME: home } }));
    assert.match(message, /queue .*expected one of/);
    assert.match(message, /http: unknown key\(s\) "bogus"/);
    rmSync(path.join(home, 'anvil.config.json'));
  });

  it('refuses a file that is not JSON, naming the file', () => {
    const file = path.join(home, 'broken.json');
    writeFileSync(file, '{ nope');
    const message = configError(() => loadConfig({ env: {}, overrides: { configPath: file } }));
    assert.match(message, /broken\.json is not valid JSON/);
  });

  it('requires an explicitly named config file to exist', () => {
    assert.throws(() => loadConfig({ env: {}, overrides: { configPath: path.join(home, 'missing.json') } }), (error: unknown) =>
      isAnvilError(error, ErrorCodes.CONFIG_UNREADABLE),
    );
  });

  it('validates URL forms', () => {
    const message = configError(() => loadConfig({ env: { ANVIL_HOME: home, DATABASE_URL: 'mysql://x' } }));
    assert.match(message, /databaseUrl \(from env DATABASE_URL\): expected a postgres:\/\//);
  });

  it('redacts secrets when printed', () => {
    const { config } = loadConfig({ env: { ANVIL_HOME: home, DATABASE_URL: 'postgres://app:s3cret@db:5432/anvil', REDIS_URL: 'redis://:hunter2@cache:6379' } });
    const printed = JSON.stringify(redactConfig(config));
    assert.doesNotMatch(printed, /s3cret|hunter2/);
    assert.match(printed, /postgres:\/\/app:\*\*\*@db:5432\/anvil/);
  });
});
