/** Thread memory: what each kind of step result leaves for "it", "that job", "the last model". */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyMemory, rememberCommand, rememberStep, MAX_REMEMBERED_COMMANDS } from '../../graphs/agent/memory.ts';

test('a training step remembers its job and, once it finished, the model version it registered', () => {
  const started = rememberStep(emptyMemory(), 'training_start', { dataset: 'intents' }, { jobId: 'j-1', model: 'intent-clf' });
  assert.equal(started.lastJobId, 'j-1');
  assert.deepEqual(started.lastModel, { name: 'intent-clf' });
  const finished = rememberStep(started, 'training_start', {}, { jobId: 'j-2', model: 'intent-clf', wait: { result: { model: { name: 'intent-clf', version: 3 } } } });
  assert.deepEqual(finished.lastModel, { name: 'intent-clf', version: 3 });
});

test('models, datasets, deployments, knowledge bases and payments are remembered from their tools', () => {
  let memory = rememberStep(emptyMemory(), 'models_get', { name: 'm' }, { name: 'm', version: 2 });
  memory = rememberStep(memory, 'datasets_get', { name: 'd' }, { name: 'd', version: 5 });
  memory = rememberStep(memory, 'deployments_get', { name: 'api' }, { name: 'api' });
  memory = rememberStep(memory, 'kb_search', { kb: 'docs', query: 'x' }, { hits: [] });
  memory = rememberStep(memory, 'payments_get', { id: 'pay_1' }, { payment: { id: 'pay_1' } });
  assert.deepEqual(memory.lastModel, { name: 'm', version: 2 });
  assert.deepEqual(memory.lastDataset, { name: 'd', version: 5 });
  assert.equal(memory.lastDeployment, 'api');
  assert.equal(memory.lastKnowledgeBase, 'docs');
  assert.equal(memory.lastPaymentId, 'pay_1');
});

test('commands are kept in order and bounded', () => {
  let memory = emptyMemory();
  for (let i = 0; i < MAX_REMEMBERED_COMMANDS + 5; i++) memory = rememberCommand(memory, `command ${i}`);
  assert.equal(memory.commands.length, MAX_REMEMBERED_COMMANDS);
  assert.equal(memory.commands.at(-1), `command ${MAX_REMEMBERED_COMMANDS + 4}`);
});
