#!/usr/bin/env node
// Runs every test file under test/ (or those given) with Node's own test runner, TypeScript through tsx.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function collect(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return entry === 'bench' || entry === 'fixtures' ? [] : collect(full);
    return entry.endsWith('.test.ts') ? [full] : [];
  });
}

const args = process.argv.slice(2);
const files = (args.length ? args : ['test']).flatMap((target) => (statSync(target).isDirectory() ? collect(target) : [target])).sort();
if (files.length === 0) {
  process.stderr.write('no test files found\n');
  process.exit(1);
}
// One file at a time unless ANVIL_TEST_CONCURRENCY says more: files share the machine's cores, and
// several heavy ones at once (training, browsers, spawned servers) can push timing-bound tests past their limits.
const concurrency = process.env.ANVIL_TEST_CONCURRENCY ?? '1';
if (!/^[1-9][0-9]*$/.test(concurrency)) {
  process.stderr.write(`ANVIL_TEST_CONCURRENCY must be a whole number from 1, got ${concurrency}\n`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--conditions=development', '--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', '--test-reporter=spec', ...files],
  // Tests run the sources, never a build in dist/ that may predate them: ANVIL_FROM_SOURCE makes
  // bin/anvil.mjs and recipe starts use them, the `development` condition resolves `anvil/plugin` to them.
  { stdio: 'inherit', env: { ...process.env, ANVIL_FROM_SOURCE: '1', NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --conditions=development`.trim() } },
);
process.exit(result.status ?? 1);
