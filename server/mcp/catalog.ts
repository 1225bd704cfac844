import type { GetPromptResult, ReadResourceResult } from '@modelcontextprotocol/server';
import type { Principal } from '../auth/principal.ts';
import type { AfterToolHook, BeforeToolHook, ClientChannel, ProgressUpdate, ToolAnnotations, ToolResult } from './contracts.ts';

export type JsonSchema = Record<string, unknown>;
export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

/** Per-call facilities the MCP layer hands a tool. */
export interface InvokeContext {
  readonly principal: Principal;
  readonly requestId: string;
  readonly signal: AbortSignal;
  progress(update: ProgressUpdate): Promise<void>;
  audit(details: Record<string, unknown>): void;
  /** Requests back to the calling client (elicitation, sampling); absent for calls with no client (in-process). */
  readonly client?: ClientChannel;
}

export interface CallContext {
  readonly principal: Principal;
  readonly requestId: string;
}

/** A tool as the MCP layer sees it, whatever plugin contributed it. */
export interface CatalogTool {
  readonly name: string;
  readonly pluginId: string;
  readonly title: string | undefined;
  readonly description: string;
  readonly annotations: ToolAnnotations;
  readonly scopes: readonly string[];
  readonly inputJsonSchema: JsonSchema;
  readonly outputJsonSchema: JsonSchema | undefined;
  /** The tool's `_meta` in `tools/list` (e.g. its MCP App: `{ui: {resourceUri}}`). */
  readonly meta?: Record<string, unknown>;
  parseInput(args: unknown): Checked<Record<string, unknown>>;
  /** Runs the handler and shapes its output into a result (checked against the output schema when declared). */
  invoke(input: Record<string, unknown>, context: InvokeContext): Promise<ToolResult>;
}

export interface CatalogResource {
  readonly name: string;
  readonly pluginId: string;
  readonly title: string | undefined;
  readonly description: string;
  readonly uri: string;
  readonly template: boolean;
  readonly mimeType: string | undefined;
  readonly scopes: readonly string[];
  read(uri: URL, variables: Record<string, string | string[]>, context: CallContext): Promise<ReadResourceResult>;
}

export interface CatalogPrompt {
  readonly name: string;
  readonly pluginId: string;
  readonly title: string | undefined;
  readonly description: string;
  readonly argsJsonSchema: JsonSchema;
  readonly scopes: readonly string[];
  parseArgs(args: unknown): Checked<Record<string, unknown>>;
  render(args: Record<string, unknown>, context: CallContext): Promise<GetPromptResult>;
}

/** Everything the MCP surface offers, assembled once at start (and on plugin changes). */
export interface Catalog {
  readonly tools: ReadonlyMap<string, CatalogTool>;
  readonly resources: readonly CatalogResource[];
  readonly prompts: readonly CatalogPrompt[];
  readonly beforeHooks: readonly BeforeToolHook[];
  readonly afterHooks: readonly AfterToolHook[];
  /**
   * Why `principal` may not use the contributions of `pluginId`, `tool` optionally narrowing it
   * (the plugin is switched off for the project, the tool is outside the server's or the key's
   * profile), or undefined when it may.
   */
  unavailable(principal: Principal, pluginId: string, tool?: string): Promise<string | undefined>;
}
