import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import type { Catalog } from '../mcp/catalog.ts';
import type { Runtime } from '../runtime.ts';
import { createHttpApp } from './app.ts';

export interface HttpServerHandle {
  /** The address actually bound (the port is resolved when 0 was asked for). */
  readonly url: string;
  readonly port: number;
  /** Tells clients listening on `subscriptions/listen` (2026-07-28) that the tool list changed. */
  notifyToolsChanged(): void;
  /** Stops accepting connections; resolves once the listener is closed. */
  stopAccepting(): Promise<void>;
  /**
   * Lets responses still being written finish (keep-alive connections are closed as soon as they
   * go idle), then cuts whatever is left after `boundMs` and closes the MCP handler.
   */
  close(boundMs?: number): Promise<void>;
}

export async function startHttpServer(runtime: Runtime, catalog: () => Catalog): Promise<HttpServerHandle> {
  const { app, mcp } = createHttpApp(runtime, catalog);
  const { host, port } = runtime.config.http;
  const server = await new Promise<Server>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(started as Server)) as Server;
    started.once('error', reject);
  });
  // Resource changes go to the subscriptions/listen streams that asked for the URI.
  const detachResources = runtime.services.resources.attach((uri) => mcp.notify.resourceUpdated(uri));
  /** Ends long-lived streams of plugin routes (the /events SSE streams) so shutdown need not cut them. */
  const closeStreams = () => {
    for (const route of runtime.services.http.list()) {
      route.closeStreams?.();
    }
  };
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
    notifyToolsChanged: () => mcp.notify.toolsChanged(),
    async close(boundMs = 2_000) {
      detachResources();
      closeStreams();
      const closed = stopAccepting();
      const sweeper = setInterval(() => server.closeIdleConnections(), 25);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        closed.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), boundMs);
        }),
      ]);
      clearInterval(sweeper);
      clearTimeout(timer);
      await mcp.close();
      // Connections still open past the bound (a stuck or long-lived SSE stream) are cut.
      if (timedOut) server.closeAllConnections();
      await closed;
    },
  };
}
