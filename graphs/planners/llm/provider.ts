/**
 * LLM providers (the `llmProviders` extension point) and the `llm` configuration section: which
 * provider, endpoint and model plan, and the NAME of the environment variable holding the API key.
 * The key is read from the environment when the planner is made and handed to the model only: it
 * is never logged, returned, or left in an error message.
 */
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { ChatOpenAI } from '@langchain/openai';
import { AnvilError, ErrorCodes, z } from 'anvil/plugin';
import type { Planner } from '../../plan.ts';
import type { RiskOptions } from '../../risk.ts';
import { createLlmPlanner } from './chat-planner.ts';

/** What a provider gets to build a chat model from (the key already read from the environment). */
export interface LlmModelConfig {
  readonly baseUrl: string | undefined;
  readonly model: string;
  readonly apiKey: string | undefined;
  readonly temperature: number;
  readonly timeoutMs: number;
  readonly maxTokens: number;
}

/** An `llmProviders` entry: makes LangChain chat models that support tool calling. */
export interface LlmProvider {
  readonly description?: string;
  /** Short name used in plan labels (`openai` → `openai:<model>`). */
  readonly label: string;
  createChatModel(config: LlmModelConfig): BaseChatModel;
}

declare module '../../../plugins/sdk/types.ts' {
  // Narrows the extension point: every `llmProviders` entry is an LlmProvider.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface LlmProviderExtension extends LlmProvider {}
}

export const OPENAI_COMPATIBLE = 'openai-compatible';

/**
 * Any endpoint speaking OpenAI's chat-completions API (OpenAI, vLLM, llama.cpp, Ollama, LiteLLM…),
 * through `@langchain/openai`'s ChatOpenAI with `configuration.baseURL`.
 */
export const openAiCompatibleProvider: LlmProvider = {
  label: 'openai',
  description: 'OpenAI-compatible chat completions (llm.baseUrl), tools bound from the caller\'s catalog',
  createChatModel(config) {
    return new ChatOpenAI({
      model: config.model,
      // Keyless local servers still get a header; never fall back to OPENAI_API_KEY silently.
      apiKey: config.apiKey ?? 'no-key',
      temperature: config.temperature,
      maxTokens: config.maxTokens,
      timeout: config.timeoutMs,
      maxRetries: 1,
      useResponsesApi: false,
      streaming: false,
      ...(config.baseUrl ? { configuration: { baseURL: config.baseUrl } } : {}),
    });
  },
};

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The `llm` section of the agent's configuration. */
export const llmConfigSchema = z
  .object({
    /** An `llmProviders` entry; `openai-compatible` is built in. */
    provider: z.string().min(1).default(OPENAI_COMPATIBLE),
    /** e.g. `https://api.openai.com/v1`, `http://127.0.0.1:8000/v1`. */
    baseUrl: z.url({ protocol: /^https?$/ }).optional(),
    model: z.string().min(1).max(200),
    /** The name of the environment variable holding the API key (not the key). */
    apiKeyEnv: z.string().regex(envName, 'must be an environment variable name').default('ANVIL_LLM_API_KEY'),
    temperature: z.number().min(0).max(2).default(0),
    timeoutMs: z.number().int().min(1000).max(600_000).default(60_000),
    maxTokens: z.number().int().min(64).max(32_768).default(2048),
  })
  .strict();

export type LlmConfig = z.output<typeof llmConfigSchema>;

export interface ConfiguredPlannerOptions {
  readonly config: LlmConfig;
  /** Where the key is read from (`process.env` in the server). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Providers contributed through `llmProviders` (the built-in one is always there). */
  readonly providers?: ReadonlyMap<string, LlmProvider>;
  readonly risk?: RiskOptions;
}

/** The planner of a configured endpoint; throws ANVIL_E_CONFIG_INVALID for an unknown provider. */
export function createConfiguredPlanner(options: ConfiguredPlannerOptions): Planner {
  const { config } = options;
  // A plugin may provide its own entry under any name; the built-in one answers `openai-compatible` otherwise.
  const provider = options.providers?.get(config.provider) ?? (config.provider === OPENAI_COMPATIBLE ? openAiCompatibleProvider : undefined);
  if (!provider) {
    const known = new Set([OPENAI_COMPATIBLE, ...(options.providers?.keys() ?? [])]);
    throw new AnvilError(ErrorCodes.CONFIG_INVALID, `llm.provider: no LLM provider named ${config.provider}; known: ${[...known].join(', ')}`);
  }
  const apiKey = options.env[config.apiKeyEnv] || undefined;
  const model = provider.createChatModel({
    baseUrl: config.baseUrl,
    model: config.model,
    apiKey,
    temperature: config.temperature,
    timeoutMs: config.timeoutMs,
    maxTokens: config.maxTokens,
  });
  return createLlmPlanner({ model, label: `${provider.label}:${config.model}`, secrets: apiKey ? [apiKey] : [], ...(options.risk ? { risk: options.risk } : {}) });
}
