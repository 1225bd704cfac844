import type { GetPromptResult, ReadResourceResult } from '@modelcontextprotocol/server';
import type * as z from 'zod';
import type { Principal } from '../auth/principal.ts';
import type { CoreServices } from '../services.ts';
import type { AnyToolDefinition, ObjectSchema } from './tool.ts';

export interface ResourceContext {
  readonly principal: Principal;
  readonly requestId: string;
  readonly services: CoreServices;
}

/** A resource at a fixed URI, or a family of them under an RFC 6570 template (`anvil://jobs/{id}`). */
export interface ResourceDefinition {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly uri: string;
  readonly template: boolean;
  readonly mimeType: string;
  readonly scopes: readonly string[];
  read(uri: URL, variables: Record<string, string | string[]>, context: ResourceContext): Promise<ReadResourceResult>;
}

export interface PromptDefinition<A extends ObjectSchema = ObjectSchema> {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly args: A;
  readonly scopes: readonly string[];
  render(args: z.output<A>, context: ResourceContext): Promise<GetPromptResult>;
}

export function definePrompt<A extends ObjectSchema>(definition: PromptDefinition<A>): PromptDefinition<A> {
  return definition;
}

/** Everything the MCP surface offers, assembled once at start and shared by every request. */
export interface Catalog {
  readonly tools: readonly AnyToolDefinition[];
  readonly resources: readonly ResourceDefinition[];
  readonly prompts: readonly PromptDefinition[];
}
