/**
 * Whether this machine can run torch-text-classifier: a Python that can import torch, looked for as
 * the `run` launcher does ($ANVIL_PYTHON alone when set, else python3 on PATH, then /usr/bin/python3).
 * Checked with importlib's find_spec (no import of torch: ~30 ms, not seconds) once per process.
 */
import { spawnSync } from 'node:child_process';
import { baseRecipeEnv } from '../../runner.ts';

/** The interpreters tried, in order. */
export function torchPythons(env: NodeJS.ProcessEnv = process.env): string[] {
  const chosen = env.ANVIL_PYTHON?.trim();
  return chosen ? [chosen] : ['python3', '/usr/bin/python3'];
}

let cached: { python: string | null; reason: string | undefined } | undefined;

/** The interpreter the launcher will use, or null with the reason. */
export function torchPython(): { python: string | null; reason: string | undefined } {
  if (cached) return cached;
  const tried: string[] = [];
  for (const python of torchPythons()) {
    const probe = spawnSync(python, ['-c', 'import importlib.util, sys; sys.exit(importlib.util.find_spec("torch") is None)'], { env: baseRecipeEnv(), stdio: 'ignore', timeout: 15_000 });
    if (probe.status === 0) return (cached = { python, reason: undefined });
    tried.push(probe.error ? `${python}: not found` : `${python}: no torch module`);
  }
  return (cached = { python: null, reason: `no Python with torch (${tried.join('; ')}); install it with apt-get install python3-torch` });
}

/** `RecipeSpec.unavailable` of torch-text-classifier. */
export function torchUnavailable(): string | undefined {
  return torchPython().reason;
}
