import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isAnvilError, ErrorCodes } from '../../server/errors.ts';
import { liveGroupMembers } from '../../gpu-workers/process-group.ts';
import type { LogEvent, RecipeEvent } from '../../gpu-workers/protocol.ts';
import { baseRecipeEnv, entryCommand, LAST_LOG_LINES, runRecipe, startRecipe, type RunOptions } from '../../gpu-workers/runner.ts';
import { makeSpec, processGone, recipeFixture, recorder, waitForGroupToVanish, workDir } from './helpers.ts';

const node = (script: string): Pick<RunOptions, 'command' | 'args'> => ({ command: process.execPath, args: [recipeFixture(script)] });
const bash = (script: string): Pick<RunOptions, 'command' | 'args'> => ({ command: 'bash', args: [recipeFixture(script)] });
const inline = (code: string): Pick<RunOptions, 'command' | 'args'> => ({ command: process.execPath, args: ['-e', code] });

function options(dir: string, command: Pick<RunOptions, 'command' | 'args'>, onEvent: (event: RecipeEvent) => void, extra: Partial<RunOptions> = {}): RunOptions {
  return { ...command, spec: makeSpec(dir), cwd: dir, timeoutMs: 20_000, graceMs: 2_000, onEvent, ...extra };
}

const logs = (events: RecipeEvent[], level?: LogEvent['level']): LogEvent[] =>
  events.filter((event): event is LogEvent => event.type === 'log' && (level === undefined || event.level === level));

describe('recipe runner: the protocol end to end', () => {
  it('hands over the spec, reads every message type, and succeeds on exit 0 with one result', async () => {
    const dir = workDir();
    const { events, onEvent } = recorder();
    process.env.ANVIL_TEST_SECRET = 'worker credentials must not leak';
    let outcome;
    try {
      outcome = await runRecipe(options(dir, node('protocol-tour.mjs'), onEvent, { spec: makeSpec(dir, { jobId: 'job-42', params: { lr: 0.1 }, attempt: 2 }) }));
    } finally {
      delete process.env.ANVIL_TEST_SECRET;
    }
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome));
    if (outcome.status !== 'succeeded') return;
    // The result line had no trailing newline and still counted; the spec arrived intact.
    assert.deepEqual(outcome.result, {
      echoed: { jobId: 'job-42', recipe: 'test.recipe', params: { lr: 0.1 }, attempt: 2, cwd: dir, env: 'job-42', secret: null },
    });
    assert.deepEqual(outcome.lastCheckpoint, { step: 3, path: path.join(dir, 'ckpt-3.json'), state: { epoch: 1 } });

    const fromStdout = events.filter((event) => !(event.type === 'log' && (event.level === 'stderr' || event.level === 'runner')));
    assert.deepEqual(
      fromStdout.map((event) => (event.type === 'log' ? `log:${event.level}` : event.type === 'invalid' ? `invalid:${event.messageType ?? '-'}` : event.type)),
      [
        'log:info',
        'log:stdout', // plain print
        'log:stdout', // unknown type
        'metric', // "NaN"
        'metric', // bare NaN, as Python writes it
        'metric', // "Infinity"
        'metric', // split across two writes
        'invalid:metric', // step -1
        'checkpoint',
        'invalid:checkpoint', // outside the work dir
        'invalid:checkpoint', // file never written
        'artifact',
        'invalid:artifact', // bad sha256
        'log:stdout', // 2 MiB plain line, cut
        'invalid:-', // 1.5 MiB protocol line, cut
        'error',
        'result',
      ],
    );
    const metrics = events.filter((event) => event.type === 'metric');
    assert.ok(Number.isNaN(metrics[0]?.value) && Number.isNaN(metrics[1]?.value));
    assert.equal(metrics[2]?.value, Infinity);
    assert.deepEqual(metrics[3], { type: 'metric', step: 3, name: 'loss', value: 0.25 });

    const invalid = events.filter((event) => event.type === 'invalid');
    assert.match(invalid[1]?.message ?? '', /not a file inside the work dir/);
    assert.match(invalid[2]?.message ?? '', /does not exist/);
    assert.match(invalid[4]?.message ?? '', /exceeds the 1048576-byte limit/);
    // Each violation is also logged by the runner.
    assert.equal(logs(events, 'runner').filter((event) => event.message.startsWith('protocol violation')).length, invalid.length);

    const artifact = events.find((event) => event.type === 'artifact');
    assert.deepEqual(artifact, {
      type: 'artifact',
      name: 'model',
      path: path.join(dir, 'model.bin'),
      sha256: createHash('sha256').update('model bytes').digest('hex'),
      size: 11,
      mediaType: 'application/octet-stream',
    });
    const long = logs(events, 'stdout').find((event) => event.truncated);
    assert.ok(long && long.message.length === 4096 && /^x+$/.test(long.message));
    assert.deepEqual(
      logs(events, 'stderr').map((event) => event.message),
      ['warning: from stderr'],
    );
  });

  it('reports a recipe that prints garbage and exits 0 as failed/no-result, with the garbage', async () => {
    const dir = workDir();
    const { onEvent } = recorder();
    const outcome = await runRecipe(options(dir, node('garbage.mjs'), onEvent));
    assert.equal(outcome.status, 'failed');
    if (outcome.status !== 'failed') return;
    assert.equal(outcome.reason, 'no-result');
    assert.equal(outcome.exitCode, 0);
    assert.match(outcome.message, /exited 0 without writing a result line/);
    assert.deepEqual(outcome.lastLogs, [
      '[stdout] Epoch 1/3 ... loss=0.71',
      '[stdout] [1, 2, 3]',
      '[stdout] {"not": "a message"}',
      '[stdout] \u0000\u0001 binary-ish \uFFFD junk',
      '[stdout] done, I think',
    ]);
    assert.equal(outcome.unrecoverable, false);
  });

  it('reports a crash (exit 3) as failed/exit with the last log lines', async () => {
    const dir = workDir();
    const { onEvent } = recorder();
    const outcome = await runRecipe(options(dir, node('crash.mjs'), onEvent));
    assert.equal(outcome.status, 'failed');
    if (outcome.status !== 'failed') return;
    assert.equal(outcome.reason, 'exit');
    assert.equal(outcome.exitCode, 3);
    assert.match(outcome.message, /exited with code 3/);
    assert.equal(outcome.lastLogs.length, LAST_LOG_LINES);
    assert.deepEqual(outcome.lastLogs.slice(-3), [
      '[stderr] Traceback (most recent call last):',
      '[stderr]   File "train.py", line 42, in <module>',
      '[stderr] RuntimeError: CUDA error: device-side assert triggered',
    ]);
    assert.ok(outcome.lastLogs.includes('[info] working 25'));
    assert.ok(!outcome.lastLogs.includes('[info] working 1'), 'only the last lines are kept');
  });

  it('marks the failure unrecoverable when the recipe says so', async () => {
    const dir = workDir();
    const { events, onEvent } = recorder();
    const outcome = await runRecipe(options(dir, node('unrecoverable.mjs'), onEvent));
    assert.equal(outcome.status, 'failed');
    if (outcome.status !== 'failed') return;
    assert.equal(outcome.reason, 'exit');
    assert.equal(outcome.exitCode, 1);
    assert.equal(outcome.unrecoverable, true);
    assert.match(outcome.message, /exited with code 1: dataset "nope" does not exist/);
    assert.deepEqual(events[0], { type: 'error', message: 'dataset "nope" does not exist', recoverable: false });
  });

  it('refuses two results, and reports a recipe killed by a signal it did not get from us', async () => {
    const dir = workDir();
    const twice = await runRecipe(
      options(dir, inline(`for (let i = 0; i < 2; i++) console.log(JSON.stringify({ type: 'result', value: { i } }))`), () => undefined),
    );
    assert.ok(twice.status === 'failed' && twice.reason === 'no-result' && /2 result lines \(exactly one is required\)/.test(twice.message));

    const segv = await runRecipe(options(dir, { command: 'bash', args: ['-c', 'kill -SEGV $$'] }, () => undefined));
    assert.ok(segv.status === 'failed' && segv.reason === 'signal' && segv.signal === 'SIGSEGV' && segv.exitCode === null, JSON.stringify(segv));
  });

  it('copes with a recipe that never reads its spec', async () => {
    const dir = workDir();
    // 512 KiB of params: far more than a pipe buffer, so writing the spec meets EPIPE.
    const spec = makeSpec(dir, { params: { blob: 'p'.repeat(512 * 1024) } });
    const outcome = await runRecipe(options(dir, { command: 'bash', args: ['-c', 'exit 0'] }, () => undefined, { spec }));
    assert.ok(outcome.status === 'failed' && outcome.reason === 'no-result', JSON.stringify(outcome));
  });

  it('keeps the checkpoint a run resumed from when it reports no newer one', async () => {
    const dir = workDir();
    const checkpoint = { step: 7, path: path.join(dir, 'ckpt-7.json'), state: { epoch: 7 } };
    const outcome = await runRecipe(options(dir, { command: 'bash', args: ['-c', 'exit 1'] }, () => undefined, { spec: makeSpec(dir, { attempt: 3, resume: { checkpoint } }) }));
    assert.ok(outcome.status === 'failed' && outcome.reason === 'exit');
    assert.deepEqual(outcome.lastCheckpoint, checkpoint);
  });

  it('reports what cannot be started as failed/spawn', async () => {
    const dir = workDir();
    const missing = await runRecipe(options(dir, { command: path.join(dir, 'no-such-recipe') }, () => undefined));
    assert.ok(missing.status === 'failed' && missing.reason === 'spawn' && /ENOENT/.test(missing.message) && missing.pid === null, JSON.stringify(missing));
    const badCwd = await runRecipe(options(dir, node('garbage.mjs'), () => undefined, { cwd: path.join(dir, 'nowhere') }));
    assert.ok(badCwd.status === 'failed' && badCwd.reason === 'spawn', JSON.stringify(badCwd));
  });

  it('refuses invalid options before starting anything', () => {
    const dir = workDir();
    assert.throws(() => startRecipe(options(dir, node('garbage.mjs'), () => undefined, { timeoutMs: 0 })), (error) => isAnvilError(error, ErrorCodes.INVALID_INPUT));
    assert.throws(
      () => startRecipe(options(dir, node('garbage.mjs'), () => undefined, { spec: { ...makeSpec(dir), attempt: 0 } })),
      (error) => isAnvilError(error, ErrorCodes.INVALID_INPUT) && /attempt/.test(error.message),
    );
  });
});

describe('recipe runner: stopping, timeouts, and leftovers', () => {
  it('SIGKILLs a recipe that ignores SIGTERM, and its grandchild, after the grace period', async () => {
    const dir = workDir();
    const graceMs = 500;
    const { events, onEvent } = recorder();
    let grandchild = 0;
    let stoppedAt = 0;
    const run = startRecipe(
      options(dir, bash('stubborn.sh'), (event) => {
        onEvent(event);
        const match = event.type === 'log' ? /^grandchild (\d+)$/.exec(event.message) : null;
        if (match) {
          grandchild = Number(match[1]);
          stoppedAt = performance.now();
          run.stop('cancelled');
        }
      }, { graceMs }),
    );
    const pgid = run.pid;
    assert.ok(pgid !== undefined);
    const outcome = await run.outcome;
    const tookMs = performance.now() - stoppedAt;
    assert.equal(outcome.status, 'stopped');
    if (outcome.status !== 'stopped') return;
    assert.equal(outcome.why, 'cancelled');
    assert.equal(outcome.signal, 'SIGKILL');
    assert.deepEqual(outcome.leftoverPids, []);
    assert.ok(tookMs >= graceMs - 20, `waited the grace period (${tookMs} ms)`);
    assert.ok(tookMs < graceMs + 1_000, `and not much more (${tookMs} ms)`);
    // Both are dead the moment the outcome is known ...
    assert.ok(grandchild > 0 && processGone(grandchild), 'the grandchild is gone');
    assert.ok(processGone(pgid), 'the recipe is gone');
    assert.deepEqual(liveGroupMembers(pgid), []);
    // ... and the group disappears entirely once init has reaped the orphans.
    await waitForGroupToVanish(pgid);
    assert.match(logs(events, 'runner').map((event) => event.message).join('\n'), /SIGTERM to process group .*\n.*SIGKILL to process group/);
  });

  it('fails a recipe past its wall-clock limit as failed/timeout and leaves nothing behind', async () => {
    const dir = workDir();
    const { events, onEvent } = recorder();
    let grandchild = 0;
    const run = startRecipe(
      options(dir, bash('stubborn.sh'), (event) => {
        onEvent(event);
        const match = event.type === 'log' ? /^grandchild (\d+)$/.exec(event.message) : null;
        if (match) grandchild = Number(match[1]);
      }, { timeoutMs: 400, graceMs: 300 }),
    );
    const outcome = await run.outcome;
    assert.equal(outcome.status, 'failed');
    if (outcome.status !== 'failed') return;
    assert.equal(outcome.reason, 'timeout');
    assert.match(outcome.message, /wall-clock limit of 400 ms/);
    assert.ok(outcome.durationMs >= 700 && outcome.durationMs < 2_000, `${outcome.durationMs} ms`);
    assert.ok(outcome.lastLogs.some((line) => line.startsWith('[runner] stopping (wall-clock limit of 400 ms reached)')));
    assert.ok(grandchild > 0 && processGone(grandchild));
    assert.ok(run.pid !== undefined);
    assert.deepEqual(liveGroupMembers(run.pid), []);
    await waitForGroupToVanish(run.pid);
    assert.ok(logs(events, 'info').length > 0);
  });

  it('cleans up what a successful recipe left running in its group', async () => {
    const dir = workDir();
    const { events, onEvent } = recorder();
    const run = startRecipe(options(dir, bash('leaves-child.sh'), onEvent, { graceMs: 1_000 }));
    const outcome = await run.outcome;
    assert.equal(outcome.status, 'succeeded');
    assert.ok(outcome.status === 'succeeded' && outcome.result.ok === true);
    assert.ok(run.pid !== undefined);
    assert.deepEqual(liveGroupMembers(run.pid), []);
    assert.ok(outcome.durationMs < 1_000, 'the leftover took SIGTERM without needing the grace period');
    assert.match(logs(events, 'runner')[0]?.message ?? '', /recipe exited; 1 process\(es\) left in its group/);
  });

  it('stops a recipe whose event consumer throws, and rejects with ANVIL_E_INTERNAL', async () => {
    const dir = workDir();
    const run = startRecipe(
      options(dir, { command: 'bash', args: ['-c', 'echo hello; sleep 300; echo never'] }, (event) => {
        if (event.type === 'log' && event.level === 'stdout') throw new Error('database down');
      }),
    );
    await assert.rejects(run.outcome, (error) => isAnvilError(error, ErrorCodes.INTERNAL) && /database down/.test(error.message));
    assert.ok(run.pid !== undefined);
    assert.deepEqual(liveGroupMembers(run.pid), []);
  });

  it('does not start a recipe whose signal is already aborted', async () => {
    const dir = workDir();
    const controller = new AbortController();
    controller.abort();
    const run = startRecipe(options(dir, node('garbage.mjs'), () => assert.fail('no events'), { signal: controller.signal }));
    assert.equal(run.pid, undefined);
    assert.deepEqual(await run.outcome, { status: 'stopped', why: 'cancelled', pid: null, durationMs: 0, lastCheckpoint: null, leftoverPids: [], exitCode: null, signal: null });
  });
});

describe('entry commands and the recipe environment', () => {
  it('starts TypeScript through tsx with an absolute loader, JavaScript with node, anything else directly', () => {
    const ts = entryCommand(new URL('../../gpu-workers/recipes/diagnostics-counter.ts', import.meta.url));
    assert.equal(ts.command, process.execPath);
    assert.equal(ts.args[0], '--import');
    assert.match(ts.args[1] ?? '', /^file:\/\/\/.*\/node_modules\/tsx\/.*\.mjs$/);
    assert.equal(ts.args[2], fileURLToPath(new URL('../../gpu-workers/recipes/diagnostics-counter.ts', import.meta.url)));
    assert.deepEqual(entryCommand('/opt/recipes/train.mjs'), { command: process.execPath, args: ['/opt/recipes/train.mjs'] });
    assert.deepEqual(entryCommand('file:///opt/recipes/train.js'), { command: process.execPath, args: ['/opt/recipes/train.js'] });
    assert.deepEqual(entryCommand('/opt/recipes/train.py'), { command: '/opt/recipes/train.py', args: [] });
    assert.deepEqual(entryCommand('recipes/run.sh'), { command: path.resolve('recipes/run.sh'), args: [] });
    assert.deepEqual(entryCommand('my-recipe'), { command: 'my-recipe', args: [] });
  });

  it('passes programs what they need but not the worker secrets', () => {
    assert.deepEqual(baseRecipeEnv({ PATH: '/bin', HOME: '/root', LC_ALL: 'C', CUDA_HOME: '/cuda', REDIS_URL: 'redis://x', ANVIL_TOKEN: 't', DATABASE_URL: 'pg://' }), {
      PATH: '/bin',
      HOME: '/root',
      LC_ALL: 'C',
      CUDA_HOME: '/cuda',
    });
  });
});
