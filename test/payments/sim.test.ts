/**
 * The payments fault simulator with two fixed small seeds (the long runs are `npm run sim --
 * payments --seed S --ops N`): a real server SIGKILLed and restarted mid-run, then every invariant
 * checked. The seeds run side by side (each waits mostly on its server starting).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { it } from 'node:test';
import { childEnv, repoRoot, track } from '../support/anvil-process.ts';

function sim(seed: number, ops: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = childEnv(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {});
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/sim/run.ts', 'payments', '--seed', String(seed), '--ops', String(ops), '--kills', '1'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

it('holds every invariant through a SIGKILL and restart (seeds 11 and 12)', { timeout: 480_000 }, async () => {
  const runs = await Promise.all([sim(11, 20), sim(12, 20)]);
  for (const [index, result] of runs.entries()) {
    const last = result.stdout.trim().split('\n').at(-1) ?? '';
    assert.equal(result.code, 0, `seed ${11 + index}: ${last}\n${result.stderr.slice(-3000)}`);
    assert.deepEqual(JSON.parse(last), { sim: 'payments', seed: 11 + index, ops: 20, invariants: 'held' });
    assert.match(result.stderr, /SIGKILL/);
  }
});
