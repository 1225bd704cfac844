import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.ts';

const acceptable = /^[A-Za-z0-9._:-]{8,128}$/;

/** Accepts a caller's well-formed `X-Request-Id` (so a trace spans the load balancer), else mints one. */
export function requestId(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const id = incoming && acceptable.test(incoming) ? incoming : randomUUID();
    c.set('requestId', id);
    await next();
    // Set after the handler: a Response a handler builds itself (the MCP handler's) does not carry
    // headers set on the context beforehand.
    c.header('x-request-id', id);
  };
}
