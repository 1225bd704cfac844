/** Shared bits for the worker tests: work dirs, specs, event collection, process checks. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RecipeEvent, RecipeSpec } from '../../gpu-workers/protocol.ts';

export const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const nvidiaSmiFixture = (name: string): string => path.join(fixtures, 'nvidia-smi', name);
export const recipeFixture = (name: string): string => path.join(fixtures, 'recipes', name);

const made: string[] = [];
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary work dir, removed when the test file ends. */
export function workDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-worker-test-'));
  made.push(dir);
  return dir;
}

export function makeSpec(dir: string, overrides: Partial<RecipeSpec> = {}): RecipeSpec {
  return { jobId: 'job-1', recipe: 'test.recipe', params: {}, attempt: 1, workDir: dir, resume: null, ...overrides };
}

/** An `onEvent` that records every event. */
export function recorder(): { events: RecipeEvent[]; onEvent: (event: RecipeEvent) => void } {
  const events: RecipeEvent[] = [];
  return { events, onEvent: (event) => events.push(event) };
}

/** Gone means: no /proc entry, or a zombie (dead, holding nothing, waiting for init to reap it). */
export function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

/**
 * Waits until `kill(-pgid, 0)` fails with ESRCH: not one process of the group, zombies included,
 * is left. This sandbox's PID 1 reaps orphaned zombies only every ~2 s, hence the generous wait;
 * that the processes were dead (not merely reaped late) is checked with `processGone` beforehand.
 */
export async function waitForGroupToVanish(pgid: number, withinMs = 5_000): Promise<number> {
  const start = performance.now();
  for (;;) {
    try {
      process.kill(-pgid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return performance.now() - start;
      throw error;
    }
    if (performance.now() - start > withinMs) throw new Error(`process group ${pgid} still exists after ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
