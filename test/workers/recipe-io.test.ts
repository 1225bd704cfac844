/**
 * How a TypeScript recipe reads its spec (recipe-io `readSpec`): stdin read synchronously to its
 * end, however the launcher delivers it: in pieces, or on a non-blocking descriptor where a read
 * finds the pipe empty (EAGAIN) and the rest is read as a stream. A spec that is not JSON, or not a
 * valid spec, is refused with the field named (the error taxonomy is loaded only then).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { diagnosticsCounter } from '../../gpu-workers/recipes/index.ts';
import { entryCommand } from '../../gpu-workers/runner.ts';
import { makeSpec, workDir } from './helpers.ts';

const entry = entryCommand(diagnosticsCounter.entry);

/** Makes fd 0 non-blocking before the recipe runs: opening process.stdin on a pipe does that. */
const NON_BLOCKING_STDIN = ['--import', 'data:text/javascript,process.stdin.pause()'];

interface Run {
  code: number | null;
  lines: { type: string; [field: string]: unknown }[];
  stderr: string;
}

/** Starts the counter and writes `pieces` to its stdin, `gapMs` apart, then closes it. */
async function runWithStdin(pieces: string[], gapMs: number, preload: string[] = []): Promise<Run> {
  const child = spawn(entry.command, [...preload, ...entry.args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  for (const [index, piece] of pieces.entries()) {
    if (index > 0) await sleep(gapMs);
    child.stdin.write(piece);
  }
  child.stdin.end();
  const code = await exited;
  const lines = stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Run['lines'][number]);
  return { code, lines, stderr };
}

function halves(text: string): string[] {
  const middle = Math.floor(text.length / 2);
  return [text.slice(0, middle), text.slice(middle)];
}

function specText(): string {
  return `${JSON.stringify(makeSpec(workDir(), { recipe: diagnosticsCounter.name, params: { steps: 2, stepMs: 0 } }))}\n`;
}

describe('recipe-io readSpec', () => {
  it('reads a spec that arrives in pieces to its end', async () => {
    const run = await runWithStdin(halves(specText()), 300);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.lines.at(-1), { type: 'result', value: { count: 2, resumedFrom: 0 } });
  });

  it('reads on as a stream when stdin is non-blocking and runs dry (EAGAIN)', async () => {
    // The second half comes well after the recipe has started reading, so a synchronous read finds
    // the pipe empty; the part read before must not be lost.
    const run = await runWithStdin(halves(specText()), 1_500, NON_BLOCKING_STDIN);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.lines.at(-1), { type: 'result', value: { count: 2, resumedFrom: 0 } });
  });

  it('refuses a spec that is not JSON, or not a valid spec, naming the field', async () => {
    const notJson = await runWithStdin(['{"jobId": '], 0);
    assert.equal(notJson.code, 2, notJson.stderr);
    assert.deepEqual(notJson.lines, [{ type: 'error', message: 'the spec on stdin is not JSON', recoverable: false }]);

    const invalid = await runWithStdin([JSON.stringify({ ...makeSpec(workDir()), attempt: 0 })], 0);
    assert.equal(invalid.code, 2, invalid.stderr);
    assert.equal(invalid.lines.length, 1);
    assert.equal(invalid.lines[0]?.type, 'error');
    assert.match(String(invalid.lines[0]?.message), /^invalid spec on stdin: attempt: expected a number ≥ 1$/);
  });
});
