/**
 * A model's tool calls → a Plan, the same for every LLM planner (chat endpoint or MCP sampling).
 * The guarantees live here, not in the prompt: a step naming a tool outside the caller's catalog is
 * dropped and reported; arguments are checked against the tool's input JSON Schema and every bad
 * field is reported by name; references must point at an earlier step; risk comes from classifyRisk.
 */
import type { ToolDescription } from 'anvil/plugin';
import type { ComparisonOp, Plan, PlanStep, StepCondition, UnresolvedSlot } from '../../plan.ts';
import { classifyRisk, type RiskOptions } from '../../risk.ts';
import { checkArgs, refsIn, toArgs, toArgValue, type Args } from './arguments.ts';
import { CLARIFY_TOOL, DECLINE_TOOL } from './prompt.ts';

/** One tool call as a model produced it (LangChain `tool_calls`, MCP `tool_use`, or parsed JSON). */
export interface ModelToolCall {
  readonly name: string;
  readonly args: Record<string, unknown>;
  /** Set when the model's arguments could not be parsed (LangChain `invalid_tool_calls`). */
  readonly invalid?: string;
}

const comparisonOps = new Set<ComparisonOp>(['gt', 'gte', 'lt', 'lte', 'eq', 'ne']);
const stepRefPattern = /^(s\d+)(?:\.[A-Za-z0-9_$-]+)+$/;

/** Words the model wrote for a person (why, describe, question, reason), bounded so a flood cannot fill the plan. */
function text(value: unknown, max = 500): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const trimmed = value.trim();
  return trimmed.length > max ? `${trimmed.slice(0, max - 3)}...` : trimmed;
}

function condition(value: unknown): StepCondition | string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) return 'expected {left, op, right, describe}';
  const given = value as Record<string, unknown>;
  const left = toArgValue(given.left);
  const right = toArgValue(given.right);
  const op = given.op;
  const describe = text(given.describe);
  if (left === undefined || right === undefined) return 'left and right are required';
  if (typeof op !== 'string' || !comparisonOps.has(op as ComparisonOp)) return 'op must be one of gt, gte, lt, lte, eq, ne';
  return { left, op: op as ComparisonOp, right, describe: describe ?? `${JSON.stringify(left)} ${op} ${JSON.stringify(right)}` };
}

function mention(value: unknown): string {
  if (value === undefined) return '(missing)';
  const json = JSON.stringify(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

function valueAt(args: Args, field: string): unknown {
  let current: unknown = args;
  for (const part of field.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

export interface StepsInput {
  readonly command: string;
  readonly planner: string;
  readonly calls: readonly ModelToolCall[];
  readonly tools: readonly ToolDescription[];
  /** What the model said besides its calls (used as the reason of an empty plan). */
  readonly note?: string;
  readonly risk?: RiskOptions;
  /** Calls past this many are left out and reported (a model, or a hostile client, answering with thousands). */
  readonly maxSteps?: number;
}

export const DEFAULT_MAX_STEPS = 30;

export function planFromToolCalls(input: StepsInput): Plan {
  const catalog = new Map(input.tools.map((tool) => [tool.name, tool]));
  const steps: PlanStep[] = [];
  const unresolved: UnresolvedSlot[] = [];
  const dropped: string[] = [];
  const stepIds = new Set<string>();
  let question: string | undefined;
  let declined: string | undefined;
  let flaggedSteps = 0;
  let planned = 0;
  let overLimit = 0;

  const maxSteps = input.maxSteps ?? DEFAULT_MAX_STEPS;
  const calls = input.calls.slice(0, maxSteps + 2);
  const beyond = input.calls.length - calls.length;
  calls.forEach((call, index) => {
    if (call.name === CLARIFY_TOOL && !catalog.has(CLARIFY_TOOL)) {
      question ??= text(call.args.question);
      return;
    }
    if (call.name === DECLINE_TOOL && !catalog.has(DECLINE_TOOL)) {
      declined ??= text(call.args.reason);
      return;
    }
    planned += 1;
    if (planned > maxSteps) {
      overLimit += 1;
      return;
    }
    // Ids follow the model's call order (the prompt tells it so), so its references stay right
    // even when a step before them is dropped.
    const id = `s${index + 1}`;
    const tool = catalog.get(call.name);
    if (!tool) {
      dropped.push(call.name);
      unresolved.push({ step: id, field: 'tool', mention: call.name, reason: `${call.name} is not a tool this caller may call; the step was left out` });
      return;
    }
    const flags: UnresolvedSlot[] = [];
    if (call.invalid) flags.push({ step: id, field: '(arguments)', mention: mention(call.invalid), reason: 'the model sent arguments that are not valid JSON' });
    const { _why: why, _when: when, _waitFor: waitFor, ...rest } = call.args;
    const args = toArgs(rest);
    for (const issue of checkArgs(tool.inputSchema, args)) {
      flags.push({ step: id, field: issue.field, mention: mention(valueAt(args, issue.field)), reason: issue.message });
    }
    for (const { path, ref } of refsIn(args)) {
      const target = stepRefPattern.exec(ref)?.[1];
      if (!target || !stepIds.has(target)) {
        flags.push({ step: id, field: path.join('.'), mention: ref, reason: 'a reference must name an earlier step of this plan and a field of its result, like s1.jobId' });
      }
    }
    const stepCondition = condition(when);
    if (typeof stepCondition === 'string') flags.push({ step: id, field: '_when', mention: mention(when), reason: stepCondition });
    const wait = waitStep(waitFor, catalog, id, flags);
    unresolved.push(...flags);
    if (flags.length > 0) flaggedSteps += 1;
    stepIds.add(id);
    steps.push({
      id,
      tool: tool.name,
      args,
      why: text(why) ?? tool.title ?? tool.description.split(/(?<=\.)\s/)[0] ?? tool.name,
      risk: classifyRisk(tool, input.risk),
      ...(stepCondition && typeof stepCondition !== 'string' ? { when: stepCondition } : {}),
      ...(wait ? { waitFor: wait } : {}),
    });
  });

  const reasons: string[] = [];
  const tooMany = overLimit + beyond;
  if (tooMany > 0) reasons.push(`Left out ${tooMany} call(s) past the limit of ${maxSteps} steps per plan`);
  if (dropped.length > 0) reasons.push(`Left out ${dropped.length} step(s) naming tools outside the caller's catalog: ${[...new Set(dropped)].join(', ')}`);
  if (steps.length === 0) reasons.unshift(declined ?? (question ? 'The command is too vague to plan' : (text(input.note) ?? 'The model proposed no steps')));
  const confidence = planned === 0 || steps.length === 0 ? 0 : (steps.length - flaggedSteps) / planned;
  return {
    command: input.command,
    planner: input.planner,
    steps,
    unresolved,
    confidence: Math.round(confidence * 1000) / 1000,
    ...(reasons.length > 0 ? { reason: reasons.join('. ') } : {}),
    ...(question && steps.length === 0 ? { question } : {}),
  };
}

/** `_waitFor`: poll a read-only tool from the catalog until a condition holds. */
function waitStep(value: unknown, catalog: ReadonlyMap<string, ToolDescription>, id: string, flags: UnresolvedSlot[]): PlanStep['waitFor'] {
  if (value === undefined) return undefined;
  const given = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const toolName = typeof given.tool === 'string' ? given.tool : '';
  const tool = catalog.get(toolName);
  if (!tool || tool.annotations.readOnlyHint !== true) {
    flags.push({ step: id, field: '_waitFor.tool', mention: mention(given.tool), reason: 'must be a read-only tool this caller may call' });
    return undefined;
  }
  const until = condition(given.until);
  if (!until || typeof until === 'string') {
    flags.push({ step: id, field: '_waitFor.until', mention: mention(given.until), reason: typeof until === 'string' ? until : 'a condition is required' });
    return undefined;
  }
  const args = typeof given.args === 'object' && given.args !== null ? toArgs(given.args as Record<string, unknown>) : {};
  const timeoutMs = typeof given.timeoutMs === 'number' && given.timeoutMs > 0 ? given.timeoutMs : undefined;
  return { tool: tool.name, args, until, ...(timeoutMs ? { timeoutMs } : {}) };
}

