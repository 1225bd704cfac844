#!/usr/bin/env node
// Runs the JavaScript build in dist/ (made by `npm install`, see scripts/build.mjs). Falls back to
// the TypeScript sources through tsx when there is no build, when a source file changed after the
// build (a checkout being edited), or when ANVIL_FROM_SOURCE=1 (the test runner sets it).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { register as registerHooks } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const sourceDirs = ['server', 'plugins', 'tools', 'knowledge', 'graphs', 'gpu-workers'];

function builtAt() {
  try {
    return JSON.parse(readFileSync(path.join(root, 'dist', 'BUILD.json'), 'utf8')).builtAt;
  } catch {
    return undefined;
  }
}

/** Whether any source file was modified after `time` (ms). */
function changedSince(dir, time) {
  if (!existsSync(dir)) return false;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() ? changedSince(full, time) : statSync(full).mtimeMs > time) return true;
  }
  return false;
}

const built = process.env.ANVIL_FROM_SOURCE === '1' ? undefined : builtAt();
if (built !== undefined && !sourceDirs.some((dir) => changedSince(path.join(root, dir), built))) {
  await import('../dist/server/cli/bin.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  // `anvil/plugin` resolves to the sources under the `development` export condition.
  const hook = `export function resolve(specifier, context, next) {
    return next(specifier, context.conditions.includes('development') ? context : { ...context, conditions: [...context.conditions, 'development'] });
  }`;
  registerHooks(`data:text/javascript,${encodeURIComponent(hook)}`);
  await import('../server/cli/bin.ts');
}
