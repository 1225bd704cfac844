/**
 * A recipe does not outlive its worker: when the worker process dies by SIGKILL (no chance to stop
 * anything), the pipe the runner passes on fd 3 reaches end-of-file and the recipe exits itself —
 * even one that is silent, which an EPIPE on stdout would never reach.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { processGone } from './helpers.ts';

const host = fileURLToPath(new URL('../fixtures/recipe-host.ts', import.meta.url));
const quiet = fileURLToPath(new URL('../fixtures/recipes/quiet.ts', import.meta.url));

test('a silent recipe exits within a second of its worker being killed with SIGKILL', async () => {
  const worker = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), host, quiet], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  let out = '';
  const recipePid = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no recipe pid printed: ${out}`)), 20_000);
    worker.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /^(\d+)\n/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  // Let the recipe start and read its spec (the watch starts there), then kill the worker outright.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  assert.equal(processGone(recipePid), false, 'the recipe runs');
  worker.kill('SIGKILL');
  await exited;
  const deadline = Date.now() + 1_000;
  while (!processGone(recipePid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const gone = processGone(recipePid);
  if (!gone) process.kill(-recipePid, 'SIGKILL'); // leave nothing behind, then fail
  assert.ok(gone, 'the recipe exited after its worker died');
});
