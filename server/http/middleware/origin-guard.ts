import { hostHeaderValidationResponse, localhostAllowedHostnames, localhostAllowedOrigins, originValidationResponse } from '@modelcontextprotocol/server';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.ts';

/**
 * DNS-rebinding guard: the Host header must name this server (loopback names, plus any configured
 * ones) and a browser Origin, when sent, must be one we trust. Answers 403 otherwise.
 */
export function originGuard(options: { loopback: boolean; allowedHosts: readonly string[]; allowedOrigins: readonly string[] }): MiddlewareHandler<AppEnv> {
  const hosts = [...(options.loopback ? localhostAllowedHostnames() : []), ...options.allowedHosts];
  const origins = [...localhostAllowedOrigins(), ...options.allowedOrigins];
  const checkHost = hosts.length > 0;
  return async (c, next) => {
    const rejected = (checkHost ? hostHeaderValidationResponse(c.req.raw, hosts) : undefined) ?? originValidationResponse(c.req.raw, origins);
    if (rejected) return rejected;
    await next();
  };
}
