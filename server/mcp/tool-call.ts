import { performance } from 'node:perf_hooks';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { type AuditEntry, type AuditLog, hashArguments } from '../audit/audit-log.ts';
import type { Principal } from '../auth/principal.ts';
import { missingScopes } from '../auth/scopes.ts';
import { AnvilError, ErrorCodes, isAnvilError, type ErrorCode } from '../errors.ts';
import type { Lifecycle } from '../lifecycle.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Catalog, CatalogTool } from './catalog.ts';
import type { ClientChannel, ProgressUpdate, ToolCallInfo } from './contracts.ts';

export interface ToolCallDeps {
  audit: AuditLog;
  metrics: Metrics;
  log: Logger;
  lifecycle: Lifecycle;
}

export interface ToolCallRequest {
  tool: CatalogTool;
  args: unknown;
  principal: Principal;
  requestId: string;
  transport: AuditEntry['transport'];
  signal: AbortSignal;
  progress(update: ProgressUpdate): Promise<void>;
  /** Requests back to the calling client; absent when there is none (in-process calls). */
  client?: ClientChannel;
  /** Recorded in the audit entry (e.g. `{via: 'agent'}` for a call a plugin made on the caller's behalf). */
  auditDetails?: Record<string, unknown>;
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
    details?: Record<string, unknown>;
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
    ...(call.details ? { details: call.details } : {}),
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

const refusals = new Set<string>([
  ErrorCodes.FORBIDDEN,
  ErrorCodes.TOOL_UNAVAILABLE,
  ErrorCodes.POLICY_DENIED,
  ErrorCodes.RATE_LIMITED,
  ErrorCodes.APPROVAL_REQUIRED,
]);

async function applyBeforeHooks(catalog: Catalog, info: ToolCallInfo): Promise<void> {
  for (const hook of catalog.beforeHooks) {
    const decision = await hook(info);
    if (!decision || decision.action === 'allow') continue;
    if (decision.action === 'deny') throw new AnvilError(ErrorCodes.POLICY_DENIED, decision.reason);
    if (decision.action === 'throttle') {
      throw new AnvilError(ErrorCodes.RATE_LIMITED, `${decision.reason}; retry in ${Math.ceil(decision.retryAfterMs / 1000)} s`, {
        details: { retryAfterMs: decision.retryAfterMs },
      });
    }
    throw new AnvilError(ErrorCodes.APPROVAL_REQUIRED, decision.reason);
  }
}

/**
 * Runs one tool call through everything every call gets: shutdown gate, availability for the
 * caller's project and profile, scope check, input validation, policy hooks before and after, the
 * handler, error mapping, metrics and the audit entry.
 */
export async function runToolCall(deps: ToolCallDeps, catalog: Catalog, request: ToolCallRequest): Promise<CallToolResult> {
  const { tool, principal, requestId } = request;
  const started = performance.now();
  let outcome: AuditEntry['outcome'] = 'ok';
  let errorCode: string | undefined;
  let details: Record<string, unknown> | undefined = request.auditDetails;
  let leave: (() => void) | undefined;
  try {
    leave = deps.lifecycle.enter();
    const unavailable = await catalog.unavailable(principal, tool.pluginId, tool.name);
    if (unavailable) throw new AnvilError(ErrorCodes.TOOL_UNAVAILABLE, unavailable);
    const missing = missingScopes(principal.scopes, tool.scopes);
    if (missing.length > 0) {
      throw new AnvilError(ErrorCodes.FORBIDDEN, `${tool.name} requires scope ${missing.join(', ')}; this principal has ${principal.scopes.join(', ') || 'no scopes'}`, {
        details: { requiredScopes: missing },
      });
    }
    const parsed = tool.parseInput(request.args ?? {});
    if (!parsed.ok) throw new AnvilError(ErrorCodes.INVALID_INPUT, `Invalid arguments for ${tool.name}: ${parsed.message}`);
    const info: ToolCallInfo = { tool: tool.name, pluginId: tool.pluginId, principal, requestId, args: parsed.value };
    await applyBeforeHooks(catalog, info);
    let signal: AbortSignal | undefined;
    let result = await tool.invoke(parsed.value, {
      principal,
      requestId,
      // Combined on first use: most tools never look at it, and AbortSignal.any is not free per call.
      get signal() {
        return (signal ??= AbortSignal.any([request.signal, deps.lifecycle.signal]));
      },
      progress: request.progress,
      ...(request.client ? { client: request.client } : {}),
      audit: (extra) => {
        details = { ...details, ...extra };
      },
    });
    for (const hook of catalog.afterHooks) result = (await hook(info, result)) ?? result;
    if (result.isError) outcome = 'error';
    return { ...result };
  } catch (error) {
    if (isAnvilError(error)) {
      outcome = refusals.has(error.code) ? 'denied' : 'error';
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
      ...(details ? { details } : {}),
    });
  }
}

/** Names every offending field and what was expected there, in one clause per field. */
export function describeIssues(issues: ReadonlyArray<{ path?: ReadonlyArray<PropertyKey | { key: PropertyKey }>; message: string; code?: string; keys?: string[] }>): string {
  return issues
    .map((issue) => {
      const prefix = (issue.path ?? []).map((part) => String(typeof part === 'object' ? part.key : part)).join('.');
      if (issue.code === 'unrecognized_keys' && issue.keys) {
        return issue.keys.map((key) => `${prefix ? `${prefix}.` : ''}${key}: unknown field, not accepted here`).join('; ');
      }
      return `${prefix || '(arguments)'}: ${issue.message}`;
    })
    .join('; ');
}
