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
