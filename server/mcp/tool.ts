import type * as z from 'zod';
import type { Principal } from '../auth/principal.ts';
import type { Logger } from '../log.ts';
import type { CoreServices } from '../services.ts';

export interface ToolAnnotations {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

export interface ProgressUpdate {
  progress: number;
  total?: number;
  message?: string;
}

/** What a tool handler gets besides its validated input. */
export interface ToolContext {
  readonly principal: Principal;
  /** Correlates the call with logs, the audit trail and the HTTP request. */
  readonly requestId: string;
  readonly log: Logger;
  /** Aborted when the client cancels or the server shuts down past its grace period. */
  readonly signal: AbortSignal;
  /** Sends an MCP progress notification when the client asked for them; a no-op otherwise. */
  progress(update: ProgressUpdate): Promise<void>;
  readonly services: CoreServices;
}

export type ObjectSchema = z.ZodObject<z.ZodRawShape>;

export interface ToolDefinition<I extends ObjectSchema = ObjectSchema, O extends ObjectSchema = ObjectSchema> {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly input: I;
  readonly output: O;
  readonly annotations: ToolAnnotations;
  /** Every scope listed is required to list and call the tool; empty means any authenticated principal. */
  readonly scopes: readonly string[];
  handler(input: z.output<I>, context: ToolContext): Promise<z.output<O>>;
}

/** Identity at run time; at compile time it ties the handler's types to the schemas. */
export function defineTool<I extends ObjectSchema, O extends ObjectSchema>(definition: ToolDefinition<I, O>): ToolDefinition<I, O> {
  return definition;
}

/** The form a registry stores: schemas erased to the base object type. */
export type AnyToolDefinition = ToolDefinition<ObjectSchema, ObjectSchema>;
