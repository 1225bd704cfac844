/**
 * The LLM planners over Anvil's real catalog (a test host with the built-in plugins, listed through
 * ctx.tools for each caller): LangChain's fakeModel scripts the chat model's tool calls; the
 * sampling planner is driven through a real MCP client that answers sampling/createMessage; the
 * OpenAI-compatible provider talks HTTP to a small chat-completions server started here. A live
 * endpoint is used only when ANVIL_TEST_LLM_BASE_URL is set.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { AIMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { definePlugin, type CallerPrincipal, type SampleRequest, type ToolDescription, type ToolInvoker, z } from 'anvil/plugin';
import { createTestHost, flatten, type TestHost } from 'anvil/testing';
import type { Plan, Planner, PlanningContext } from '../../graphs/plan.ts';
import {
  createConfiguredPlanner,
  createLlmPlanner,
  createSamplingPlanner,
  llmConfigSchema,
  planWithFallback,
  plannersFor,
  type LlmModelConfig,
  type LlmProvider,
} from '../../graphs/planners/llm/index.ts';
import { classifyRisk } from '../../graphs/risk.ts';

let invoker: ToolInvoker | undefined;
let providers: ReadonlyMap<string, LlmProvider> | undefined;
const providerCalls: LlmModelConfig[] = [];

/** A plugin contributing an LLM provider through the extension point (here: a scripted fake model). */
const scriptedProvider = definePlugin({
  id: 'scriptedllm',
  version: '1.0.0',
  register(ctx) {
    ctx.provide('llmProviders', 'scripted', {
      label: 'scripted',
      description: 'fakeModel with one scripted answer per model made',
      createChatModel(config) {
        providerCalls.push(config);
        return fakeModel().respondWithTools([{ name: 'anvil_whoami', args: { _why: 'Who am I' } }]);
      },
    });
  },
});
const everything: CallerPrincipal = { id: 'local:ops', kind: 'local', project: 'default', scopes: ['*'] };
const reader: CallerPrincipal = { id: 'local:reader', kind: 'local', project: 'default', scopes: ['jobs:read', 'models:read'] };

/** A stand-in for the offline planner in the fallback order: always answers, with no steps. */
const offlineStandIn: Planner = {
  name: 'offline',
  plan: async (command) => ({ command, planner: 'offline', steps: [], unresolved: [], confidence: 0, reason: 'offline stand-in' }),
};

function contextFor(tools: readonly ToolDescription[], overrides: Partial<PlanningContext> = {}): PlanningContext {
  return {
    tools,
    memory: { commands: [] },
    resolve: {
      model: async () => undefined,
      dataset: async () => undefined,
      deployment: async () => undefined,
      knowledgeBase: async () => undefined,
      job: async () => undefined,
    },
    dryRun: true,
    signal: new AbortController().signal,
    ...overrides,
  };
}

/** A tool that plans through the calling client's model (what ops_ask does when sampling is picked). */
const probe = definePlugin({
  id: 'planprobe',
  version: '1.0.0',
  permissions: ['tools'],
  register(ctx) {
    invoker = ctx.tools;
    providers = ctx.extensions('llmProviders');
    ctx.tool({
      name: 'plan',
      description: "Plans a command with the client's model",
      input: z.object({ command: z.string().max(500), fallback: z.boolean().default(false) }),
      output: z.object({ plan: z.record(z.string(), z.unknown()), skipped: z.array(z.string()) }),
      handler: async ({ command, fallback }, context) => {
        const tools = await ctx.tools.list(context.principal);
        const planning = contextFor(tools, { signal: context.signal });
        if (fallback) {
          const planners = plannersFor({ client: { capabilities: context.clientCapabilities, sample: context.sample }, offline: offlineStandIn });
          const { plan, skipped } = await planWithFallback(planners, command, planning);
          return { plan: { ...plan }, skipped: skipped.map((entry) => `${entry.planner}:${entry.code}`) };
        }
        const planner = createSamplingPlanner({ sample: context.sample, toolUse: context.clientCapabilities.sampling?.tools !== undefined });
        return { plan: { ...(await planner.plan(command, planning)) }, skipped: [] };
      },
    });
  },
});

let host: TestHost;
let allTools: ToolDescription[];
let readerTools: ToolDescription[];

before(async () => {
  host = await createTestHost({ plugins: [scriptedProvider, probe] });
  assert.ok(invoker);
  allTools = await invoker.list(everything);
  readerTools = await invoker.list(reader);
});

after(async () => {
  await host?.close();
});

/** Records the names of the tools a planner binds to the fake model (fakeModel keeps them private). */
function recordBound(model: ReturnType<typeof fakeModel>): string[][] {
  const bound: string[][] = [];
  const original = model.bindTools.bind(model);
  model.bindTools = (tools) => {
    bound.push(tools.map((tool) => String((tool as { function?: { name?: string } }).function?.name)));
    return original(tools);
  };
  return bound;
}

function toolsOf(plan: Plan): string[] {
  return plan.steps.map((step) => step.tool);
}

describe('risk', () => {
  test('one classification from the tool annotations, with money-moving tools as spend', () => {
    const risk = (name: string) => {
      const tool = allTools.find((each) => each.name === name);
      assert.ok(tool, `${name} is in the catalog`);
      return classifyRisk(tool);
    };
    assert.equal(risk('jobs_get'), 'read');
    assert.equal(risk('payments_reconcile'), 'read');
    assert.equal(risk('training_start'), 'write');
    assert.equal(risk('deployments_canary'), 'write');
    assert.equal(risk('payments_preview'), 'write');
    assert.equal(risk('deployments_rollback'), 'destructive');
    assert.equal(risk('payments_cancel'), 'destructive');
    assert.equal(risk('payments_refund'), 'spend');
    assert.equal(risk('payments_confirm'), 'spend');
    assert.equal(risk('ledger_transfers_create'), 'spend');
    assert.equal(risk('mandates_create'), 'spend');
    // A proxied tool that says nothing about itself is treated as MCP's default: destructive.
    assert.equal(classifyRisk({ name: 'upstream_do', pluginId: 'mcp-proxy', annotations: {} }), 'destructive');
    assert.equal(classifyRisk({ name: 'billing_topup', pluginId: 'billing', annotations: { destructiveHint: false } }, { spendTools: new Set(['billing_topup']) }), 'spend');
  });
});

describe('chat-model planner (fakeModel)', () => {
  test('scripted tool calls become the expected conditional plan, with the catalog bound and the memory told', async () => {
    const model = fakeModel().respondWithTools([
      {
        name: 'training_start',
        args: {
          dataset: 'intents-v2',
          model: 'intent-model',
          _why: 'Retrain on the new data',
          _waitFor: { tool: 'jobs_get', args: { id: { $ref: 's1.jobId' } }, until: { left: { $ref: 's1.state' }, op: 'eq', right: 'succeeded', describe: 'training finished' } },
        },
      },
      { name: 'eval_compare', args: { candidate: { model: 'intent-model' }, dataset: 'intents-v2', _why: 'Compare with the champion' } },
      {
        name: 'deployments_canary',
        args: {
          name: 'intents',
          candidate: { $ref: 's1.version' },
          steps: [{ percent: 10 }],
          _when: { left: { $ref: 's2.candidate.accuracy' }, op: 'gt', right: { $ref: 's2.champion.accuracy' }, describe: 'the candidate beats the champion' },
        },
      },
    ]);
    const bound = recordBound(model);
    const planner = createLlmPlanner({ model, label: 'openai:scripted' });
    const plan = await planner.plan(
      'Retrain the intent model on the new data and roll it out to 10% if it beats the champion',
      contextFor(allTools, { memory: { lastJobId: 'job-77', commands: ['show me the intent model'] } }),
    );
    assert.equal(plan.planner, 'openai:scripted');
    assert.deepEqual(toolsOf(plan), ['training_start', 'eval_compare', 'deployments_canary']);
    assert.deepEqual(plan.unresolved, []);
    assert.equal(plan.confidence, 1);
    const [train, compare, canary] = plan.steps;
    assert.ok(train && compare && canary);
    assert.deepEqual(train.args, { dataset: 'intents-v2', model: 'intent-model' });
    assert.equal(train.why, 'Retrain on the new data');
    assert.equal(train.risk, 'write');
    assert.equal(train.waitFor?.tool, 'jobs_get');
    assert.deepEqual(train.waitFor?.args, { id: { $ref: 's1.jobId' } });
    assert.equal(compare.id, 's2');
    assert.equal(canary.id, 's3');
    assert.deepEqual(canary.args.candidate, { $ref: 's1.version' });
    assert.equal(canary.when?.op, 'gt');
    assert.equal(canary.when?.describe, 'the candidate beats the champion');
    assert.ok(canary.why.length > 0, 'a step without _why gets the tool description');

    const call = model.calls[0];
    assert.ok(call);
    const system = String(call.messages[0]?.content);
    assert.match(system, /the last job: job-77/);
    assert.match(system, /This is a dry run/);
    assert.deepEqual(bound[0], [...allTools.map((tool) => tool.name), 'plan_clarify', 'plan_decline']);
  });

  test('a tool outside the caller\'s catalog is never in the plan: left out and reported', async () => {
    const model = fakeModel().respondWithTools([
      { name: 'jobs_get', args: { id: 'job-1' } },
      { name: 'deployments_rollback', args: { name: 'intents' } },
      { name: 'rm_rf', args: { path: '/' } },
    ]);
    const bound = recordBound(model);
    const plan = await createLlmPlanner({ model }).plan('roll back intents', contextFor(readerTools));
    assert.ok(allTools.some((tool) => tool.name === 'deployments_rollback'), 'the server has the tool');
    assert.ok(!readerTools.some((tool) => tool.name === 'deployments_rollback'), 'the reader may not call it');
    assert.deepEqual(toolsOf(plan), ['jobs_get']);
    assert.deepEqual(
      plan.unresolved.map((slot) => [slot.step, slot.field, slot.mention]),
      [
        ['s2', 'tool', 'deployments_rollback'],
        ['s3', 'tool', 'rm_rf'],
      ],
    );
    assert.match(plan.reason ?? '', /Left out 2 step\(s\) naming tools outside the caller's catalog: deployments_rollback, rm_rf/);
    // And the model was offered the reader's tools only.
    assert.ok(bound[0]?.includes('jobs_get'));
    assert.ok(!bound[0]?.includes('deployments_rollback'));
  });

  test('bad arguments are flagged naming each field; references must point at earlier steps', async () => {
    const model = fakeModel().respondWithTools([
      { name: 'deployments_canary', args: { name: 'Intents!', steps: [{ percent: 150 }], colour: 'red' } },
      { name: 'training_start', args: { model: 'x' } },
      { name: 'jobs_get', args: { id: { $ref: 's9.jobId' } } },
      { name: 'eval_compare', args: { candidate: { $ref: 's2.model' }, dataset: 'd', _why: 'w'.repeat(5000) } },
    ]);
    const plan = await createLlmPlanner({ model }).plan('canary it', contextFor(allTools));
    const flagged = plan.unresolved.map((slot) => `${slot.step}:${slot.field}`);
    assert.deepEqual(flagged.sort(), ['s1:colour', 's1:name', 's1:steps.0.percent', 's2:dataset', 's3:id'].sort());
    const percent = plan.unresolved.find((slot) => slot.field === 'steps.0.percent');
    assert.equal(percent?.mention, '150');
    assert.match(percent?.reason ?? '', /100/);
    assert.equal(plan.unresolved.find((slot) => slot.field === 'dataset')?.mention, '(missing)');
    // Flagged steps stay visible (a run with unresolved entries does not execute); the reference to s2 is fine.
    assert.deepEqual(toolsOf(plan), ['deployments_canary', 'training_start', 'jobs_get', 'eval_compare']);
    assert.equal(plan.confidence, 0.25);
    assert.equal(plan.steps[3]?.why.length, 500, 'a flood of words is cut');
  });

  test('a clarifying question, a refusal, plain text and unparseable arguments', async () => {
    const vague = await createLlmPlanner({ model: fakeModel().respondWithTools([{ name: 'plan_clarify', args: { question: 'Which model?' } }]) }).plan('fix it', contextFor(allTools));
    assert.deepEqual([vague.steps.length, vague.question, vague.confidence], [0, 'Which model?', 0]);
    assert.match(vague.reason ?? '', /too vague/);
    const outside = await createLlmPlanner({ model: fakeModel().respondWithTools([{ name: 'plan_decline', args: { reason: 'Anvil cannot order pizza' } }]) }).plan('order pizza', contextFor(allTools));
    assert.equal(outside.reason, 'Anvil cannot order pizza');
    const chatty = await createLlmPlanner({ model: fakeModel().respond(new AIMessage('I would rather not.')) }).plan('do things', contextFor(allTools));
    assert.equal(chatty.reason, 'I would rather not.');
    const broken = new AIMessage({ content: '', invalid_tool_calls: [{ type: 'invalid_tool_call', name: 'jobs_get', args: '{"id": ', id: 'c1', error: 'bad json' }] });
    const garbled = await createLlmPlanner({ model: fakeModel().respond(broken) }).plan('get the job', contextFor(allTools));
    assert.deepEqual(
      garbled.unresolved.map((slot) => slot.field),
      ['(arguments)', 'id'],
    );
  });

  test('a plan has at most 30 steps: a flood of calls is cut and said so', async () => {
    const flood = Array.from({ length: 500 }, (_, index) => ({ name: 'jobs_get', args: { id: `job-${index}` } }));
    const plan = await createLlmPlanner({ model: fakeModel().respondWithTools(flood) }).plan('get every job', contextFor(allTools));
    assert.equal(plan.steps.length, 30);
    assert.equal(plan.steps.at(-1)?.id, 's30');
    assert.match(plan.reason ?? '', /Left out 470 call\(s\) past the limit of 30 steps per plan/);
  });

  test('a provider contributed through the llmProviders extension point makes the configured planner', async () => {
    assert.ok(providers?.has('scripted'));
    const config = llmConfigSchema.parse({ provider: 'scripted', model: 'tiny', apiKeyEnv: 'SCRIPTED_KEY', temperature: 0.5 });
    const planner = createConfiguredPlanner({ config, env: { SCRIPTED_KEY: 'k-1234567' }, providers });
    assert.deepEqual(providerCalls, [{ baseUrl: undefined, model: 'tiny', apiKey: 'k-1234567', temperature: 0.5, timeoutMs: 60_000, maxTokens: 2048 }]);
    const plan = await planner.plan('who am I?', contextFor(allTools));
    assert.equal(plan.planner, 'scripted:tiny');
    assert.deepEqual(plan.steps.map((step) => [step.tool, step.risk, step.why]), [['anvil_whoami', 'read', 'Who am I']]);
  });

  test('a failing model is ANVIL_E_UPSTREAM_FAILED, and the fallback order moves on', async () => {
    const failing = createLlmPlanner({ model: fakeModel().alwaysThrow(new Error('connection refused')), label: 'openai:down' });
    await assert.rejects(failing.plan('x', contextFor(allTools)), { code: 'ANVIL_E_UPSTREAM_FAILED', message: /Planner openai:down failed: connection refused/ });
    const { plan, skipped } = await planWithFallback(
      plannersFor({ configured: createLlmPlanner({ model: fakeModel().alwaysThrow(new Error('down')), label: 'openai:down' }), offline: offlineStandIn }),
      'x',
      contextFor(allTools),
    );
    assert.equal(plan.planner, 'offline');
    assert.deepEqual(skipped.map((entry) => entry.code), ['ANVIL_E_UPSTREAM_FAILED']);
  });
});

describe('sampling planner through a real MCP client', () => {
  test("the client's model answers with tool_use blocks; the plan keeps catalog tools only", async () => {
    const requests: SampleRequest[] = [];
    const client = await host.connect(
      { name: 'reader', scopes: ['jobs:read', 'models:read'] },
      {
        onSample: (request) => {
          requests.push(request);
          return {
            model: 'client-model',
            role: 'assistant',
            stopReason: 'toolUse',
            content: [
              { type: 'tool_use', id: 'u1', name: 'models_get', input: { name: 'intent-model', version: 'champion', _why: 'Look at the champion' } },
              { type: 'tool_use', id: 'u2', name: 'payments_refund', input: { id: 'pay_1' } },
            ],
          };
        },
      },
    );
    const outcome = flatten(await client.callTool({ name: 'planprobe_plan', arguments: { command: 'show the champion and refund pay_1' } }));
    assert.equal(outcome.isError, false, outcome.text);
    const plan = outcome.structured?.plan as unknown as Plan;
    assert.equal(plan.planner, 'sampling:client-model');
    assert.deepEqual(toolsOf(plan), ['models_get']);
    assert.equal(plan.steps[0]?.why, 'Look at the champion');
    assert.equal(plan.steps[0]?.risk, 'read');
    assert.deepEqual(plan.unresolved.map((slot) => [slot.field, slot.mention]), [['tool', 'payments_refund']]);
    const offered = (requests[0]?.tools ?? []).map((tool) => tool.name);
    assert.ok(offered.includes('models_get') && offered.includes('plan_clarify'));
    assert.ok(!offered.includes('payments_refund'), 'the reader is not offered tools it cannot call');
  });

  test('a client with sampling but no tools answers a JSON plan from the listed catalog', async () => {
    const client = await host.connect(undefined, {
      capabilities: { sampling: {} },
      onSample: (request) => {
        assert.equal(request.tools, undefined);
        assert.match(request.systemPrompt ?? '', /- jobs_cancel: /);
        const plan = { steps: [{ tool: 'jobs_cancel', args: { id: 'job-9' }, why: 'Stop the stuck job' }] };
        return { model: 'json-model', role: 'assistant', content: { type: 'text', text: `Here is the plan:\n\`\`\`json\n${JSON.stringify(plan)}\n\`\`\`` } };
      },
    });
    const outcome = flatten(await client.callTool({ name: 'planprobe_plan', arguments: { command: 'cancel job-9' } }));
    assert.equal(outcome.isError, false, outcome.text);
    const plan = outcome.structured?.plan as unknown as Plan;
    assert.deepEqual(plan.steps.map((step) => [step.tool, step.risk, step.why]), [['jobs_cancel', 'destructive', 'Stop the stuck job']]);
  });

  test('a client without sampling is refused with ANVIL_E_CLIENT_CAPABILITY, and the fallback order skips sampling', async () => {
    const refused = await host.call('planprobe_plan', { command: 'list jobs' });
    assert.equal(refused.isError, true);
    assert.match(refused.text, /^ANVIL_E_CLIENT_CAPABILITY: Sampling is not available/);
    const fallback = await host.call('planprobe_plan', { command: 'list jobs', fallback: true });
    assert.equal(fallback.isError, false, fallback.text);
    assert.equal((fallback.structured?.plan as { planner: string }).planner, 'offline');
    assert.deepEqual(fallback.structured?.skipped, []);
    // With sampling declared but a client that fails, sampling is skipped with its code.
    const flaky = await host.connect(undefined, {
      onSample: () => {
        throw new Error('model overloaded');
      },
    });
    const skipped = flatten(await flaky.callTool({ name: 'planprobe_plan', arguments: { command: 'list jobs', fallback: true } }));
    assert.deepEqual(skipped.structured?.skipped, ['sampling:ANVIL_E_UPSTREAM_FAILED']);
  });
});

describe('OpenAI-compatible provider over HTTP', () => {
  let server: Server;
  let baseUrl: string;
  const seen: Array<{ path: string; authorization: string | undefined; body: Record<string, unknown> }> = [];
  const answers: Array<{ status: number; body: unknown }> = [];

  const readBody = async (request: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };

  before(async () => {
    server = createServer((request, response) => {
      void readBody(request).then((text) => {
        seen.push({ path: request.url ?? '', authorization: request.headers.authorization, body: JSON.parse(text) as Record<string, unknown> });
        const answer = answers.shift() ?? { status: 500, body: { error: { message: 'no scripted answer' } } };
        response.writeHead(answer.status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const completion = (toolCalls: Array<{ name: string; args: Record<string, unknown> }>) => ({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'scripted-gpt',
    choices: [
      {
        index: 0,
        finish_reason: 'tool_calls',
        message: {
          role: 'assistant',
          content: null,
          tool_calls: toolCalls.map((call, index) => ({ id: `call_${index}`, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.args) } })),
        },
      },
    ],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  });

  test('ChatOpenAI with configuration.baseURL: the key from the named env var, the catalog as tools, tool calls as steps', async () => {
    answers.push({ status: 200, body: completion([{ name: 'jobs_list', args: { states: ['running'], _why: 'Show running jobs' } }]) });
    const config = llmConfigSchema.parse({ baseUrl, model: 'scripted-gpt', apiKeyEnv: 'TEST_LLM_KEY' });
    const planner = createConfiguredPlanner({ config, env: { TEST_LLM_KEY: 'sk-test-secret-1234' } });
    const plan = await planner.plan('what is running?', contextFor(allTools));
    assert.equal(plan.planner, 'openai:scripted-gpt');
    assert.deepEqual(plan.steps.map((step) => [step.tool, step.args, step.why, step.risk]), [['jobs_list', { states: ['running'] }, 'Show running jobs', 'read']]);
    const request = seen.at(-1);
    assert.ok(request);
    assert.equal(request.path, '/v1/chat/completions');
    assert.equal(request.authorization, 'Bearer sk-test-secret-1234');
    assert.equal(request.body.model, 'scripted-gpt');
    const tools = (request.body.tools as Array<{ function: { name: string; parameters: { properties: Record<string, unknown> } } }>).map((tool) => tool.function);
    assert.equal(tools.length, allTools.length + 2);
    assert.ok(tools.find((tool) => tool.name === 'jobs_list')?.parameters.properties._why, 'planning fields are offered');
  });

  test('an endpoint error is ANVIL_E_UPSTREAM_FAILED and never carries the key, even when the endpoint echoes it', async () => {
    answers.push({ status: 401, body: { error: { message: 'Incorrect API key provided: sk-test-secret-1234', type: 'invalid_request_error', code: 'invalid_api_key' } } });
    const config = llmConfigSchema.parse({ baseUrl, model: 'scripted-gpt', apiKeyEnv: 'TEST_LLM_KEY' });
    const planner = createConfiguredPlanner({ config, env: { TEST_LLM_KEY: 'sk-test-secret-1234' } });
    const error = await planner.plan('x', contextFor(allTools)).then(
      () => undefined,
      (caught: unknown) => caught as { code?: string; message?: string },
    );
    assert.equal(error?.code, 'ANVIL_E_UPSTREAM_FAILED');
    assert.match(error?.message ?? '', /Incorrect API key provided: \[redacted\]/);
    assert.ok(!String(error?.message).includes('sk-test-secret-1234'));
  });

  test('configuration is checked: an unknown provider and a non-HTTP URL are refused', () => {
    assert.throws(() => createConfiguredPlanner({ config: llmConfigSchema.parse({ provider: 'nope', model: 'm' }), env: {} }), { code: 'ANVIL_E_CONFIG_INVALID', message: /llm.provider: no LLM provider named nope/ });
    assert.equal(llmConfigSchema.safeParse({ baseUrl: 'file:///etc/passwd', model: 'm' }).success, false);
    assert.equal(llmConfigSchema.safeParse({ model: 'm', apiKey: 'sk-inline' }).success, false, 'a key is never configured inline');
  });
});

const liveUrl = process.env.ANVIL_TEST_LLM_BASE_URL;
describe('a real OpenAI-compatible endpoint', () => {
  test(
    'plans "show me the running jobs" with catalog tools only',
    { skip: liveUrl ? false : 'skipped: ANVIL_TEST_LLM_BASE_URL not set (optional: ANVIL_TEST_LLM_MODEL, ANVIL_TEST_LLM_API_KEY)' },
    async () => {
      const config = llmConfigSchema.parse({ baseUrl: liveUrl, model: process.env.ANVIL_TEST_LLM_MODEL ?? 'gpt-4o-mini', apiKeyEnv: 'ANVIL_TEST_LLM_API_KEY', timeoutMs: 120_000 });
      const plan = await createConfiguredPlanner({ config, env: process.env }).plan('show me the running jobs', contextFor(allTools));
      const names = new Set(allTools.map((tool) => tool.name));
      assert.ok(plan.steps.every((step) => names.has(step.tool)));
      assert.ok(toolsOf(plan).includes('jobs_list'), `expected jobs_list in ${JSON.stringify(toolsOf(plan))}`);
    },
  );
});
