/**
 * The offline planner (no LLM) end to end: the committed text-classifier model runs for real with
 * onnxruntime-node, plans are made against the real catalog of a test host with every built-in
 * (`ctx.tools.list`), names resolve against the dev registry. Conditional plans, unresolved slots,
 * out-of-scope and vague commands, money, thread memory, a key that cannot call a step's tool, and
 * an accuracy floor on the development set.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { ToolDescription } from 'anvil/plugin';
import type { TestHost } from 'anvil/testing';
import type { PlanningContext, ThreadMemory } from '../../graphs/plan.ts';
import { loadDevRegistry, loadDevSet, registryResolver, scoreDevSet } from '../../graphs/planners/offline/evaluate.ts';
import { createOfflinePlanner, parseMoney, type OfflinePlanner } from '../../graphs/planners/offline/index.ts';
import { trainingRows } from '../../scripts/agent-train-planner.ts';
import { catalogHost, OPERATOR } from '../support/agent-catalog.ts';

let host: TestHost;
let catalog: ToolDescription[];
let readOnlyCatalog: ToolDescription[];
let planner: OfflinePlanner;
const resolver = registryResolver(loadDevRegistry());

function context(options: { dryRun?: boolean; memory?: Partial<ThreadMemory>; tools?: ToolDescription[] } = {}): PlanningContext {
  return { tools: options.tools ?? catalog, memory: { commands: [], ...options.memory }, resolve: resolver, dryRun: options.dryRun ?? true, signal: new AbortController().signal };
}

before(async () => {
  const started = await catalogHost();
  host = started.host;
  catalog = started.catalog;
  readOnlyCatalog = await started.invoker.list({ ...OPERATOR, id: 'local:reader', scopes: ['jobs:read', 'models:read', 'deployments:read'] });
  planner = await createOfflinePlanner();
});

after(async () => {
  await host?.close();
});

describe('offline planner', () => {
  it('turns "retrain … and roll it out to 10% if it beats the champion" into a conditional plan', async () => {
    const plan = await planner.plan('Retrain the intent model on the new data and roll it out to 10% if it beats the champion', context());
    assert.equal(plan.planner, 'offline');
    assert.deepEqual(plan.steps.map((step) => step.tool), ['training_start', 'eval_compare', 'eval_get', 'deployments_canary']);
    const [train, compare, verdict, canary] = plan.steps as [(typeof plan.steps)[number], (typeof plan.steps)[number], (typeof plan.steps)[number], (typeof plan.steps)[number]];
    assert.deepEqual(train.args, { dataset: 'intent', model: 'intent' });
    assert.deepEqual(train.waitFor?.args, { id: { $ref: 's1.jobId' }, waitSeconds: 30 });
    assert.equal(train.waitFor?.tool, 'jobs_get');
    assert.deepEqual(compare.args, { candidate: { model: 'intent' }, dataset: 'intent' });
    assert.ok(compare.waitFor, 'the comparison is a job: later steps wait for it');
    assert.deepEqual(verdict.args, { id: { $ref: `${compare.id}.jobId` } });
    assert.deepEqual(canary.when && { left: canary.when.left, op: canary.when.op, right: canary.when.right }, { left: { $ref: `${verdict.id}.verdict` }, op: 'eq', right: 'better' });
    assert.deepEqual(canary.args, { name: 'intent', action: 'start', candidate: { $ref: `${verdict.id}.model.version` }, steps: [{ percent: 10, untilApproved: true }, { percent: 100, untilApproved: true }] });
    assert.deepEqual(plan.unresolved, []);
    assert.ok(plan.confidence > 0.35);
    // Every step's tool and wait tool is in the caller's catalog.
    for (const step of plan.steps) assert.ok(catalog.some((tool) => tool.name === step.tool), step.tool);
  });

  it('reports names the project does not have as unresolved slots in a dry run, and refuses to plan them otherwise', async () => {
    const dry = await planner.plan('evaluate toxicity on banking77', context());
    assert.deepEqual(dry.steps.map((step) => step.tool), ['eval_run']);
    assert.deepEqual(dry.unresolved.map((slot) => [slot.field, slot.mention]), [['model', 'toxicity']]);
    const wet = await planner.plan('evaluate toxicity on banking77', context({ dryRun: false }));
    assert.deepEqual(wet.steps, []);
    assert.match(wet.reason ?? '', /no model named "toxicity"/);
    assert.match(wet.question ?? '', /model "toxicity"/);
    const rollback = await planner.plan('roll back the payments-api deployment', context());
    assert.deepEqual(rollback.steps.map((step) => [step.tool, step.risk]), [['deployments_rollback', 'destructive']]);
    assert.deepEqual(rollback.unresolved.map((slot) => slot.mention), ['payments-api']);
  });

  it('answers out-of-scope requests with an empty plan and a reason, vague ones with a question', async () => {
    const flight = await planner.plan('book me a flight to Lisbon', context());
    assert.deepEqual(flight.steps, []);
    assert.match(flight.reason ?? '', /outside Anvil's skills/);
    assert.equal(flight.question, undefined);
    const vague = await planner.plan('fix it', context());
    assert.deepEqual(vague.steps, []);
    assert.match(vague.reason ?? '', /too vague/);
    assert.match(vague.question ?? '', /What should I do/);
    const empty = await planner.plan('   ', context());
    assert.deepEqual(empty.steps, []);
  });

  it('parses amounts into minor units by the currency exponent and flags money movers as spend', async () => {
    const refund = await planner.plan('refund €4.50 on pay_q81', context());
    assert.deepEqual(refund.steps.map((step) => step.tool), ['payments_refund']);
    assert.equal(refund.steps[0]?.args.amount, '450');
    assert.equal(refund.steps[0]?.risk, 'destructive');
    const capture = await planner.plan('capture 12.345 KWD on pay_kw1', context());
    assert.deepEqual([capture.steps[0]?.tool, capture.steps[0]?.args.amount, capture.steps[0]?.risk], ['payments_capture', '12345', 'spend']);
    const pay = await planner.plan('make a payment of 3000 yen to tanaka', context());
    assert.deepEqual([pay.steps[0]?.args.amount, pay.steps[0]?.args.currency, pay.steps[0]?.args.payee, pay.steps[0]?.risk], ['3000', 'JPY', 'tanaka', 'spend']);
    // The payment method is never guessed.
    assert.ok(pay.unresolved.some((slot) => slot.field === 'method'));
    assert.deepEqual(parseMoney('1,250.75 usd'), { amount: '125075', currency: 'USD', text: '1,250.75 usd' });
    assert.deepEqual(parseMoney('£9.99'), { amount: '999', currency: 'GBP', text: '£9.99' });
    assert.match((parseMoney('12.5 JPY') as { error: string }).error, /JPY has 0 decimals/);
    const tooPrecise = await planner.plan('send 10.5 JPY to bob', context());
    assert.ok(tooPrecise.unresolved.some((slot) => slot.field === 'amount' && /0 decimals/.test(slot.reason)));
  });

  it('resolves "that job", "it" and "the last model" from the thread memory', async () => {
    const cancel = await planner.plan('stop that job now', context({ memory: { lastJobId: 'job-77' } }));
    assert.deepEqual(cancel.steps.map((step) => [step.tool, step.args.id, step.risk]), [['jobs_cancel', 'job-77', 'destructive']]);
    const back = await planner.plan('the canary is broken, roll it back', context({ memory: { lastDeployment: 'fraud-prod' } }));
    assert.deepEqual(back.steps.map((step) => [step.tool, step.args.name]), [['deployments_rollback', 'fraud-prod']]);
    const retrain = await planner.plan('retrain it', context({ memory: { lastModel: { name: 'fraud', version: 2 }, lastDataset: { name: 'claims-2025' } } }));
    assert.deepEqual(retrain.steps[0]?.args, { dataset: 'claims-2025', model: 'fraud' });
    const nothing = await planner.plan('stop that job now', context({ dryRun: false }));
    assert.deepEqual(nothing.steps, []);
    assert.match(nothing.question ?? '', /Which job/);
  });

  it("never plans a tool the caller's key cannot call", async () => {
    assert.ok(readOnlyCatalog.some((tool) => tool.name === 'jobs_get') && !readOnlyCatalog.some((tool) => tool.name === 'jobs_cancel'), 'the reader sees jobs_get, not jobs_cancel');
    const plan = await planner.plan('cancel job-77', context({ tools: readOnlyCatalog }));
    assert.deepEqual(plan.steps, []);
    assert.match(plan.reason ?? '', /jobs_cancel, which your key cannot call/);
    const status = await planner.plan('has job-77 finished yet?', context({ tools: readOnlyCatalog }));
    assert.deepEqual(status.steps.map((step) => step.tool), ['jobs_get']);
  });

  it('survives a huge command', async () => {
    const plan = await planner.plan(`list my jobs ${'x'.repeat(200_000)}`, context());
    assert.ok(Array.isArray(plan.steps));
  });

  it('keeps the accuracy floor on the development set (written apart from the training phrasings)', async () => {
    const dev = loadDevSet();
    assert.ok(dev.length >= 100);
    const train = new Set(trainingRows().map((row) => row.text.toLowerCase()));
    assert.deepEqual(dev.filter((command) => train.has(command.text.toLowerCase())).map((command) => command.text), [], 'no dev command is a training row');
    const score = await scoreDevSet(planner, dev, catalog, resolver);
    assert.ok(score.planAccuracy >= 0.85, `plan accuracy ${score.planAccuracy}: ${JSON.stringify(score.failures)}`);
    assert.ok(score.slotAccuracy >= 0.9, `slot accuracy ${score.slotAccuracy}: ${JSON.stringify(score.slotMisses)}`);
    assert.equal(score.approvalRecall, 1);
    assert.ok(score.approvalSteps >= 20);
  });

  it('ships a model trained on exactly the committed training set (retrain after changing phrasings)', () => {
    const dir = new URL('../../graphs/planners/offline/', import.meta.url);
    const trainJsonl = readFileSync(new URL('data/train.jsonl', dir), 'utf8');
    assert.equal(trainJsonl, `${trainingRows().map((row) => JSON.stringify(row)).join('\n')}\n`, 'train.jsonl is what phrasings.ts + fillers.ts produce: run npm run agent:train-planner');
    const manifest = JSON.parse(readFileSync(new URL('model/manifest.json', dir), 'utf8')) as { trainSha256: string; recipe: string; intents: number };
    assert.equal(manifest.trainSha256, createHash('sha256').update(trainJsonl).digest('hex'));
    assert.equal(manifest.recipe, 'text-classifier');
    assert.ok(manifest.intents >= 42);
    const featurizer = JSON.parse(readFileSync(new URL('model/featurizer.json', dir), 'utf8')) as { labels: string[] };
    assert.ok(featurizer.labels.length >= 42);
  });
});
