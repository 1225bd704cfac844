/**
 * The deployments plugin's configuration, deletion and log retention, through real MCP clients on
 * an in-process Anvil (embedded PGlite, the local worker) whose anvil.config.json has a
 * `deployments` section:
 * - the section reaches the plugin (defaults of new deployments, deleteIdleSeconds, retention);
 *   a bad value is refused at load with its key named; a partial update keeps the other fields;
 * - deployments_delete refuses while the deployment serves traffic or runs a canary (unless force),
 *   stops serving (MCP and OIP answer 404), keeps the history, is idempotent, and a hostile tenant
 *   learns nothing and deletes nothing;
 * - a change or delete made by another server reaches this one through the background refresh;
 * - the scheduled retention job deletes log rows older than a deployment's retentionDays (and rows
 *   of a deleted deployment older than deletedRetentionDays) and keeps the newer ones.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { createTestHost, flatten, type TestHost } from 'anvil/testing';
import { loadConfig } from '../../server/config/load.ts';
import { createDatasetRoot, type DatasetRoot } from '../support/dataset-root.ts';
import { banking77Missing, banking77Slice, ok, trainVersion, writeSliceCsv, type Slice } from './support.ts';

const missing = banking77Missing();
const IDLE_SECONDS = 2;

interface DeploymentView {
  batching: Record<string, unknown>;
  logging: Record<string, unknown>;
  history?: Array<{ action: string; detail: Record<string, unknown> }>;
}

interface Deleted {
  name: string;
  deleted: boolean;
  model: string | null;
  variants: Array<{ version: number }>;
  forced: boolean;
}

function configError(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('the config was accepted');
}

describe('deployments: configuration', () => {
  test('a bad value in the deployments section names its key; the env variables land there', () => {
    const env = { ANVIL_HOME: '/tmp/anvil-config-test-home' };
    assert.match(configError(() => loadConfig({ env, overrides: { inline: { deployments: { sessionCacheMb: 1 } } } })), /deployments\.sessionCacheMb/);
    assert.match(configError(() => loadConfig({ env, overrides: { inline: { deployments: { defaults: { batching: { maxBatchSize: 0 } } } } } })), /deployments\.defaults\.batching\.maxBatchSize/);
    assert.match(configError(() => loadConfig({ env, overrides: { inline: { deployments: { controllerIntervalMS: 500 } } } })), /deployments/);
    assert.match(configError(() => loadConfig({ env: { ...env, ANVIL_DEPLOYMENTS_CONTROLLER_INTERVAL_MS: 'soon' } })), /deployments\.controllerIntervalMs/);
    const { config } = loadConfig({ env: { ...env, ANVIL_DEPLOYMENTS_CONTROLLER_INTERVAL_MS: '250', ANVIL_DEPLOYMENTS_SESSION_CACHE_MB: '64' } });
    assert.equal(config.deployments.controllerIntervalMs, 250);
    assert.equal(config.deployments.sessionCacheMb, 64);
    assert.equal(config.deployments.defaults.batching.maxBatchSize, 64, 'defaults fill what is not given');
  });
});

describe('deployments: lifecycle', { skip: missing ?? false }, () => {
  let host: TestHost;
  let data: DatasetRoot | undefined;
  let slice: Slice;
  let first: number;
  let second: number;
  let stranger: Client;
  const call = (tool: string, args?: Record<string, unknown>) => host.call(tool, args);
  const sql = async <T>(text: string, params: unknown[] = []) => (await host.server.runtime.services.storage.query(text, params)).rows as T[];

  before(async () => {
    data = createDatasetRoot();
    host = await createTestHost({
      plugins: [],
      env: data.env,
      config: {
        deployments: {
          deleteIdleSeconds: IDLE_SECONDS,
          deletedRetentionDays: 5,
          controllerIntervalMs: 200,
          defaults: { batching: { maxBatchSize: 8, maxQueueSize: 64 }, logging: { retentionDays: 2 } },
        },
      },
    });
    slice = banking77Slice();
    const file = writeSliceCsv(data.dir, 'b77.csv', slice.train);
    first = await trainVersion(call, file, 'b77', 'intents');
    second = await trainVersion(call, file, 'b77', 'intents');
    stranger = await host.connect({ project: 'other', name: 'mallory' });
  });
  after(async () => {
    await host?.close();
    data?.remove();
  });

  test('new deployments take the configured defaults; given fields override one by one; a partial update keeps the rest', async () => {
    const created = ok<DeploymentView>(await call('deployments_create', { name: 'defaults', model: 'intents', version: first, batching: { maxQueueDelayMicros: 2000 } }));
    assert.deepEqual(created.batching, { enabled: true, maxBatchSize: 8, maxQueueDelayMicros: 2000, maxQueueSize: 64, timeoutMs: 10_000 });
    assert.equal(created.logging.retentionDays, 2);
    // The same spec again is the same deployment (idempotent create compares the merged spec).
    assert.equal(ok<{ created: boolean }>(await call('deployments_create', { name: 'defaults', model: 'intents', version: first, batching: { maxQueueDelayMicros: 2000 } })).created, false);
    const updated = ok<DeploymentView>(await call('deployments_update', { name: 'defaults', batching: { timeoutMs: 500 } }));
    assert.deepEqual(updated.batching, { enabled: true, maxBatchSize: 8, maxQueueDelayMicros: 2000, maxQueueSize: 64, timeoutMs: 500 });
  });

  test('delete refuses while the deployment serves traffic, then stops serving it everywhere and keeps its history', async () => {
    ok(await call('deployments_create', { name: 'doomed', model: 'intents', version: first }));
    const texts = slice.test.slice(0, 3).map((row) => row.text);
    ok(await call('predict', { deployment: 'doomed', inputs: texts }));
    const refused = await call('deployments_delete', { name: 'doomed' });
    assert.equal(refused.isError, true);
    assert.match(refused.text, /ANVIL_E_CONFLICT.*serves traffic.*force/);
    ok(await call('predict', { deployment: 'doomed', inputs: texts })); // still serving

    // Idle for deleteIdleSeconds: deleted without force.
    await sleep(IDLE_SECONDS * 1000 + 300);
    const deleted = ok<Deleted>(await call('deployments_delete', { name: 'doomed', reason: 'retired' }));
    assert.deepEqual({ deleted: deleted.deleted, model: deleted.model, forced: deleted.forced, versions: deleted.variants.map((v) => v.version) }, { deleted: true, model: 'intents', forced: false, versions: [first] });
    const gone = await call('predict', { deployment: 'doomed', inputs: texts });
    assert.equal(gone.isError, true);
    assert.match(gone.text, /ANVIL_E_NOT_FOUND/);
    const oip = await host.request('/v2/models/doomed/infer', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['hi'] }] }) });
    assert.equal(oip.status, 404);
    assert.equal((await host.request('/v2/models/doomed')).status, 404);
    assert.match((await call('deployments_get', { name: 'doomed' })).text, /ANVIL_E_NOT_FOUND/);
    // Again: nothing to delete, no error (a retried call is harmless).
    assert.deepEqual(ok<Deleted>(await call('deployments_delete', { name: 'doomed' })), { name: 'doomed', deleted: false, model: null, variants: [], lastServedAt: null, forced: false });
    // The registry is untouched; the name's history survives and continues when it is created again.
    ok(await call('models_get', { name: 'intents', version: first }));
    ok(await call('deployments_create', { name: 'doomed', model: 'intents', version: second }));
    const view = ok<DeploymentView>(await call('deployments_get', { name: 'doomed' }));
    const actions = (view.history ?? []).map((entry) => entry.action);
    assert.deepEqual(actions.slice(0, 3), ['created', 'deleted', 'created'], JSON.stringify(actions));
    const record = (view.history ?? [])[1] as { detail: Record<string, unknown> };
    assert.equal(record.detail.reason, 'retired');
    assert.deepEqual((record.detail.variants as Array<{ version: number }>).map((v) => v.version), [first]);
  });

  test('a canary under way blocks delete unless forced; force ends it and clears the canary alias', async () => {
    ok(await call('deployments_create', { name: 'rolling', model: 'intents', version: first }));
    ok(await call('deployments_canary', { name: 'rolling', candidate: second, steps: [{ percent: 20, untilApproved: true }], guardrails: [{ metric: 'error_rate', op: '<', threshold: 0.5, minSamples: 1000 }] }));
    assert.ok(ok<{ aliases: string[] }>(await call('models_get', { name: 'intents', version: second })).aliases.includes('canary'), 'the canary started');
    const refused = await call('deployments_delete', { name: 'rolling' });
    assert.match(refused.text, /ANVIL_E_CONFLICT.*canary under way/);
    const forced = ok<Deleted>(await call('deployments_delete', { name: 'rolling', force: true }));
    assert.equal(forced.deleted, true);
    assert.equal(forced.forced, true);
    const version = ok<{ aliases: string[] }>(await call('models_get', { name: 'intents', version: second }));
    assert.ok(!version.aliases.includes('canary'), `the canary alias is cleared: ${JSON.stringify(version.aliases)}`);
  });

  test('a hostile tenant: deleting another project’s deployment answers like a name that never existed and changes nothing', async () => {
    ok(await call('deployments_create', { name: 'guarded', model: 'intents', version: first }));
    const theirs = flatten(await stranger.callTool({ name: 'deployments_delete', arguments: { name: 'guarded', force: true } }));
    const never = flatten(await stranger.callTool({ name: 'deployments_delete', arguments: { name: 'never-was', force: true } }));
    assert.equal(theirs.isError, false, theirs.text);
    assert.deepEqual({ ...theirs.structured, name: 'x' }, { ...never.structured, name: 'x' });
    assert.equal((theirs.structured as { deleted: boolean }).deleted, false);
    ok(await call('predict', { deployment: 'guarded', inputs: ['I lost my card'] }));
    // An application's key (predict only) cannot delete; a malformed or huge name is refused before any SQL.
    const app = await host.connect({ scopes: ['deployments:predict'], name: 'app' });
    const noScope = flatten(await app.callTool({ name: 'deployments_delete', arguments: { name: 'guarded' } }));
    assert.equal(noScope.isError, true);
    assert.match(noScope.text, /deployments:write/);
    for (const name of ['../guarded', 'x'.repeat(10_000), 'GUARDED']) {
      const bad = await call('deployments_delete', { name });
      assert.equal(bad.isError, true);
      assert.match(bad.text, /name/);
    }
    ok(await call('deployments_get', { name: 'guarded' }));
  });

  test('a change or a delete made by another server reaches this one through the background refresh', async () => {
    ok(await call('deployments_create', { name: 'elsewhere', model: 'intents', version: first }));
    const threshold = async () => ok<{ predictions: Array<{ threshold: number }> }>(await call('predict', { deployment: 'elsewhere', inputs: ['I lost my card'] })).predictions[0]?.threshold;
    assert.notEqual(await threshold(), 0.97);
    // Another server's writes (the same statements its store would run: a new generation).
    await sql(`update plugin_deployments.deployments set threshold = 0.97, generation = generation + 1 where project = 'default' and name = 'elsewhere'`);
    await host.runScheduled('deployments', 'deployment-state');
    assert.equal(await threshold(), 0.97);
    await sql(`delete from plugin_deployments.deployments where project = 'default' and name = 'elsewhere'`);
    await host.runScheduled('deployments', 'deployment-state');
    assert.match((await call('predict', { deployment: 'elsewhere', inputs: ['I lost my card'] })).text, /ANVIL_E_NOT_FOUND/);
  });

  test('the retention job deletes log rows older than retentionDays and keeps newer ones (and a deleted deployment’s after deletedRetentionDays)', async () => {
    ok(await call('deployments_create', { name: 'logged', model: 'intents', version: first, logging: { retentionDays: 3 } }));
    ok(await call('deployments_create', { name: 'dropped', model: 'intents', version: first }));
    const texts = slice.test.slice(0, 6).map((row) => row.text);
    const logged = ok<{ predictions: Array<{ requestId: string }> }>(await call('predict', { deployment: 'logged', inputs: texts })).predictions.map((p) => p.requestId);
    const dropped = ok<{ predictions: Array<{ requestId: string }> }>(await call('predict', { deployment: 'dropped', inputs: texts })).predictions.map((p) => p.requestId);
    await host.runScheduled('deployments', 'prediction-log');
    const schema = 'plugin_deployments';
    const age = async (ids: string[], days: number) => sql(`update ${schema}.predictions set at = now() - make_interval(days => $2::integer) where request_id = any($1::text[])`, [ids, days]);
    // logged (3 days): two rows 4 days old go, two 2 days old and two fresh stay.
    await age(logged.slice(0, 2), 4);
    await age(logged.slice(2, 4), 2);
    ok(await call('deployments_delete', { name: 'dropped', force: true }));
    // dropped, deleted (kept 5 days): rows 6 days old go, 4 days old stay (its own retention of 2 no longer applies).
    await age(dropped.slice(0, 3), 6);
    await age(dropped.slice(3), 4);
    await host.runScheduled('deployments', 'prediction-retention');
    const left = await sql<{ request_id: string }>(`select request_id from ${schema}.predictions where request_id = any($1::text[]) order by request_id`, [[...logged, ...dropped]]);
    assert.deepEqual(left.map((row) => row.request_id), [...logged.slice(2), ...dropped.slice(3)].sort());
  });
});
