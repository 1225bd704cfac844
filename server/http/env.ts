import type { Principal } from '../auth/principal.ts';

/** Values middleware puts on the Hono context, typed for every handler after it. */
export interface AppEnv {
  Variables: {
    requestId: string;
    principal: Principal;
  };
}

const loopbackHosts = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return loopbackHosts.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A JSON-RPC error body, for answers given before a request reaches the MCP layer. */
export function jsonRpcError(code: number, message: string, data?: Record<string, unknown>) {
  return { jsonrpc: '2.0' as const, error: { code, message, ...(data ? { data } : {}) }, id: null };
}
