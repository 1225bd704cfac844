/**
 * A small cluster on loopback: one `anvil serve` on Postgres + Redis, and two `anvil worker`
 * processes with SIMULATED GPU inventories (test/fixtures/nvidia-smi prints recorded-style output;
 * there is no GPU here). Jobs go only where they can run; a worker killed with SIGKILL mid-job loses
 * its lease and the job finishes on the other worker from its checkpoint with the same result; a
 * cancel reaches the recipe on whichever node runs it; blob uploads are checked by content.
 *
 * Needs DATABASE_URL and REDIS_URL; skipped without them, failed without them when
 * ANVIL_TEST_REQUIRE_SERVICES=1 (CI).
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { type AnvilServerProcess, type CreatedKey, connectHttp, isRecord, type McpHttpSession, startAnvil } from '../support/anvil-process.ts';
import { createTempDatabase, type TempDatabase } from '../support/temp-db.ts';
import { startWorker, type WorkerProcess } from '../support/worker-process.ts';
import { jobProcesses, waitFor } from '../jobs/support.ts';

const missing = (['DATABASE_URL', 'REDIS_URL'] as const).filter((name) => !process.env[name]);
const required = process.env.ANVIL_TEST_REQUIRE_SERVICES === '1';
const skip = missing.length > 0 && !required ? `skipped: ${missing.join(' and ')} not set` : false;
const simulatedGpus = (name: string): string => fileURLToPath(new URL(`../fixtures/nvidia-smi/${name}`, import.meta.url));

type JobView = Record<string, unknown> & { state: string; worker?: string | null; result?: unknown; attempt?: number };

describe('a cluster: anvil serve + two anvil workers on simulated GPUs', { skip }, () => {
  let db: TempDatabase | undefined;
  let server: AnvilServerProcess | undefined;
  let caller: CreatedKey;
  let workerKey: CreatedKey;
  let session: McpHttpSession;
  const workers = new Map<string, WorkerProcess>();

  const call = async (tool: string, args: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const outcome = await session.callTool(tool, args);
    assert.equal(outcome.isError, false, `${tool}: ${outcome.text}`);
    assert.ok(outcome.structured, `${tool} returned no structured content`);
    return outcome.structured;
  };
  const getJob = async (id: string): Promise<JobView> => (await call('jobs_get', { id })) as JobView;
  const waitForJob = (id: string, states: readonly string[], timeoutMs = 60_000) =>
    waitFor(`job ${id} in ${states.join('|')}`, async () => {
      const job = await getJob(id);
      return states.includes(job.state) ? job : undefined;
    }, timeoutMs, 100);
  const submit = async (args: Record<string, unknown>): Promise<string> => String((await call('jobs_submit', args)).id);

  before(async () => {
    if (missing.length > 0) throw new Error(`${missing.join(' and ')} not set, but ANVIL_TEST_REQUIRE_SERVICES=1 requires the cluster to be tested`);
    db = await createTempDatabase();
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: process.env.REDIS_URL,
      // Each run its own BullMQ keys and control channel on the shared Redis.
      ANVIL_QUEUE_PREFIX: `t${randomUUID().slice(0, 8)}`,
      ANVIL_JOBS_LEASE_MS: '2500',
      ANVIL_JOBS_HEARTBEAT_MS: '300',
      ANVIL_JOBS_SWEEP_MS: '200',
      ANVIL_JOBS_GRACE_MS: '3000',
      ANVIL_JOBS_RETRY_BACKOFF_MS: '100',
    };
    server = await startAnvil({ freshHome: true, env });
    // The operator's view of the cluster (every worker with its telemetry) needs cluster:observe.
    caller = await server.createKey('default', '*,cluster:observe');
    workerKey = await server.createKey('default', 'workers:join', 'workers');
    const workerEnv = { REDIS_URL: env.REDIS_URL, ANVIL_QUEUE_PREFIX: env.ANVIL_QUEUE_PREFIX };
    const [a100, t4] = await Promise.all([
      startWorker({ server: server.baseUrl, token: workerKey.key, name: 'node-a100', slots: 2, env: { ...workerEnv, ANVIL_NVIDIA_SMI: simulatedGpus('a100x2') } }),
      startWorker({ server: server.baseUrl, token: workerKey.key, name: 'node-t4', slots: 2, env: { ...workerEnv, ANVIL_NVIDIA_SMI: simulatedGpus('t4x1') } }),
    ]);
    workers.set(a100.name, a100).set(t4.name, t4);
    session = await connectHttp('sdk2', server.mcpUrl, { key: caller.key });
  });

  after(async () => {
    await session?.close().catch(() => {});
    await Promise.all([...workers.values()].map((worker) => worker.stop(5_000).catch(() => undefined)));
    await server?.dispose();
    await db?.drop();
  });

  it('both workers register with the classes their simulated GPUs give them', async () => {
    const listed = await call('workers_list', {});
    const byName = new Map((listed.workers as Array<Record<string, unknown>>).map((worker) => [worker.name, worker]));
    assert.deepEqual((byName.get('node-a100')?.classes as string[]).sort(), ['cpu', 'gpu-a100', 'gpu-any']);
    assert.deepEqual((byName.get('node-t4')?.classes as string[]).sort(), ['cpu', 'gpu-any', 'gpu-t4']);
    // Heartbeats carry telemetry, GPUs re-read from (simulated) nvidia-smi.
    const telemetry = await waitFor('a heartbeat', async () => {
      const again = (await call('workers_list', {})).workers as Array<Record<string, unknown>>;
      const a100 = again.find((worker) => worker.name === 'node-a100')?.telemetry as { gpus?: Array<{ utilizationPct: number }> } | null;
      return a100?.gpus ? a100 : undefined;
    }, 10_000, 200);
    assert.deepEqual(telemetry.gpus?.map((gpu) => gpu.utilizationPct), [0, 87]);
  });

  it('jobs run only on a worker that can serve them', async () => {
    const params = { steps: 2, stepMs: 10 };
    const onA100 = await submit({ recipe: 'diagnostics.counter', params, resources: { gpus: 2, gpuType: 'a100', minVramGb: 80 } });
    const onT4 = await submit({ recipe: 'diagnostics.counter', params, resources: { gpus: 1, gpuType: 't4' } });
    const nowhere = await submit({ recipe: 'diagnostics.counter', params, resources: { gpus: 1, gpuType: 'h100' } });
    // Any GPU type, but two of them: the T4 node (one GPU) consumes gpu-any too and must hand it back.
    const twoAny = await Promise.all([0, 1, 2].map(() => submit({ recipe: 'diagnostics.counter', params, resources: { gpus: 2 } })));
    assert.equal((await waitForJob(onA100, ['succeeded', 'failed'])).worker, 'node-a100');
    assert.equal((await waitForJob(onT4, ['succeeded', 'failed'])).worker, 'node-t4');
    for (const id of twoAny) assert.equal((await waitForJob(id, ['succeeded', 'failed'])).worker, 'node-a100');
    const waiting = await getJob(nowhere);
    assert.equal(waiting.state, 'queued');
    const explained = await call('jobs_explain', { id: nowhere });
    assert.match(JSON.stringify(explained), /h100/);
    const cancelled = await call('jobs_cancel', { id: nowhere });
    assert.equal(cancelled.outcome, 'cancelled');
  });

  it('kill -9 a worker mid-job: the job finishes on the other worker from its checkpoint, with the same result', async () => {
    const id = await submit({ recipe: 'diagnostics.counter', params: { steps: 40, stepMs: 100 }, resources: { gpus: 1 } });
    const running = await waitFor('a few checkpoints', async () => {
      const job = await getJob(id);
      const step = isRecord(job.checkpoint) ? Number(job.checkpoint.step) : Number(job.checkpointStep ?? 0);
      return job.state === 'running' && step >= 5 ? job : undefined;
    }, 30_000, 100);
    const victim = workers.get(String(running.worker));
    assert.ok(victim, `running on ${String(running.worker)}`);
    const orphans = jobProcesses(id);
    assert.ok(orphans.length > 0, 'the recipe runs');
    await victim.kill();
    workers.delete(victim.name);
    // The recipe notices its worker is gone (the pipe on fd 3 reaches end-of-file) and exits itself.
    await waitFor('the orphaned recipe to exit', async () => !jobProcesses(id).some((pid) => orphans.includes(pid)), 2_000, 25);
    const done = await waitForJob(id, ['succeeded', 'failed'], 60_000);
    assert.equal(done.state, 'succeeded', JSON.stringify(done));
    assert.notEqual(done.worker, victim.name);
    const result = done.result as { count: number; resumedFrom: number };
    assert.equal(result.count, 40);
    assert.ok(result.resumedFrom >= 5, `resumed from ${result.resumedFrom}`);
    const listed = await call('workers_list', {});
    const lost = (listed.workers as Array<Record<string, unknown>>).find((worker) => worker.name === victim.name);
    assert.equal(lost?.state, 'lost');
  });

  it('cancel reaches the recipe on the worker running it; its process group is gone within the grace period', async () => {
    const id = await submit({ recipe: 'diagnostics.counter', params: { steps: 100_000, stepMs: 20 } });
    await waitForJob(id, ['running']);
    await waitFor('the recipe process', async () => jobProcesses(id).length > 0, 10_000);
    const asked = Date.now();
    const answer = await call('jobs_cancel', { id });
    assert.equal(answer.outcome, 'cancel-requested');
    const done = await waitForJob(id, ['cancelled', 'succeeded', 'failed'], 10_000);
    assert.equal(done.state, 'cancelled');
    await waitFor('no process left', async () => jobProcesses(id).length === 0, 4_000);
    assert.ok(Date.now() - asked < 4_000, `took ${Date.now() - asked} ms`);
  });

  it('a blob whose content does not match its sha256 is refused and not stored; workers:join is required', async () => {
    const base = (server as AnvilServerProcess).baseUrl;
    const sha = createHash('sha256').update('the real bytes').digest('hex');
    const put = (body: string, key: string) =>
      fetch(`${base}/api/blobs/${sha}`, { method: 'PUT', body, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' } });
    const wrong = await put('tampered bytes', workerKey.key);
    assert.equal(wrong.status, 422);
    assert.equal(((await wrong.json()) as { error: { code: string } }).error.code, 'ANVIL_E_CHECKSUM_MISMATCH');
    const missingBlob = await fetch(`${base}/api/blobs/${sha}`, { headers: { authorization: `Bearer ${workerKey.key}` } });
    assert.equal(missingBlob.status, 404);
    const forbidden = await fetch(`${base}/api/blobs/${sha}`, { method: 'PUT', body: 'the real bytes', headers: { authorization: `Bearer ${caller.key}` } });
    assert.equal(forbidden.status, 403, "a project's * key does not include the operator scope workers:join");
    assert.equal((await put('the real bytes', workerKey.key)).status, 200);
    const fetched = await fetch(`${base}/api/blobs/${sha}`, { headers: { authorization: `Bearer ${workerKey.key}` } });
    assert.equal(fetched.status, 200);
    assert.equal(await fetched.text(), 'the real bytes');
    const jobsOnly = await (server as AnvilServerProcess).createKey('default', 'jobs:read');
    const denied = await fetch(`${base}/api/blobs/${sha}`, { headers: { authorization: `Bearer ${jobsOnly.key}` } });
    assert.equal(denied.status, 403);
  });
});
