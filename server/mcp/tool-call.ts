import { performance } from 'node:perf_hooks';
import type { CallToolResult } from '@modelcontextprotocol/server';
import type * as z from 'zod';
import { type AuditLog, type AuditEntry, hashArguments } from '../audit/audit-log.ts';
import type { Principal } from '../auth/principal.ts';
import { missingScopes } from '../auth/scopes.ts';
import { AnvilError, ErrorCodes, isAnvilError, type ErrorCode } from '../errors.ts';
import type { Lifecycle } from '../lifecycle.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { CoreServices } from '../services.ts';
import type { AnyToolDefinition, ProgressUpdate } from './tool.ts';

export interface ToolCallDeps {
  services: CoreServices;
  audit: AuditLog;
  metrics: Metrics;
  log: Logger;
  lifecycle: Lifecycle;
}

export interface ToolCallRequest {
  tool: AnyToolDefinition;
  args: unknown;
  principal: Principal;
  requestId: string;
  transport: AuditEntry['transport'];
  signal: AbortSignal;
  progress(update: ProgressUpdate): Promise<void>;
}

/** Counts and audits one call, whether it ran or was refused before reaching its handler. */
export function recordToolCall(
  deps: Pick<ToolCallDeps, 'audit' | 'metrics'>,
  call: {
    tool: string;
    principal: Principal;
    requestId: string;
    args: unknown;
    outcome: AuditEntry['outcome'];
    errorCode: string | undefined;
    durationMs: number;
    transport: AuditEntry['transport'];
  },
): void {
  deps.metrics.toolCalls.inc({ tool: call.tool, outcome: call.outcome });
  deps.metrics.toolDuration.observe({ tool: call.tool }, call.durationMs / 1000);
  deps.audit.record({
    requestId: call.requestId,
    principal: call.principal.id,
    project: call.principal.project,
    tool: call.tool,
    argsSha256: hashArguments(call.args),
    outcome: call.outcome,
    ...(call.errorCode ? { errorCode: call.errorCode } : {}),
    durationMs: call.durationMs,
    transport: call.transport,
  });
}

/** The error half of the contract: an `isError` result whose text starts with the stable code. */
export function toolErrorResult(code: ErrorCode, message: string, details?: Record<string, unknown>): CallToolResult {
  return {
    isError: true,
    content: [{ type: 'text', text: `${code}: ${message}` }],
    _meta: { 'dev.anvil/error': { code, message, ...(details ? { details } : {}) } },
  };
}

/** Names every offending field and what was expected there, in one sentence per field. */
export function describeZodIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const prefix = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => `${prefix ? `${prefix}.` : ''}${key}: unknown field, not accepted here`).join('; ');
      }
      return `${prefix || '(arguments)'}: ${issue.message}`;
    })
    .join('; ');
}

function combineSignals(signals: AbortSignal[]): AbortSignal {
  return AbortSignal.any(signals);
}

/**
 * Runs one tool call through everything every call gets: shutdown gate, scope check, input
 * validation, the handler, output validation, error mapping, metrics and the audit entry.
 */
export async function runToolCall(deps: ToolCallDeps, request: ToolCallRequest): Promise<CallToolResult> {
  const { tool, principal, requestId } = request;
  const started = performance.now();
  let outcome: AuditEntry['outcome'] = 'ok';
  let errorCode: string | undefined;
  let leave: (() => void) | undefined;
  try {
    leave = deps.lifecycle.enter();
    const missing = missingScopes(principal.scopes, tool.scopes);
    if (missing.length > 0) {
      throw new AnvilError(ErrorCodes.FORBIDDEN, `${tool.name} requires scope ${missing.join(', ')}; this principal has ${principal.scopes.join(', ') || 'no scopes'}`, {
        details: { requiredScopes: missing },
      });
    }
    const parsed = tool.input.safeParse(request.args ?? {});
    if (!parsed.success) {
      throw new AnvilError(ErrorCodes.INVALID_INPUT, `Invalid arguments for ${tool.name}: ${describeZodIssues(parsed.error)}`);
    }
    const output = await tool.handler(parsed.data, {
      principal,
      requestId,
      log: deps.log.child({ tool: tool.name, requestId }),
      signal: combineSignals([request.signal, deps.lifecycle.signal]),
      progress: request.progress,
      services: deps.services,
    });
    const checked = tool.output.safeParse(output);
    if (!checked.success) {
      throw new Error(`${tool.name} produced output that does not match its schema: ${describeZodIssues(checked.error)}`);
    }
    return { content: [{ type: 'text', text: JSON.stringify(checked.data) }], structuredContent: checked.data };
  } catch (error) {
    if (isAnvilError(error)) {
      outcome = error.code === ErrorCodes.FORBIDDEN ? 'denied' : 'error';
      errorCode = error.code;
      return toolErrorResult(error.code, error.message, error.details);
    }
    outcome = 'error';
    errorCode = ErrorCodes.INTERNAL;
    deps.log.error({ err: error, tool: tool.name, requestId }, 'tool call failed with an unexpected error');
    return toolErrorResult(ErrorCodes.INTERNAL, `Internal error while running ${tool.name}; the server log has the details under request id ${requestId}`);
  } finally {
    leave?.();
    recordToolCall(deps, {
      tool: tool.name,
      principal,
      requestId,
      args: request.args,
      outcome,
      errorCode,
      durationMs: performance.now() - started,
      transport: request.transport,
    });
  }
}
