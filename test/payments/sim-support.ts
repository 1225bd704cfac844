/**
 * Runs the payments fault simulator (`npm run sim -- payments`) for one fixed small seed in a test:
 * a real server SIGKILLed and restarted mid-run, then every invariant checked. One seed per test
 * file (sim-seed-*.test.ts), so each file stays within the runner's per-file time limit.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { childEnv, repoRoot, track } from '../support/anvil-process.ts';

export function sim(seed: number, ops: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = childEnv({ ANVIL_FROM_SOURCE: process.env.ANVIL_FROM_SOURCE, ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}) });
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/sim/run.ts', 'payments', '--seed', String(seed), '--ops', String(ops), '--kills', '1'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}


export async function holds(seed: number, ops: number): Promise<void> {
  const result = await sim(seed, ops);
  const last = result.stdout.trim().split('\n').at(-1) ?? '';
  assert.equal(result.code, 0, `seed ${seed}: ${last}\n${result.stderr.slice(-3000)}`);
  assert.deepEqual(JSON.parse(last), { sim: 'payments', seed, ops, invariants: 'held' });
  assert.match(result.stderr, /SIGKILL/);
}
