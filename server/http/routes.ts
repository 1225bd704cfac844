/**
 * HTTP routes that built-in plugins add beside `/mcp` (the worker API under `/api/workers`,
 * artifacts, `/events`). Each is mounted behind bearer auth with the scopes it names, and its
 * handler's AnvilErrors become JSON answers with a status that matches the code.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AnvilError, ErrorCodes, isAnvilError, type ErrorCode } from '../errors.ts';
import type { AppEnv } from './env.ts';

export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface HttpRoute {
  readonly method: RouteMethod;
  /** A Hono path under `/api/` or `/events`, e.g. `/api/workers/:id/heartbeat`. */
  readonly path: string;
  /** All required; none means any authenticated caller. */
  readonly scopes: readonly string[];
  /** Long-lived answers (SSE) are not counted as in-flight calls for the shutdown drain. */
  readonly streaming?: boolean;
  /** Served without a credential (built-in health probes). */
  readonly public?: boolean;
  handler(c: Context<AppEnv>): Response | Promise<Response>;
  /** For streaming routes: end every open stream now (the server is shutting down). */
  closeStreams?(): void;
}

const RESERVED = /^\/(mcp|healthz|readyz|metrics)(\/|$)|^\/\.well-known\//;

export class HttpRoutes {
  private readonly routes: HttpRoute[] = [];

  /** `owner` given: a third-party plugin, whose routes must live under `/api/<owner>/`. */
  add(route: HttpRoute, owner?: string): void {
    if (!route.path.startsWith('/') || RESERVED.test(route.path)) {
      throw new AnvilError(ErrorCodes.INVALID_INPUT, `HTTP route ${route.path} is reserved or does not start with /`);
    }
    if (owner !== undefined && !route.path.startsWith(`/api/${owner}/`)) {
      throw new AnvilError(ErrorCodes.PLUGIN_INVALID, `Plugin ${owner}: HTTP route ${route.path} must start with /api/${owner}/`);
    }
    if (owner !== undefined && route.public) {
      throw new AnvilError(ErrorCodes.PLUGIN_INVALID, `Plugin ${owner}: only built-in plugins may serve routes without a credential`);
    }
    if (this.routes.some((existing) => existing.method === route.method && existing.path === route.path)) {
      throw new AnvilError(ErrorCodes.CONFLICT, `HTTP route ${route.method} ${route.path} is already registered`);
    }
    this.routes.push(route);
  }

  list(): readonly HttpRoute[] {
    return this.routes;
  }
}

const STATUS: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  [ErrorCodes.INVALID_INPUT]: 400,
  [ErrorCodes.UNAUTHENTICATED]: 401,
  [ErrorCodes.FORBIDDEN]: 403,
  [ErrorCodes.NOT_FOUND]: 404,
  [ErrorCodes.CONFLICT]: 409,
  [ErrorCodes.CHECKSUM_MISMATCH]: 422,
  [ErrorCodes.QUOTA_EXCEEDED]: 429,
  [ErrorCodes.RATE_LIMITED]: 429,
  [ErrorCodes.SHUTTING_DOWN]: 503,
};

/** `{error: {code, message, details?}}` with the status for its code; unknown errors are 500 without detail. */
export function errorResponse(c: Context<AppEnv>, error: unknown): Response {
  if (isAnvilError(error)) {
    const status = STATUS[error.code] ?? 500;
    return c.json({ error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } }, status);
  }
  return c.json({ error: { code: ErrorCodes.INTERNAL, message: `internal error (request id ${c.get('requestId')})` } }, 500);
}

export { errorFromResponse } from '../../contracts/errors.ts';
