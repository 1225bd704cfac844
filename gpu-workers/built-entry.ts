/**
 * Recipes start as JavaScript when a build exists, so a recipe process starts in tens of
 * milliseconds instead of compiling TypeScript through tsx first. A recipe entry is declared as
 * its `.ts` source; its built counterpart is the sibling `.js` when this code itself runs from
 * dist/, or `dist/<same path>.js` when it runs from the sources and dist/ is newer than every
 * source file (scripts/build.mjs writes dist/BUILD.json). ANVIL_FROM_SOURCE=1 (the test runner)
 * always runs the sources.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (or installed package) root: this file is `<root>/gpu-workers/` or `<root>/dist/gpu-workers/`. */
const here = path.dirname(fileURLToPath(import.meta.url));
const runningBuilt = path.basename(path.dirname(here)) === 'dist';
const root = runningBuilt ? path.dirname(path.dirname(here)) : path.dirname(here);
const sourceDirs = ['server', 'plugins', 'tools', 'knowledge', 'graphs', 'gpu-workers'];

function changedSince(dir: string, time: number): boolean {
  if (!existsSync(dir)) return false;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() ? changedSince(full, time) : statSync(full).mtimeMs > time) return true;
  }
  return false;
}

let freshBuild: boolean | undefined;

function buildIsFresh(): boolean {
  if (freshBuild !== undefined) return freshBuild;
  try {
    const { builtAt } = JSON.parse(readFileSync(path.join(root, 'dist', 'BUILD.json'), 'utf8')) as { builtAt: number };
    freshBuild = !sourceDirs.some((dir) => changedSince(path.join(root, dir), builtAt));
  } catch {
    freshBuild = false;
  }
  return freshBuild;
}

/** The built `.js` to run instead of the TypeScript file `file`, or undefined. */
export function builtEntry(file: string): string | undefined {
  if (process.env.ANVIL_FROM_SOURCE === '1') return undefined;
  const js = file.replace(/\.[cm]?ts$/, '.js');
  if (runningBuilt) return existsSync(js) ? js : undefined;
  const relative = path.relative(root, js);
  if (relative.startsWith('..') || path.isAbsolute(relative) || !buildIsFresh()) return undefined;
  const built = path.join(root, 'dist', relative);
  return existsSync(built) ? built : undefined;
}
