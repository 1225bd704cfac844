import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import type { Runtime } from '../runtime.ts';
import { createHttpApp } from './app.ts';

export interface HttpServerHandle {
  /** The address actually bound (the port is resolved when 0 was asked for). */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections; resolves once the listener is closed. */
  stopAccepting(): Promise<void>;
  /** Closes what is left: idle keep-alive connections and the MCP handler. */
  close(): Promise<void>;
}

export async function startHttpServer(runtime: Runtime): Promise<HttpServerHandle> {
  const { app, mcp } = createHttpApp(runtime);
  const { host, port } = runtime.config.http;
  const server = await new Promise<Server>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(started as Server)) as Server;
    started.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let listenerClosed: Promise<void> | undefined;
  const stopAccepting = () => {
    listenerClosed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    return listenerClosed;
  };
  return {
    url: `http://${shownHost}:${address.port}`,
    port: address.port,
    stopAccepting,
    async close() {
      const closed = stopAccepting();
      server.closeIdleConnections();
      await mcp.close();
      // Connections still open after the grace period (e.g. a stuck SSE stream) are cut.
      server.closeAllConnections();
      await closed;
    },
  };
}
