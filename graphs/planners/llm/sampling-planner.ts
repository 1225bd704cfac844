/**
 * The planner over MCP sampling: the client's own model plans, asked through a `sample` function
 * (a tool's `context.sample`), so this file knows nothing of MCP. With `toolUse` the catalog goes
 * as sampling tools and the answer's `tool_use` blocks are the steps; without it (a client that
 * declared sampling but not `sampling.tools`) the catalog is listed in the prompt and the model
 * answers with a JSON plan. Either way planFromToolCalls applies the same checks.
 */
import { AnvilError, ErrorCodes, isAnvilError, type ClientRequestOptions, type SampleContent, type SampleRequest, type SampleResult } from 'anvil/plugin';
import type { Plan, Planner, PlanningContext } from '../../plan.ts';
import type { RiskOptions } from '../../risk.ts';
import { CLARIFY_TOOL, DECLINE_TOOL, systemPrompt, toolDefinitions } from './prompt.ts';
import { planFromToolCalls, type ModelToolCall } from './steps.ts';

export type SampleFunction = (request: SampleRequest, options?: ClientRequestOptions) => Promise<SampleResult>;

export interface SamplingPlannerOptions {
  readonly sample: SampleFunction;
  /** The client declared `sampling.tools`: offer the catalog as tools (default true). */
  readonly toolUse?: boolean;
  readonly maxTokens?: number;
  /** How long the client may take (it may ask its user first); default 120 s. */
  readonly timeoutMs?: number;
  readonly risk?: RiskOptions;
}

function contentBlocks(content: SampleResult['content']): readonly SampleContent[] {
  return Array.isArray(content) ? content : [content as SampleContent];
}

function textOf(blocks: readonly SampleContent[]): string {
  return blocks.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('\n');
}

/** The first JSON object in the text (models wrap it in prose or a ``` fence). */
function jsonObject(text: string): Record<string, unknown> | undefined {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) return undefined;
  try {
    const value: unknown = JSON.parse(text.slice(start, end + 1));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A JSON plan answer → the same calls a tool-using model would have made. */
function callsFromJson(answer: Record<string, unknown>): ModelToolCall[] {
  const calls: ModelToolCall[] = [];
  const steps = Array.isArray(answer.steps) ? answer.steps : [];
  for (const step of steps) {
    if (typeof step !== 'object' || step === null) continue;
    const { tool, args, why, when } = step as Record<string, unknown>;
    const given = typeof args === 'object' && args !== null && !Array.isArray(args) ? { ...(args as Record<string, unknown>) } : {};
    if (why !== undefined && given._why === undefined) given._why = why;
    if (when !== undefined && given._when === undefined) given._when = when;
    calls.push({ name: typeof tool === 'string' ? tool : '(unnamed)', args: given });
  }
  if (typeof answer.question === 'string') calls.push({ name: CLARIFY_TOOL, args: { question: answer.question } });
  if (typeof answer.reason === 'string') calls.push({ name: DECLINE_TOOL, args: { reason: answer.reason } });
  return calls;
}

export function createSamplingPlanner(options: SamplingPlannerOptions): Planner {
  const toolUse = options.toolUse ?? true;
  return {
    name: 'sampling',
    async plan(command: string, context: PlanningContext): Promise<Plan> {
      const definitions = toolDefinitions(context.tools);
      // In JSON mode the answer's `question` / `reason` replace the two planning tools.
      const catalogNames = new Set(context.tools.map((tool) => tool.name));
      const catalogOnly = definitions.filter((tool) => catalogNames.has(tool.name));
      const request: SampleRequest = {
        messages: [{ role: 'user', content: { type: 'text', text: command } }],
        systemPrompt: systemPrompt(context, toolUse ? undefined : catalogOnly),
        maxTokens: options.maxTokens ?? 2048,
        temperature: 0,
        ...(toolUse
          ? { tools: definitions.map((tool) => ({ name: tool.name, description: tool.description, inputSchema: tool.parameters })), toolChoice: { mode: 'auto' as const } }
          : {}),
      };
      let result: SampleResult;
      try {
        result = await options.sample(request, { signal: context.signal, timeoutMs: options.timeoutMs ?? 120_000 });
      } catch (error) {
        if (context.signal.aborted || isAnvilError(error)) throw error;
        throw new AnvilError(ErrorCodes.UPSTREAM_FAILED, `Planner sampling failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      const blocks = contentBlocks(result.content);
      const note = textOf(blocks);
      let calls: ModelToolCall[];
      if (toolUse) {
        calls = blocks.flatMap((block) => (block.type === 'tool_use' ? [{ name: block.name, args: { ...block.input } }] : []));
      } else {
        const answer = jsonObject(note);
        calls = answer ? callsFromJson(answer) : [];
      }
      const planner = `sampling:${result.model}`;
      return planFromToolCalls({ command, planner, calls, tools: context.tools, note, ...(options.risk ? { risk: options.risk } : {}) });
    },
  };
}
