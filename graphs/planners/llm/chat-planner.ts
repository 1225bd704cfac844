/**
 * The planner over a LangChain chat model (an OpenAI-compatible endpoint through ChatOpenAI, or
 * any provider from the `llmProviders` extension point): the caller's catalog is bound as tools,
 * the model answers with tool calls in one turn, and planFromToolCalls turns them into steps.
 */
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, HumanMessage, SystemMessage, type BaseMessage } from '@langchain/core/messages';
import { AnvilError, ErrorCodes } from 'anvil/plugin';
import type { Plan, Planner, PlanningContext } from '../../plan.ts';
import type { RiskOptions } from '../../risk.ts';
import { systemPrompt, toolDefinitions } from './prompt.ts';
import { planFromToolCalls, type ModelToolCall } from './steps.ts';

export interface LlmPlannerOptions {
  /** A chat model that supports tool calling (`bindTools`). */
  readonly model: BaseChatModel;
  /** Reported in each plan as `planner` (e.g. `openai:gpt-4o-mini`); defaults to `llm`. */
  readonly label?: string;
  /** Strings that must never appear in an error this planner throws (the API key). */
  readonly secrets?: readonly string[];
  readonly risk?: RiskOptions;
}

export function redact(message: string, secrets: readonly string[]): string {
  return secrets.filter((secret) => secret.length >= 4).reduce((text, secret) => text.split(secret).join('[redacted]'), message);
}

function messageText(message: BaseMessage): string {
  const content = message.content;
  if (typeof content === 'string') return content;
  return content.map((part) => (typeof part === 'object' && part !== null && 'text' in part && typeof part.text === 'string' ? part.text : '')).join('');
}

function callsOf(message: BaseMessage): ModelToolCall[] {
  if (!AIMessage.isInstance(message)) return [];
  const valid = (message.tool_calls ?? []).map((call) => ({ name: call.name, args: (call.args ?? {}) as Record<string, unknown> }));
  const invalid = (message.invalid_tool_calls ?? []).map((call) => ({ name: call.name ?? '(unnamed)', args: {}, invalid: call.args ?? call.error ?? 'unparseable' }));
  return [...valid, ...invalid];
}

export function createLlmPlanner(options: LlmPlannerOptions): Planner {
  const label = options.label ?? 'llm';
  const secrets = options.secrets ?? [];
  const bindTools = options.model.bindTools?.bind(options.model);
  if (!bindTools) throw new AnvilError(ErrorCodes.CONFIG_INVALID, `The chat model for planner ${label} does not support tool calling (bindTools)`);
  return {
    name: label.split(':')[0] ?? label,
    async plan(command: string, context: PlanningContext): Promise<Plan> {
      const definitions = toolDefinitions(context.tools);
      const bound = bindTools(definitions.map((tool) => ({ type: 'function', function: tool })));
      let answer: BaseMessage;
      try {
        answer = await bound.invoke([new SystemMessage(systemPrompt(context)), new HumanMessage(command)], { signal: context.signal });
      } catch (error) {
        if (context.signal.aborted) throw error;
        const message = error instanceof Error ? error.message : String(error);
        throw new AnvilError(ErrorCodes.UPSTREAM_FAILED, `Planner ${label} failed: ${redact(message, secrets)}`);
      }
      return planFromToolCalls({ command, planner: label, calls: callsOf(answer), tools: context.tools, note: messageText(answer), ...(options.risk ? { risk: options.risk } : {}) });
    },
  };
}
