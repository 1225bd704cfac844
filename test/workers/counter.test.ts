import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { liveGroupMembers } from '../../gpu-workers/process-group.ts';
import type { CheckpointEvent, CheckpointRef, MetricEvent, RecipeEvent } from '../../gpu-workers/protocol.ts';
import { diagnosticsCounter, diagnosticsCounterParams } from '../../gpu-workers/recipes/index.ts';
import { entryCommand, runRecipe, startRecipe, type RunOptions, type RunOutcome } from '../../gpu-workers/runner.ts';
import { makeSpec, recorder, waitForGroupToVanish, workDir } from './helpers.ts';

// The built-in `diagnostics.counter`, started the way a worker starts it: from its descriptor's
// entry, as a TypeScript child process through tsx, in a work dir outside the repository.
const entry = entryCommand(diagnosticsCounter.entry);

function counter(dir: string, params: Record<string, unknown>, onEvent: (event: RecipeEvent) => void, extra: Partial<RunOptions> = {}): RunOptions {
  return {
    ...entry,
    spec: makeSpec(dir, { recipe: diagnosticsCounter.name, params }),
    cwd: dir,
    timeoutMs: 30_000,
    graceMs: 5_000,
    onEvent,
    ...extra,
  };
}

const checkpoints = (events: RecipeEvent[]): CheckpointEvent[] => events.filter((event): event is CheckpointEvent => event.type === 'checkpoint');
const metrics = (events: RecipeEvent[]): MetricEvent[] => events.filter((event): event is MetricEvent => event.type === 'metric');

function succeeded(outcome: RunOutcome): Record<string, unknown> {
  assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome));
  return outcome.status === 'succeeded' ? outcome.result : {};
}

function resumeFrom(dir: string, params: Record<string, unknown>, checkpoint: CheckpointRef, onEvent: (event: RecipeEvent) => void): RunOptions {
  return { ...counter(dir, params, onEvent), spec: makeSpec(dir, { recipe: diagnosticsCounter.name, params, attempt: 2, resume: { checkpoint } }) };
}

describe('diagnostics.counter', () => {
  it('is described for the plugin API', () => {
    assert.equal(diagnosticsCounter.name, 'diagnostics.counter');
    assert.ok(diagnosticsCounter.entry instanceof URL && diagnosticsCounter.entry.pathname.endsWith('/gpu-workers/recipes/diagnostics-counter.ts'));
    assert.equal(diagnosticsCounterParams.safeParse({ steps: 3, stepMs: 0 }).success, true);
    assert.equal(diagnosticsCounterParams.safeParse({ steps: 0, stepMs: 0 }).success, false);
    assert.equal(diagnosticsCounterParams.safeParse({ steps: 100_001, stepMs: 0 }).success, false);
    assert.equal(diagnosticsCounterParams.safeParse({ steps: 5, stepMs: 60_001 }).success, false);
  });

  it('counts to the end with one checkpoint and one metric per step', async () => {
    const dir = workDir();
    const { events, onEvent } = recorder();
    const outcome = await runRecipe(counter(dir, { steps: 5, stepMs: 5 }, onEvent));
    assert.deepEqual(succeeded(outcome), { count: 5, resumedFrom: 0 });
    assert.deepEqual(
      checkpoints(events).map((event) => [event.step, event.path, event.state]),
      [1, 2, 3, 4, 5].map((n) => [n, path.join(dir, `checkpoint-${n}.json`), { count: n }]),
    );
    assert.deepEqual(
      metrics(events).map((event) => [event.step, event.name, event.value]),
      [1, 2, 3, 4, 5].map((n) => [n, 'count', n]),
    );
    assert.equal(outcome.lastCheckpoint?.step, 5);
    // The files are really there, complete, and no temporary file is left over.
    assert.deepEqual(readdirSync(dir).sort(), [1, 2, 3, 4, 5].map((n) => `checkpoint-${n}.json`).sort());
    assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'checkpoint-3.json'), 'utf8')), { count: 3 });
    assert.equal(events.filter((event) => event.type === 'invalid').length, 0);
  });

  it('resumes from a checkpoint to the same final count, from its state or from its file', async () => {
    const dir = workDir();
    const first = recorder();
    await runRecipe(counter(dir, { steps: 2, stepMs: 0 }, first.onEvent));
    const checkpoint = checkpoints(first.events).at(-1);
    assert.ok(checkpoint);

    const fromState = recorder();
    const resumed = await runRecipe(resumeFrom(dir, { steps: 5, stepMs: 0 }, { step: checkpoint.step, path: checkpoint.path, state: { count: 2 } }, fromState.onEvent));
    assert.deepEqual(succeeded(resumed), { count: 5, resumedFrom: 2 });
    assert.deepEqual(
      checkpoints(fromState.events).map((event) => event.step),
      [3, 4, 5],
    );

    const fromFile = recorder();
    const resumedFromFile = await runRecipe(resumeFrom(dir, { steps: 5, stepMs: 0 }, { step: 2, path: checkpoint.path }, fromFile.onEvent));
    assert.deepEqual(succeeded(resumedFromFile), { count: 5, resumedFrom: 2 });
  });

  it('checkpoints and stops when preempted; resuming from that checkpoint ends like an uninterrupted run', async () => {
    const params = { steps: 20, stepMs: 25 };
    const uninterrupted = await runRecipe(counter(workDir(), params, () => undefined));
    const expected = succeeded(uninterrupted);
    assert.deepEqual(expected, { count: 20, resumedFrom: 0 });

    const dir = workDir();
    const { events, onEvent } = recorder();
    const run = startRecipe(
      counter(dir, params, (event) => {
        onEvent(event);
        if (event.type === 'checkpoint' && event.step === 5) run.stop('preempted');
      }),
    );
    const stopped = await run.outcome;
    assert.equal(stopped.status, 'stopped', JSON.stringify(stopped));
    if (stopped.status !== 'stopped') return;
    assert.equal(stopped.why, 'preempted');
    assert.equal(stopped.exitCode, 143, 'the counter exits 143 after its SIGTERM checkpoint');
    const last = stopped.lastCheckpoint;
    assert.ok(last && last.step >= 5 && last.step < 20, JSON.stringify(last));
    assert.deepEqual(last.state, { count: last.step });
    assert.deepEqual(JSON.parse(readFileSync(last.path, 'utf8')), { count: last.step });
    assert.ok(events.some((event) => event.type === 'log' && /SIGTERM: checkpointed at count/.test(event.message)));
    assert.ok(run.pid !== undefined);
    assert.deepEqual(liveGroupMembers(run.pid), []);
    await waitForGroupToVanish(run.pid);

    // The requeued attempt: same params, resumed from the checkpoint the preempted run left.
    const second = recorder();
    const resumed = await runRecipe(resumeFrom(dir, params, last, second.onEvent));
    const result = succeeded(resumed);
    assert.equal(result.count, expected.count);
    assert.equal(result.resumedFrom, last.step);
    assert.equal(checkpoints(second.events)[0]?.step, last.step + 1, 'no step is counted twice');
  });

  it('is cancelled through an AbortSignal', async () => {
    const dir = workDir();
    const controller = new AbortController();
    const run = startRecipe(
      counter(dir, { steps: 1000, stepMs: 20 }, (event) => {
        if (event.type === 'metric' && event.step === 2) controller.abort();
      }, { signal: controller.signal }),
    );
    const outcome = await run.outcome;
    assert.ok(outcome.status === 'stopped' && outcome.why === 'cancelled', JSON.stringify(outcome));
    assert.ok((outcome.lastCheckpoint?.step ?? 0) >= 2);
  });

  it('checkpoints on SIGTERM when its wall-clock limit passes (failed/timeout, resumable)', async () => {
    const dir = workDir();
    const outcome = await runRecipe(counter(dir, { steps: 1000, stepMs: 20 }, () => undefined, { timeoutMs: 2_000 }));
    assert.equal(outcome.status, 'failed');
    if (outcome.status !== 'failed') return;
    assert.equal(outcome.reason, 'timeout');
    assert.equal(outcome.exitCode, 143);
    assert.ok(outcome.lastCheckpoint !== null && outcome.lastCheckpoint.step > 0);
    assert.equal(outcome.unrecoverable, false);
  });

  it('refuses bad params as an unrecoverable error (exit 2)', async () => {
    const dir = workDir();
    const { events, onEvent } = recorder();
    const outcome = await runRecipe(counter(dir, { steps: 0, stepMs: 'fast' }, onEvent));
    assert.equal(outcome.status, 'failed');
    if (outcome.status !== 'failed') return;
    assert.equal(outcome.reason, 'exit');
    assert.equal(outcome.exitCode, 2);
    assert.equal(outcome.unrecoverable, true);
    assert.match(outcome.message, /invalid params for diagnostics\.counter: steps: .*; stepMs: /);
    assert.equal(events.length, 1);
  });
});
