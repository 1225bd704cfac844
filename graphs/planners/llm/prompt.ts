/**
 * What an LLM planner tells the model: the rules of a plan, the thread's memory, and the caller's
 * catalog as tool definitions. Each tool's parameters gain three optional planning fields
 * (`_why`, `_when`, `_waitFor`) that the planner strips before the arguments are checked.
 */
import type { ToolDescription } from 'anvil/plugin';
import type { PlanningContext, ThreadMemory } from '../../plan.ts';

export const CLARIFY_TOOL = 'plan_clarify';
export const DECLINE_TOOL = 'plan_decline';
export const RESERVED_KEYS = ['_why', '_when', '_waitFor'] as const;

const conditionSchema = {
  type: 'object',
  properties: {
    left: { description: 'A value or {"$ref": "sN.field"}' },
    op: { type: 'string', enum: ['gt', 'gte', 'lt', 'lte', 'eq', 'ne'] },
    right: { description: 'A value or {"$ref": "sN.field"}' },
    describe: { type: 'string', description: 'The condition in words, for the person approving' },
  },
  required: ['left', 'op', 'right', 'describe'],
};

const planningFields = {
  _why: { type: 'string', description: 'One sentence: why this step is in the plan' },
  _when: { ...conditionSchema, description: 'Run this step only when the condition holds' },
  _waitFor: {
    type: 'object',
    description: 'For a step that starts long work: poll a read-only tool until the condition holds before later steps run',
    properties: { tool: { type: 'string' }, args: { type: 'object' }, until: conditionSchema, timeoutMs: { type: 'integer', minimum: 1 } },
    required: ['tool', 'until'],
  },
};

export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly parameters: Record<string, unknown>;
}

/** The tool's input schema plus the planning fields (a schema that is not a plain object is given as is). */
function withPlanningFields(schema: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = schema;
  const properties = typeof rest.properties === 'object' && rest.properties !== null ? (rest.properties as Record<string, unknown>) : {};
  if (rest.type !== 'object') return { ...rest };
  return { ...rest, properties: { ...properties, ...planningFields } };
}

/** The catalog as tool definitions, plus the two planning tools unless the catalog has tools of those names. */
export function toolDefinitions(tools: readonly ToolDescription[]): ToolDefinition[] {
  const names = new Set(tools.map((tool) => tool.name));
  const definitions: ToolDefinition[] = tools.map((tool) => ({
    name: tool.name,
    description: [tool.title, tool.description].filter(Boolean).join(': ').slice(0, 1024),
    parameters: withPlanningFields(tool.inputSchema),
  }));
  if (!names.has(CLARIFY_TOOL)) {
    definitions.push({
      name: CLARIFY_TOOL,
      description: 'Call this instead of planning when the command is too vague to plan: ask one clarifying question.',
      parameters: { type: 'object', properties: { question: { type: 'string' } }, required: ['question'] },
    });
  }
  if (!names.has(DECLINE_TOOL)) {
    definitions.push({
      name: DECLINE_TOOL,
      description: "Call this instead of planning when the command asks for something these tools cannot do; say why.",
      parameters: { type: 'object', properties: { reason: { type: 'string' } }, required: ['reason'] },
    });
  }
  return definitions;
}

function memoryLines(memory: ThreadMemory): string[] {
  const lines: string[] = [];
  if (memory.lastJobId) lines.push(`- the last job: ${memory.lastJobId}`);
  if (memory.lastModel) lines.push(`- the last model: ${memory.lastModel.name}${memory.lastModel.version !== undefined ? ` version ${memory.lastModel.version}` : ''}`);
  if (memory.lastDataset) lines.push(`- the last dataset: ${memory.lastDataset.name}${memory.lastDataset.version !== undefined ? ` version ${memory.lastDataset.version}` : ''}`);
  if (memory.lastDeployment) lines.push(`- the last deployment: ${memory.lastDeployment}`);
  if (memory.lastKnowledgeBase) lines.push(`- the last knowledge base: ${memory.lastKnowledgeBase}`);
  if (memory.lastPaymentId) lines.push(`- the last payment: ${memory.lastPaymentId}`);
  for (const command of memory.commands.slice(-5)) lines.push(`- earlier command: ${command.slice(0, 300)}`);
  return lines;
}

/** The system prompt; `inlineTools` lists the catalog in the text for models offered no tool interface. */
export function systemPrompt(context: Pick<PlanningContext, 'memory' | 'dryRun'>, inlineTools?: readonly ToolDefinition[]): string {
  const parts = [
    'You plan operations on Anvil, an MLOps and payments tool server. Turn the user\'s command into a plan: a sequence of calls to the tools you are given, all in one answer.',
    'The calls are NOT executed now: a person and a policy review the plan first, and steps that delete, roll back or move money wait for approval.',
    'Rules:',
    '- Use only the tools given, with arguments that match their schemas. Never invent a tool, a field or an id.',
    '- Steps are numbered s1, s2, ... in the order of your calls. To use a value from an earlier step\'s result, give {"$ref": "s1.fieldName"} as the argument value.',
    '- Give each call a "_why" argument: one sentence saying why the step is there.',
    '- A step that should run only if something holds ("if it beats the champion") gets "_when": {"left", "op", "right", "describe"} with op one of gt, gte, lt, lte, eq, ne.',
    '- A step that starts long work (a training job) gets "_waitFor": {"tool": <a read-only tool>, "args": {...}, "until": <condition>} so later steps wait for it.',
    `- If the command is too vague to plan, call ${CLARIFY_TOOL} with one question. If the tools cannot do it, call ${DECLINE_TOOL} with the reason.`,
  ];
  if (context.dryRun) parts.push('- This is a dry run: plan even when something the command names may not exist yet; use the names as given.');
  const memory = memoryLines(context.memory);
  if (memory.length > 0) parts.push('What this conversation refers to ("it", "that job", "the last model"):', ...memory);
  if (inlineTools) {
    parts.push(
      'Answer with one JSON object and nothing else: {"steps": [{"tool": "<name>", "args": {...}}], "question"?: "...", "reason"?: "..."}. Put "_why", "_when" and "_waitFor" inside args.',
      'The tools (name, description, JSON Schema of the arguments):',
      ...inlineTools.map((tool) => `- ${tool.name}: ${tool.description}\n  ${JSON.stringify(tool.parameters)}`),
    );
  }
  return parts.join('\n');
}
