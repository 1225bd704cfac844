/**
 * A deployment of a registered version with no artifacts, for tests that write the prediction log
 * through the deployments runtime themselves (series, snapshot): nothing is ever served from it.
 */
import assert from 'node:assert/strict';
import { flatten, type TestHost } from 'anvil/testing';
import { deploymentsPlugin } from '../../tools/deployment/index.ts';
import type { DeploymentsRuntime } from '../../tools/deployment/runtime.ts';
import { modelsPlugin } from '../../tools/models/index.ts';

/** Registers `model` v1 (labels a, b) in the default project, deploys it as `deployment`, and returns the deployments runtime. */
export async function deployBareModel(host: TestHost, names: { model: string; deployment: string }): Promise<DeploymentsRuntime> {
  const registry = host.server.plugins.exportsOf(modelsPlugin)?.registry();
  const runtime = host.server.plugins.exportsOf(deploymentsPlugin)?.runtime();
  assert.ok(registry && runtime);
  await registry.registerVersion('default', {
    name: names.model,
    task: 'text-classification',
    recipe: 'text-classifier-finetune',
    metrics: {},
    signature: { inputs: [{ name: 'text', type: 'string' }], outputs: [{ name: 'label', type: 'string' }], labels: ['a', 'b'] },
    lineage: { dataset: null, jobId: null, codeVersion: null, params: {} },
    artifacts: [],
    createdBy: 'local:test',
  });
  const created = flatten(await host.client.callTool({ name: 'deployments_create', arguments: { name: names.deployment, model: names.model, version: 1 } }));
  assert.equal(created.isError, false, created.text);
  return runtime;
}
