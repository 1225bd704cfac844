/**
 * `anvil plugin new`, for real: the CLI writes a plugin package into a temp dir, then npm installs
 * it from the registry (Anvil itself linked from this checkout with a `file:` dependency), and its
 * own tests (`npm test`: createTestHost from anvil/testing) and typecheck pass in that folder.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { childEnv, repoRoot, runCli } from '../support/anvil-process.ts';

interface Outcome {
  code: number | null;
  output: string;
}

/**
 * The environment for npm in the scaffold: no Anvil settings, none of an outer npm run's config
 * (npm_config_local_prefix would point npm at this checkout), and not the NODE_TEST_CONTEXT this
 * test runner sets, with which the scaffold's `node --test` would skip its files and exit 0.
 */
function npmEnv(): Record<string, string> {
  const env = childEnv();
  for (const name of Object.keys(env)) {
    if (name.toLowerCase().startsWith('npm_') || name === 'INIT_CWD' || name === 'NODE_TEST_CONTEXT') delete env[name];
  }
  return env;
}

function run(command: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<Outcome> {
  const child = spawn(command, args, { cwd, env: npmEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const timer = setTimeout(() => {
    output += `\n[test] ${command} ${args.join(' ')} killed after ${timeoutMs} ms\n`;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const anvilManifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

describe('anvil plugin new', () => {
  let temp: string;
  let dir: string;
  before(() => {
    temp = mkdtempSync(path.join(os.tmpdir(), 'anvil-scaffold-'));
    dir = path.join(temp, 'weather');
  });
  after(() => rmSync(temp, { recursive: true, force: true }));

  it('writes the package', async () => {
    const result = await runCli(['plugin', 'new', 'weather', '--dir', dir]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), dir);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(manifest.name, 'anvil-plugin-weather');
    assert.equal(manifest.type, 'module');
    assert.equal(manifest.private, true);
    assert.deepEqual(manifest.scripts, { test: 'node --import tsx --test test/*.test.ts', typecheck: 'tsc --noEmit' });
    assert.deepEqual(manifest.dependencies, { anvil: `file:${realpathSync(repoRoot).replace(/\/$/, '')}` });
    assert.deepEqual(manifest.devDependencies, {
      '@types/node': anvilManifest.devDependencies['@types/node'],
      tsx: anvilManifest.dependencies.tsx ?? anvilManifest.devDependencies.tsx,
      typescript: anvilManifest.devDependencies.typescript,
    });
    const index = readFileSync(path.join(dir, 'index.ts'), 'utf8');
    assert.match(index, /from 'anvil\/plugin'/);
    assert.match(index, /scopes: \['weather:read'\]/);
    assert.match(readFileSync(path.join(dir, 'test/plugin.test.ts'), 'utf8'), /from 'anvil\/testing'/);
    assert.match(readFileSync(path.join(dir, 'README.md'), 'utf8'), /anvil\.config\.json/);
    const tsconfig = JSON.parse(readFileSync(path.join(dir, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    assert.equal(tsconfig.compilerOptions.strict, true);
    assert.equal(tsconfig.compilerOptions.module, 'NodeNext');
    assert.equal(tsconfig.compilerOptions.allowImportingTsExtensions, true);
    assert.equal(tsconfig.compilerOptions.noEmit, true);
  });

  it('refuses a bad name and a non-empty folder, and accepts an empty one', async () => {
    const occupied = path.join(temp, 'occupied');
    const empty = path.join(temp, 'empty');
    mkdirSync(occupied);
    writeFileSync(path.join(occupied, 'notes.txt'), 'mine\n');
    mkdirSync(empty);
    const [badName, tooLong, nonEmpty, emptyDir] = await Promise.all([
      runCli(['plugin', 'new', 'Weather', '--dir', path.join(temp, 'x')]),
      runCli(['plugin', 'new', `w${'x'.repeat(40)}`, '--dir', path.join(temp, 'y')]),
      runCli(['plugin', 'new', 'weather', '--dir', occupied]),
      runCli(['plugin', 'new', 'weather', '--dir', empty]),
    ]);
    assert.equal(badName.code, 2, badName.stderr);
    assert.match(badName.stderr, /^ANVIL_E_USAGE: "Weather" is not a plugin name: use lowercase letters/);
    assert.equal(tooLong.code, 2, tooLong.stderr);
    assert.equal(nonEmpty.code, 2, nonEmpty.stderr);
    assert.match(nonEmpty.stderr, /is not empty/);
    assert.equal(readFileSync(path.join(occupied, 'notes.txt'), 'utf8'), 'mine\n');
    assert.equal(emptyDir.code, 0, emptyDir.stderr);
  });

  it('installs with npm, and its own tests pass (npm test)', async () => {
    const install = await run('npm', ['install', '--no-audit', '--no-fund'], dir, 150_000);
    assert.equal(install.code, 0, install.output);
    assert.equal(realpathSync(path.join(dir, 'node_modules', 'anvil')), realpathSync(repoRoot), 'the file: dependency links this checkout');
    const test = await run('npm', ['test'], dir, 120_000);
    assert.equal(test.code, 0, test.output);
    assert.match(test.output, /# pass 3/);
    assert.match(test.output, /# fail 0/);
  });

  it('typechecks (npm run typecheck: tsc --noEmit)', async () => {
    const typecheck = await run('npm', ['run', 'typecheck'], dir, 150_000);
    assert.equal(typecheck.code, 0, typecheck.output);
  });
});
