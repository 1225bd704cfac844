#!/usr/bin/env node
// Builds dist/ so that production runs JavaScript, never TypeScript compiled at run time: every
// .ts file under the source folders becomes .js (tsc with rewriteRelativeImportExtensions and
// --noCheck, i.e. emit only: `npm run check` is where types are checked), and every other file
// there (SQL beside the code that runs it, migrations) is copied beside it. The whole tree is
// built, so new files need no registration. `npm install` runs it (`prepare`); bin/anvil.mjs runs
// dist/ when it is at least as new as the sources, else the sources through tsx.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const sourceDirs = ['server', 'plugins', 'tools', 'knowledge', 'graphs', 'gpu-workers'];
const staging = path.join(root, 'dist.building');
const target = path.join(root, 'dist');

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  // An install without devDependencies: bin/anvil.mjs runs the sources through tsx instead.
  process.stderr.write('anvil build: typescript is not installed; skipping (the sources will run through tsx)\n');
  process.exit(0);
}

const started = Date.now();
rmSync(staging, { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--noCheck', '--outDir', staging], { stdio: 'inherit' });
if (result.status !== 0) {
  rmSync(staging, { recursive: true, force: true });
  process.stderr.write('anvil build: tsc failed\n');
  process.exit(result.status ?? 1);
}

function copyAssets(dir) {
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) copyAssets(relative);
    else if (!entry.name.endsWith('.ts') && !entry.name.endsWith('.md')) {
      mkdirSync(path.join(staging, dir), { recursive: true });
      cpSync(path.join(root, relative), path.join(staging, relative));
    }
  }
}
for (const dir of sourceDirs) copyAssets(dir);
writeFileSync(path.join(staging, 'BUILD.json'), `${JSON.stringify({ builtAt: started })}\n`);
rmSync(target, { recursive: true, force: true });
renameSync(staging, target);
process.stderr.write(`anvil build: dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
