/**
 * One error taxonomy for the whole server. Errors are matched by their stable `code`, never by
 * `instanceof`: an error may cross a module boundary, a worker process or a plugin built against
 * another copy of this file, and the code is what clients and operators act on.
 */
export const ErrorCodes = {
  CONFIG_INVALID: 'ANVIL_E_CONFIG_INVALID',
  CONFIG_UNREADABLE: 'ANVIL_E_CONFIG_UNREADABLE',
  UNSAFE_BIND: 'ANVIL_E_UNSAFE_BIND',
  HOME_LOCKED: 'ANVIL_E_HOME_LOCKED',
  SOCKET_PATH_TOO_LONG: 'ANVIL_E_SOCKET_PATH_TOO_LONG',
  STORAGE_UNAVAILABLE: 'ANVIL_E_STORAGE_UNAVAILABLE',
  QUEUE_UNAVAILABLE: 'ANVIL_E_QUEUE_UNAVAILABLE',
  MIGRATION_FAILED: 'ANVIL_E_MIGRATION_FAILED',
  MIGRATION_CHECKSUM: 'ANVIL_E_MIGRATION_CHECKSUM',
  UNAUTHENTICATED: 'ANVIL_E_UNAUTHENTICATED',
  FORBIDDEN: 'ANVIL_E_FORBIDDEN',
  INVALID_INPUT: 'ANVIL_E_INVALID_INPUT',
  NOT_FOUND: 'ANVIL_E_NOT_FOUND',
  CONFLICT: 'ANVIL_E_CONFLICT',
  SHUTTING_DOWN: 'ANVIL_E_SHUTTING_DOWN',
  TOOL_UNAVAILABLE: 'ANVIL_E_TOOL_UNAVAILABLE',
  POLICY_DENIED: 'ANVIL_E_POLICY_DENIED',
  RATE_LIMITED: 'ANVIL_E_RATE_LIMITED',
  APPROVAL_REQUIRED: 'ANVIL_E_APPROVAL_REQUIRED',
  UPSTREAM_FAILED: 'ANVIL_E_UPSTREAM_FAILED',
  /** The connected client did not declare the capability (elicitation, sampling) or its transport cannot carry server-to-client requests. */
  CLIENT_CAPABILITY: 'ANVIL_E_CLIENT_CAPABILITY',
  CHECKSUM_MISMATCH: 'ANVIL_E_CHECKSUM_MISMATCH',
  QUOTA_EXCEEDED: 'ANVIL_E_QUOTA_EXCEEDED',
  PLUGIN_INVALID: 'ANVIL_E_PLUGIN_INVALID',
  PLUGIN_LOAD_FAILED: 'ANVIL_E_PLUGIN_LOAD_FAILED',
  PLUGIN_NOT_FOUND: 'ANVIL_E_PLUGIN_NOT_FOUND',
  PLUGIN_API_VERSION: 'ANVIL_E_PLUGIN_API_VERSION',
  PLUGIN_ANVIL_VERSION: 'ANVIL_E_PLUGIN_ANVIL_VERSION',
  PLUGIN_MISSING_DEPENDENCY: 'ANVIL_E_PLUGIN_MISSING_DEPENDENCY',
  PLUGIN_DEPENDENCY_VERSION: 'ANVIL_E_PLUGIN_DEPENDENCY_VERSION',
  PLUGIN_DEPENDENCY_CYCLE: 'ANVIL_E_PLUGIN_DEPENDENCY_CYCLE',
  PLUGIN_CONFIG: 'ANVIL_E_PLUGIN_CONFIG',
  PLUGIN_DUPLICATE: 'ANVIL_E_PLUGIN_DUPLICATE',
  PLUGIN_TOOL_CONFLICT: 'ANVIL_E_PLUGIN_TOOL_CONFLICT',
  PLUGIN_PERMISSION: 'ANVIL_E_PLUGIN_PERMISSION',
  PLUGIN_REGISTER_FAILED: 'ANVIL_E_PLUGIN_REGISTER_FAILED',
  USAGE: 'ANVIL_E_USAGE',
  INTERNAL: 'ANVIL_E_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface AnvilErrorShape {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export class AnvilError extends Error implements AnvilErrorShape {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options?: { details?: Record<string, unknown>; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AnvilError';
    this.code = code;
    if (options?.details) this.details = options.details;
  }
}

const knownCodes = new Set<string>(Object.values(ErrorCodes));

/** True when `error` carries one of Anvil's codes (optionally a specific one). */
export function isAnvilError(error: unknown, code?: ErrorCode): error is AnvilErrorShape {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = (error as { code?: unknown }).code;
  if (typeof candidate !== 'string' || !knownCodes.has(candidate)) return false;
  return code === undefined || candidate === code;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The inverse, for clients of these routes: an AnvilError from a JSON error answer. */
export function errorFromResponse(status: number, body: unknown, what: string): AnvilError {
  const error = typeof body === 'object' && body !== null ? (body as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error : undefined;
  const code = typeof error?.code === 'string' && isAnvilError({ code: error.code }) ? (error.code as ErrorCode) : ErrorCodes.UPSTREAM_FAILED;
  const message = typeof error?.message === 'string' ? error.message : `${what} answered HTTP ${status}`;
  const details = typeof error?.details === 'object' && error.details !== null ? (error.details as Record<string, unknown>) : undefined;
  return new AnvilError(code, message, details ? { details } : undefined);
}
