/**
 * Where no Python has torch, torch-text-classifier is reported unavailable, never faked:
 * `anvil doctor` warns naming it, and a worker that lacks it for that reason makes jobs_explain say
 * why. ANVIL_PYTHON pins the interpreter the recipe (and its availability check) uses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { torchPythons } from '../../gpu-workers/recipes/torch-text-classifier/availability.ts';
import { workerFits } from '../../tools/jobs/explain.ts';
import type { WorkerWithJobs } from '../../tools/jobs/rows.ts';
import { runCli } from '../support/anvil-process.ts';

describe('torch-text-classifier availability', () => {
  it('ANVIL_PYTHON alone, else python3 then /usr/bin/python3', () => {
    assert.deepEqual(torchPythons({}), ['python3', '/usr/bin/python3']);
    assert.deepEqual(torchPythons({ ANVIL_PYTHON: '/opt/venv/bin/python' }), ['/opt/venv/bin/python']);
  });

  it('anvil doctor warns that the recipe is unavailable when the Python has no torch', async () => {
    const result = await runCli(['doctor', '--json'], { ANVIL_PYTHON: '/nonexistent/python3' });
    const checks = JSON.parse(result.stdout) as Array<{ name: string; status: string; message: string }>;
    const recipes = checks.find((check) => check.name === 'recipes');
    assert.equal(recipes?.status, 'warn', result.stdout);
    assert.match(recipes?.message ?? '', /torch-text-classifier \(no Python with torch \(\/nonexistent\/python3: not found\); install it with apt-get install python3-torch\)/);
  });

  it("jobs_explain gives a worker's reason for not having the recipe", () => {
    const worker: WorkerWithJobs = {
      id: 'w1',
      name: 'w1',
      capabilities: { cpus: 2, memoryGb: 8, gpus: [], unavailableRecipes: { 'torch-text-classifier': 'no Python with torch' } },
      resourceClasses: ['cpu'],
      slots: 1,
      recipes: ['text-classifier'],
      state: 'active',
      registeredAt: new Date(),
      lastHeartbeat: new Date(),
      leaseExpiresAt: new Date(),
      telemetry: null,
      runningJobs: [],
    };
    const [fit] = workerFits({ resourceClass: 'cpu', recipe: 'torch-text-classifier', resources: { gpus: 0, cpus: 1, memoryGb: 1 } }, [worker]);
    assert.deepEqual(fit?.unmet, ['cannot run recipe torch-text-classifier: no Python with torch']);
    const [other] = workerFits({ resourceClass: 'cpu', recipe: 'mystery', resources: { gpus: 0, cpus: 1, memoryGb: 1 } }, [worker]);
    assert.deepEqual(other?.unmet, ['does not have recipe mystery']);
  });
});
