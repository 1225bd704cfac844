/**
 * GPU telemetry history (worker_samples): heartbeats of a worker with a SIMULATED GPU inventory
 * (two "A100"s whose readings this test makes up; there is no GPU here) go through the job service
 * as `anvil worker`'s do, are buffered, flushed in one transaction by the plugin's `telemetry-flush`
 * timer, pruned by retention (at most once per telemetryPruneMs), and read back downsampled with `workers_telemetry`: by an operator
 * (cluster:observe) only; a project's key is refused. On embedded PGlite, and on Postgres when
 * DATABASE_URL is set.
 */
import { after, before, describe, it as test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestHost, flatten, type TestHost } from 'anvil/testing';
import { jobsPlugin } from '../../tools/jobs/index.ts';
import type { JobsRuntime } from '../../tools/jobs/runtime.ts';
import { gpuReadings, TelemetryRecorder } from '../../tools/jobs/telemetry.ts';
import { requireService, skipUnless } from '../support/backends.ts';
import { createTempDatabase } from '../support/temp-db.ts';

interface Opened {
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

function telemetrySuite(backend: string, skip: string | undefined, open: () => Promise<Opened>): void {
  describe(`GPU telemetry history on ${backend}`, { skip }, () => {
    let host: TestHost;
    let jobs: JobsRuntime;
    let workerId: string;

    const simulatedA100s = (utilization: number) => ({
      gpus: [
        { index: 0, name: 'NVIDIA A100-SXM4-80GB (simulated)', utilizationPct: utilization, memoryUsedMb: 1000 + utilization, temperatureC: 40 + utilization / 10 },
        { index: 1, name: 'NVIDIA A100-SXM4-80GB (simulated)', utilizationPct: 0, memoryUsedMb: 0, temperatureC: 35 },
      ],
    });

    const count = async (): Promise<number> => Number((await jobs.sql.query<{ n: number }>('select count(*)::int as n from {{schema}}.worker_samples')).rows[0]?.n);

    let opened: Opened | undefined;

    before(async () => {
      opened = await open();
      // Every heartbeat sampled, no timer flush during the test (runScheduled flushes), every flush prunes.
      host = await createTestHost({
        plugins: [],
        env: opened.env,
        config: { jobs: { localWorker: 'off', telemetrySampleMs: 0, telemetryFlushMs: 600_000, telemetryRetentionHours: 1, telemetryPruneMs: 0 } },
      });
      const exported = host.server.plugins.exportsOf(jobsPlugin);
      assert.ok(exported, 'the jobs plugin is active');
      jobs = exported.jobs();
      const capabilities = { gpus: simulatedA100s(0).gpus.map(({ index, name }) => ({ index, name, gpuType: 'a100', memoryTotalMb: 81920 })), simulated: true };
      workerId = (await jobs.service.register({ name: 'sim-a100', capabilities, resourceClasses: ['gpu-a100'], slots: 1, recipes: [] })).workerId;
    });

    after(async () => {
      await host?.close();
      await opened?.cleanup();
    });

    test('heartbeats are stored as samples only when flushed, in one batch; workers_telemetry reads them back for an operator', async () => {
      const before = await count();
      for (const utilization of [10, 20, 30]) await jobs.service.heartbeat(workerId, { telemetry: simulatedA100s(utilization), running: [] });
      // Nothing written on the heartbeat path.
      assert.equal(await count(), before);
      await host.runScheduled('jobs', 'telemetry-flush');
      assert.equal(await count(), before + 6);

      const operator = await host.connect({ project: 'ops', name: 'operator', scopes: ['workers:read', 'cluster:observe'] });
      const read = flatten(await operator.callTool({ name: 'workers_telemetry', arguments: { worker: 'sim-a100', minutes: 5 } }));
      assert.equal(read.isError, false, read.text);
      const series = read.structured?.series as Array<{ worker: string; gpu: number; points: Array<{ utilizationPct: number; samples: number; memoryUsedMb: number }> }>;
      assert.deepEqual(series.map((entry) => [entry.worker, entry.gpu]), [['sim-a100', 0], ['sim-a100', 1]]);
      const gpu0 = series[0]!.points;
      const samples = gpu0.reduce((sum, point) => sum + point.samples, 0);
      assert.equal(samples, 3);
      const mean = gpu0.reduce((sum, point) => sum + point.utilizationPct * point.samples, 0) / samples;
      assert.ok(Math.abs(mean - 20) < 0.01, `mean utilisation ${mean}`);
    });

    test('downsampling: at most maxPoints points per GPU, each the mean of its bucket', async () => {
      const recorder = jobs.telemetry;
      const now = Date.now();
      // 40 readings one second apart within the last 40 s: one minute cut into 5 buckets of 12 s holds them in at most 5.
      for (let i = 0; i < 40; i += 1) recorder.offer(workerId, { gpus: [{ index: 7, utilizationPct: i, memoryUsedMb: 2 * i, temperatureC: 50 }] }, new Date(now - 40_000 + i * 1000));
      await host.runScheduled('jobs', 'telemetry-flush');
      const read = await host.call('workers_telemetry', { minutes: 1, maxPoints: 5 });
      // The default principal holds `*`, which does not include the operator scope.
      assert.match(read.text, /ANVIL_E_FORBIDDEN/);
      const operator = await host.connect({ project: 'ops', name: 'operator', scopes: ['workers:read', 'cluster:operate'] });
      const answer = flatten(await operator.callTool({ name: 'workers_telemetry', arguments: { minutes: 1, maxPoints: 5 } }));
      assert.equal(answer.isError, false, answer.text);
      assert.equal(answer.structured?.bucketSeconds, 12);
      const gpu7 = (answer.structured?.series as Array<{ gpu: number; points: Array<{ at: string; utilizationPct: number; memoryUsedMb: number; samples: number }> }>).find((entry) => entry.gpu === 7);
      assert.ok(gpu7);
      assert.ok(gpu7.points.length <= 5 && gpu7.points.length >= 4, `${gpu7.points.length} points`);
      assert.equal(gpu7.points.reduce((sum, point) => sum + point.samples, 0), 40);
      for (const point of gpu7.points) {
        // Each bucket holds consecutive readings i..j, so its mean memory is twice its mean utilisation.
        assert.ok(Math.abs(point.memoryUsedMb - 2 * point.utilizationPct) < 0.2, JSON.stringify(point));
      }
      const times = gpu7.points.map((point) => Date.parse(point.at));
      assert.deepEqual(times, [...times].sort((a, b) => a - b));
    });

    test('retention: samples older than telemetryRetentionHours are deleted by the flush that writes new ones', async () => {
      const recorder = jobs.telemetry;
      const hour = 3_600_000;
      recorder.offer(workerId, { gpus: [{ index: 3, utilizationPct: 99, memoryUsedMb: 1, temperatureC: 80 }] }, new Date(Date.now() - 2 * hour));
      recorder.offer(workerId, { gpus: [{ index: 3, utilizationPct: 50, memoryUsedMb: 1, temperatureC: 60 }] }, new Date(Date.now() - 0.5 * hour));
      await host.runScheduled('jobs', 'telemetry-flush');
      const rows = (await jobs.sql.query<{ utilization_pct: number }>('select utilization_pct from {{schema}}.worker_samples where gpu_index = 3')).rows;
      assert.deepEqual(rows.map((row) => row.utilization_pct), [50]);

      // The retention also caps how far back a read goes.
      const operator = await host.connect({ project: 'ops', name: 'operator', scopes: ['workers:read', 'cluster:observe'] });
      const answer = flatten(await operator.callTool({ name: 'workers_telemetry', arguments: { minutes: 600 } }));
      assert.equal(answer.isError, false, answer.text);
      assert.equal(Date.parse(String(answer.structured?.to)) - Date.parse(String(answer.structured?.from)), hour);
    });

    test('the retention delete runs at most once per pruneMs: a flush within it leaves expired samples, the first flush past it deletes them', async () => {
      const hour = 3_600_000;
      let clock = 1_000_000;
      const recorder = new TelemetryRecorder(jobs.sql, { sampleMs: 0, retentionMs: hour, pruneMs: 60_000, bufferMax: 100 }, host.server.runtime.log, () => clock);
      const reading = (utilizationPct: number) => ({ gpus: [{ index: 11, utilizationPct, memoryUsedMb: 1, temperatureC: 50 }] });
      const stored = async (): Promise<number[]> =>
        (await jobs.sql.query<{ utilization_pct: number }>('select utilization_pct from {{schema}}.worker_samples where gpu_index = 11 order by utilization_pct')).rows.map((row) => row.utilization_pct);

      // The first flush prunes, in the transaction that wrote the expired sample.
      recorder.offer(workerId, reading(1), new Date(Date.now() - 2 * hour));
      recorder.offer(workerId, reading(2), new Date());
      assert.equal(await recorder.flush(), 2);
      assert.deepEqual(await stored(), [2]);

      // 59 s later: the new samples are written, the expired one is not deleted.
      clock += 59_000;
      recorder.offer(workerId, reading(3), new Date(Date.now() - 2 * hour));
      recorder.offer(workerId, reading(4), new Date());
      assert.equal(await recorder.flush(), 2);
      assert.deepEqual(await stored(), [2, 3, 4]);

      // 60 s after the last prune: the next flush deletes it, even with nothing to write.
      clock += 1_000;
      assert.equal(await recorder.flush(), 0);
      assert.deepEqual(await stored(), [2, 4]);

      // And the interval starts again from that prune.
      recorder.offer(workerId, reading(5), new Date(Date.now() - 2 * hour));
      clock += 59_999;
      assert.equal(await recorder.flush(), 1);
      assert.deepEqual(await stored(), [2, 4, 5]);
      clock += 1;
      await recorder.flush();
      assert.deepEqual(await stored(), [2, 4]);
    });

    test('sampling: at most one sample per worker per telemetrySampleMs; a full buffer drops the oldest', async () => {
      const log = host.server.runtime.log;
      const recorder = new TelemetryRecorder(jobs.sql, { sampleMs: 60_000, retentionMs: 3_600_000, pruneMs: 60_000, bufferMax: 3 }, log);
      const t0 = Date.now();
      recorder.offer('w-a', simulatedA100s(1), new Date(t0));
      recorder.offer('w-a', simulatedA100s(2), new Date(t0 + 1000));
      recorder.offer('w-b', simulatedA100s(3), new Date(t0));
      // Two GPUs per sample: 4 rows offered, the buffer holds 3.
      assert.equal(recorder.dropped, 1);
      assert.equal(await recorder.flush(), 3);
      assert.equal(await recorder.flush(), 0);
    });

    test('a project key is refused the history, and readings it cannot parse are ignored', async () => {
      const project = await host.connect({ project: 'alpha', name: 'person', scopes: ['workers:read', 'jobs:read'] });
      const refused = flatten(await project.callTool({ name: 'workers_telemetry', arguments: {} }));
      assert.equal(refused.isError, true);
      assert.match(refused.text, /ANVIL_E_FORBIDDEN.*cluster:observe/);
      const listed = flatten(await project.callTool({ name: 'workers_list', arguments: {} }));
      assert.equal(listed.isError, false, listed.text);
      assert.deepEqual(listed.structured?.workers, []);

      assert.deepEqual(gpuReadings({ gpus: [{ index: -1, utilizationPct: 1 }, { index: 0, utilizationPct: 'x' }, { index: 1, utilizationPct: 5 }, { index: 1, utilizationPct: 6 }] }), [
        { gpuIndex: 1, utilizationPct: 5, memoryUsedMb: null, temperatureC: null },
      ]);
      assert.deepEqual(gpuReadings(null), []);
    });
  });
}

telemetrySuite('pglite', undefined, async () => ({ env: {}, cleanup: async () => {} }));
telemetrySuite('postgres', skipUnless('DATABASE_URL'), async () => {
  requireService('DATABASE_URL');
  const db = await createTempDatabase();
  return { env: { DATABASE_URL: db.url }, cleanup: () => db.drop() };
});
