#!/usr/bin/env node
// The dependency direction DESIGN.md fixes, checked on every import (static, dynamic, re-export):
//   contracts/    imports only contracts/ (and npm packages)
//   gpu-workers/  imports gpu-workers/ and contracts/ — never tools/, server/ or plugins/
//   tools/<x>/    imports its own folder, another plugin only through tools/<y>/index.ts, contracts/,
//                 gpu-workers/index.ts, and Anvil only as 'anvil/plugin'
//                 (tools/knowledge may import knowledge/, tools/agent graphs/: their engines)
//   knowledge/, graphs/   their own folder, contracts/ and 'anvil/plugin'
//   server/, plugins/     know the built-ins only through server/server.ts, tools/builtins.ts (the lists) and
//                 server/config/schema.ts (the jobs section's schema); plugins/ never imports tools/
// New folders under tools/ (deployment, knowledge, payment, ...) fall under the tools rule as they land.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const areas = ['contracts', 'gpu-workers', 'tools', 'knowledge', 'graphs', 'server', 'plugins'];
const importPattern = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

function sources(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const full = path.join(dir, entry);
    if (entry === 'node_modules' || entry.startsWith('.')) return [];
    if (statSync(full).isDirectory()) return sources(full);
    return /\.(ts|mts|mjs|js)$/.test(entry) && !entry.endsWith('.d.ts') ? [full] : [];
  });
}

/** Why `from` may not import `target` (both repo-relative; target undefined for a package), or undefined. */
function violation(from, target, spec) {
  const [area, sub] = from.split('/');
  const inside = (prefix) => target !== undefined && (target === prefix || target.startsWith(`${prefix}/`));
  const isPackage = target === undefined;
  if (isPackage && spec.startsWith('anvil/')) {
    if (area === 'tools' || area === 'knowledge' || area === 'graphs') return spec === 'anvil/plugin' ? undefined : `only 'anvil/plugin' is Anvil's public API here, not '${spec}'`;
    if (area === 'contracts' || area === 'gpu-workers') return `${area}/ must not depend on Anvil's plugin API ('${spec}')`;
    return undefined;
  }
  if (isPackage) return undefined;
  switch (area) {
    case 'contracts':
      return inside('contracts') ? undefined : 'contracts/ imports only contracts/';
    case 'gpu-workers':
      return inside('gpu-workers') || inside('contracts') ? undefined : 'gpu-workers/ imports only gpu-workers/ and contracts/';
    case 'tools': {
      if (inside('contracts') || target === 'gpu-workers/index.ts') return undefined;
      // The tool faces of the two engines (DESIGN.md): tools/knowledge over knowledge/, tools/agent over graphs/.
      if ((sub === 'knowledge' && inside('knowledge')) || (sub === 'agent' && inside('graphs'))) return undefined;
      if (!inside('tools')) return inside('gpu-workers') ? 'tools/ reaches gpu-workers/ only through gpu-workers/index.ts' : "tools/ reaches Anvil only through 'anvil/plugin'";
      const own = from.includes('/', 'tools/'.length) ? `tools/${sub}` : undefined;
      if (own && inside(own)) return undefined;
      if (/^tools\/[^/]+\/index\.ts$/.test(target)) return undefined;
      return `another plugin is reached only through its index.ts (${target})`;
    }
    case 'knowledge':
    case 'graphs':
      return inside(area) || inside('contracts') ? undefined : `${area}/ imports only ${area}/, contracts/ and 'anvil/plugin'`;
    case 'server':
      if (inside('tools') && target !== 'tools/builtins.ts' && from !== 'server/server.ts' && from !== 'server/config/schema.ts') return 'server/ knows the built-in plugins only through server/server.ts and the list in tools/builtins.ts';
      return undefined;
    case 'plugins':
      return inside('tools') || inside('gpu-workers') ? 'plugins/ (SDK and host) never imports tools/ or gpu-workers/' : undefined;
    default:
      return undefined;
  }
}

const problems = [];
let checked = 0;
for (const area of areas) {
  for (const file of sources(path.join(root, area))) {
    const from = path.relative(root, file).split(path.sep).join('/');
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(importPattern)) {
      const spec = match[1] ?? match[2] ?? match[3];
      if (!spec || spec.startsWith('node:')) continue;
      checked += 1;
      const target = spec.startsWith('.') ? path.relative(root, path.resolve(path.dirname(file), spec)).split(path.sep).join('/') : undefined;
      const why = violation(from, target, spec);
      if (why) problems.push(`${from}: import '${spec}': ${why}`);
    }
  }
}
if (problems.length > 0) {
  process.stderr.write(`${problems.length} import(s) against the dependency direction (DESIGN.md, scripts/check-boundaries.mjs):\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`boundaries: ${checked} imports checked, none against the direction\n`);
