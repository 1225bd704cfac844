import type { ContentBlock } from '@modelcontextprotocol/server';

/**
 * The shapes shared by the MCP layer and the plugin API. They live here, in the server, and the
 * plugin SDK re-exports them, so the server never imports from the SDK.
 */

/** Who is calling a tool, resource or prompt. */
export interface CallerPrincipal {
  /** `key:<id>`, `oauth:<sub>`, `local:<name>` or `anonymous`: what the audit log records. */
  readonly id: string;
  readonly kind: 'api-key' | 'oauth' | 'local' | 'anonymous';
  /** The tenant. Everything a plugin stores for a caller must be keyed by it. */
  readonly project: string;
  readonly scopes: readonly string[];
  /** Present for API keys: the public key id (never the secret). */
  readonly keyId?: string;
  /** A key's tool allowlist (names, or prefixes ending in `*`); absent means every tool. */
  readonly tools?: readonly string[];
}

export interface ProgressUpdate {
  progress: number;
  total?: number;
  message?: string;
}

export interface ToolAnnotations {
  readonly readOnlyHint?: boolean;
  readonly destructiveHint?: boolean;
  readonly idempotentHint?: boolean;
  readonly openWorldHint?: boolean;
}

/** An MCP tool result, for tools without an output schema (e.g. proxied tools). */
export interface ToolResult {
  content: ContentBlock[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  /** A failed call's `dev.anvil/error` entry: `{code, message, details?}`. */
  _meta?: Record<string, unknown>;
}

/** A call about to run (or just run) under a policy hook. */
export interface ToolCallInfo {
  readonly tool: string;
  readonly pluginId: string;
  readonly principal: CallerPrincipal;
  readonly requestId: string;
  readonly args: Record<string, unknown>;
}

export type PolicyDecision =
  | { action: 'allow' }
  | { action: 'deny'; reason: string }
  | { action: 'throttle'; reason: string; retryAfterMs: number }
  | { action: 'require-approval'; reason: string };

export type BeforeToolHook = (call: ToolCallInfo) => Promise<PolicyDecision | void> | PolicyDecision | void;
/** Returns a replacement result (e.g. with secrets redacted), or nothing to keep it. */
export type AfterToolHook = (call: ToolCallInfo, result: ToolResult) => Promise<ToolResult | void> | ToolResult | void;

/**
 * What the connected client declared in `initialize` (MCP client capabilities), as sent; empty for a
 * call that cannot reach its client (stateless HTTP, MCP 2026-07-28, in-process).
 */
export interface ClientCapabilities {
  readonly elicitation?: { readonly form?: Record<string, unknown>; readonly url?: Record<string, unknown> };
  readonly sampling?: { readonly tools?: Record<string, unknown>; readonly context?: Record<string, unknown> };
  readonly roots?: { readonly listChanged?: boolean };
  readonly [capability: string]: unknown;
}

/** One field of an elicitation form: MCP allows flat primitives only (string, number, integer, boolean, enums). */
export type ElicitField = Readonly<Record<string, unknown>> & { readonly type: 'string' | 'number' | 'integer' | 'boolean' | 'array' };

/** A form question for the person at the client (MCP `elicitation/create`, form mode). */
export interface ElicitRequest {
  readonly message: string;
  readonly requestedSchema: {
    readonly type: 'object';
    readonly properties: Readonly<Record<string, ElicitField>>;
    readonly required?: readonly string[];
  };
}

/** The person's answer: `accept` carries `content` matching the requested schema (checked by the SDK). */
export interface ElicitOutcome {
  readonly action: 'accept' | 'decline' | 'cancel';
  readonly content?: Readonly<Record<string, string | number | boolean | readonly string[]>>;
}

export interface SampleText {
  readonly type: 'text';
  readonly text: string;
}
export interface SampleMedia {
  readonly type: 'image' | 'audio';
  readonly data: string;
  readonly mimeType: string;
}
/** The model asks to call a tool (only when the request offered `tools`). */
export interface SampleToolUse {
  readonly type: 'tool_use';
  readonly id: string;
  readonly name: string;
  readonly input: Readonly<Record<string, unknown>>;
}
/** What a tool answered, sent back to the model in a later user message. */
export interface SampleToolResult {
  readonly type: 'tool_result';
  readonly toolUseId: string;
  readonly content: readonly SampleText[];
  readonly isError?: boolean;
}
export type SampleContent = SampleText | SampleMedia | SampleToolUse | SampleToolResult;

export interface SampleMessage {
  readonly role: 'user' | 'assistant';
  readonly content: SampleContent | readonly SampleContent[];
}

/** A tool the client's model may ask for; `inputSchema` is JSON Schema of an object. */
export interface SampleTool {
  readonly name: string;
  readonly description?: string;
  readonly inputSchema: Readonly<Record<string, unknown>>;
}

/** A completion from the client's model (MCP `sampling/createMessage`). */
export interface SampleRequest {
  readonly messages: readonly SampleMessage[];
  readonly systemPrompt?: string;
  readonly maxTokens: number;
  readonly temperature?: number;
  readonly stopSequences?: readonly string[];
  /** Needs the client's `sampling.tools` capability. */
  readonly tools?: readonly SampleTool[];
  readonly toolChoice?: { readonly mode?: 'auto' | 'required' | 'none' };
  readonly modelPreferences?: {
    readonly hints?: ReadonlyArray<{ readonly name?: string }>;
    readonly costPriority?: number;
    readonly speedPriority?: number;
    readonly intelligencePriority?: number;
  };
}

export interface SampleResult {
  /** The model the client used. */
  readonly model: string;
  readonly role: 'assistant' | 'user';
  readonly content: SampleContent | readonly SampleContent[];
  /** `endTurn`, `stopSequence`, `maxTokens`, `toolUse`, or a client-specific reason. */
  readonly stopReason?: string;
}

export interface ClientRequestOptions {
  /** Aborts the request (defaults to the tool call's own signal). */
  readonly signal?: AbortSignal;
  /** How long to wait for the client (a person answering a form may take a while); default 60 s. */
  readonly timeoutMs?: number;
}

/**
 * Server-to-client requests of one tool call, as the MCP layer offers them. Each method throws
 * ANVIL_E_CLIENT_CAPABILITY when the client did not declare the capability or the transport cannot
 * carry a server-to-client request.
 */
export interface ClientChannel {
  readonly capabilities: ClientCapabilities;
  elicit(request: ElicitRequest, options?: ClientRequestOptions): Promise<ElicitOutcome>;
  sample(request: SampleRequest, options?: ClientRequestOptions): Promise<SampleResult>;
}
