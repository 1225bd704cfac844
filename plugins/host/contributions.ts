import { fromJsonSchema } from '@modelcontextprotocol/server';
import type * as z from 'zod';
import { AnvilError, ErrorCodes } from '../../server/errors.ts';
import type { Logger } from '../../server/log.ts';
import type { CallContext, CatalogPrompt, CatalogResource, CatalogTool, Checked, JsonSchema } from '../../server/mcp/catalog.ts';
import type { ToolResult } from '../../server/mcp/contracts.ts';
import { unreachableClient } from '../../server/mcp/client-channel.ts';
import { describeIssues } from '../../server/mcp/tool-call.ts';
import { MCP_APP_MIME_TYPE, type AnvilEvent, type ObjectSchema, type PluginQueue, type PluginSql, type PromptSpec, type ResourceContext, type ResourceSpec, type ToolApp, type ToolContext, type ToolInput, type ToolSpec } from '../sdk/types.ts';

const localNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$/;

/** What a plugin's contributions need from the host at call time. */
export interface ContributionScope {
  pluginId: string;
  builtin: boolean;
  log: Logger;
  sql: PluginSql;
  queue: PluginQueue;
  emit(type: string, payload: Record<string, unknown>, project?: string): AnvilEvent;
}

function zodJson(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  return schema['~standard'].jsonSchema[io]({ target: 'draft-2020-12' });
}

function zodCheck(schema: z.ZodType, value: unknown): Checked<Record<string, unknown>> {
  const parsed = schema.safeParse(value);
  return parsed.success ? { ok: true, value: parsed.data as Record<string, unknown> } : { ok: false, message: describeIssues(parsed.error.issues) };
}

function isZod(input: ToolInput): input is ObjectSchema {
  return !('kind' in input && input.kind === 'json-schema');
}

/** The JSON Schema validator reports `data/a/b must be number`; name the field as zod issues do (`a.b`). */
function jsonSchemaIssue(issue: { message: string; path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> }) {
  if (issue.path && issue.path.length > 0) return issue;
  const match = /^data(?:\/(\S+))? (.*)$/.exec(issue.message);
  if (!match) return issue;
  return { message: match[2] as string, path: match[1] ? match[1].split('/') : [] };
}

function inputChecker(input: ToolInput): { json: JsonSchema; check(value: unknown): Checked<Record<string, unknown>> } {
  if (isZod(input)) return { json: zodJson(input, 'input'), check: (value) => zodCheck(input, value) };
  const validator = fromJsonSchema<Record<string, unknown>>(input.schema);
  const json = { type: 'object', ...input.schema };
  return {
    json,
    check(value) {
      const result = validator['~standard'].validate(value);
      if (result instanceof Promise) return { ok: false, message: 'asynchronous validation is not supported' };
      if (result.issues) return { ok: false, message: describeIssues(result.issues.map(jsonSchemaIssue)) };
      return { ok: true, value: (result.value ?? {}) as Record<string, unknown> };
    },
  };
}

/** The public name of a contribution: built-ins name theirs freely, others live under `<pluginId>_`. */
export function publicName(scope: Pick<ContributionScope, 'pluginId' | 'builtin'>, local: string, what: string): string {
  if (!localNamePattern.test(local)) {
    throw new AnvilError(ErrorCodes.PLUGIN_INVALID, `Plugin ${scope.pluginId}: ${what} name "${local}" must be 1-64 letters, digits, _ or -`);
  }
  return scope.builtin ? local : `${scope.pluginId}_${local}`;
}

function isToolResult(value: unknown): value is ToolResult {
  return typeof value === 'object' && value !== null && Array.isArray((value as { content?: unknown }).content);
}

/** A tool's MCP App in `tools/list` (SEP-1865 `_meta.ui.resourceUri`, and the flat key hosts of the draft read). */
function appToolMeta(app: ToolApp): Record<string, unknown> {
  return { ui: { resourceUri: app.resourceUri }, 'ui/resourceUri': app.resourceUri };
}

/**
 * A result of a tool with an MCP App links the app that draws it: `_meta.ui.resourceUri` and a
 * `resource_link` block after the text, naming the resource for this very result (its data
 * embedded) when the app has one, for hosts that show resources but do not run apps.
 */
function withAppLink(result: ToolResult, app: ToolApp, output: Record<string, unknown>): ToolResult {
  if (result.isError) return result;
  const uri = app.resultUri?.(output) ?? app.resourceUri;
  const link = { type: 'resource_link' as const, uri, name: app.title ?? 'app', mimeType: MCP_APP_MIME_TYPE, ...(app.title ? { title: app.title } : {}) };
  return { ...result, content: [...result.content, link], _meta: { ...result._meta, ui: { resourceUri: uri } } };
}
/** In-process calls (`ctx.tools.call`) have no MCP client to ask. */
const noClient = unreachableClient('this call was made in-process, not by an MCP client');

export function catalogTool(scope: ContributionScope, spec: ToolSpec): CatalogTool {
  const name = publicName(scope, spec.name, 'tool');
  const input = inputChecker(spec.input);
  const output = spec.output;
  return {
    name,
    pluginId: scope.pluginId,
    title: spec.title,
    description: spec.description,
    annotations: spec.annotations ?? {},
    scopes: [...(spec.scopes ?? [])],
    inputJsonSchema: input.json,
    outputJsonSchema: output ? zodJson(output, 'output') : undefined,
    ...(spec.app ? { meta: appToolMeta(spec.app) } : {}),
    parseInput: input.check,
    async invoke(value, call) {
      const client = call.client ?? noClient;
      let log: Logger | undefined;
      const context: ToolContext = {
        principal: call.principal,
        project: call.principal.project,
        requestId: call.requestId,
        // Made on first use: a pino child per call was a visible share of a short call's CPU, and most tools never log.
        get log() {
          return (log ??= scope.log.child({ tool: name, requestId: call.requestId }));
        },
        sql: scope.sql,
        queue: scope.queue,
        get signal() {
          return call.signal;
        },
        progress: call.progress,
        audit: call.audit,
        emit: (event, payload) => scope.emit(`${scope.pluginId}.${event}`, payload, call.principal.project),
        clientCapabilities: client.capabilities,
        elicit: (request, options) => client.elicit(request, options),
        sample: (request, options) => client.sample(request, options),
      };
      const produced: unknown = await spec.handler(value as never, context);
      if (output) {
        const checked = zodCheck(output, produced);
        if (!checked.ok) throw new Error(`${name} returned output that does not match its schema: ${checked.message}`);
        const result: ToolResult = { content: [{ type: 'text', text: JSON.stringify(checked.value) }], structuredContent: checked.value };
        return spec.app ? withAppLink(result, spec.app, checked.value) : result;
      }
      if (!isToolResult(produced)) throw new Error(`${name} has no output schema, so it must return { content: [...] }`);
      return spec.app ? withAppLink(produced, spec.app, produced.structuredContent ?? {}) : produced;
    },
  };
}

function resourceContext(scope: ContributionScope, call: CallContext): ResourceContext {
  return { principal: call.principal, project: call.principal.project, requestId: call.requestId, log: scope.log.child({ requestId: call.requestId }), sql: scope.sql };
}

export function catalogResource(scope: ContributionScope, spec: ResourceSpec): CatalogResource {
  if (!scope.builtin && !spec.uri.startsWith(`anvil://${scope.pluginId}/`) && !spec.uri.startsWith(`ui://${scope.pluginId}/`)) {
    throw new AnvilError(ErrorCodes.PLUGIN_INVALID, `Plugin ${scope.pluginId}: resource URI ${spec.uri} must start with anvil://${scope.pluginId}/ (or ui://${scope.pluginId}/ for an MCP App)`);
  }
  return {
    name: publicName(scope, spec.name, 'resource'),
    pluginId: scope.pluginId,
    title: spec.title,
    description: spec.description,
    uri: spec.uri,
    template: /\{[^}]+\}/.test(spec.uri),
    mimeType: spec.mimeType,
    scopes: [...(spec.scopes ?? [])],
    read: (uri, variables, call) => spec.read(uri, variables, resourceContext(scope, call)),
  };
}

export function catalogPrompt(scope: ContributionScope, spec: PromptSpec): CatalogPrompt {
  return {
    name: publicName(scope, spec.name, 'prompt'),
    pluginId: scope.pluginId,
    title: spec.title,
    description: spec.description,
    argsJsonSchema: zodJson(spec.args, 'input'),
    scopes: [...(spec.scopes ?? [])],
    parseArgs: (value) => zodCheck(spec.args, value),
    render: (args, call) => spec.render(args as never, resourceContext(scope, call)),
  };
}
