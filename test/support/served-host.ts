/**
 * A test host served over real HTTP (`createHttpApp` on a loopback port), for tests whose host
 * configuration names the server's own URL — an OAuth resource server's `auth.oauth.resource` —
 * which is only known once the port is: the listener starts first and answers 503 until the host
 * is up.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createTestHost, type TestHost, type TestHostOptions } from 'anvil/testing';
import { createHttpApp } from '../../server/http/app.ts';

export interface ServedHost {
  host: TestHost;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** `<origin>/mcp` */
  resource: string;
  /** Closes the host, then the listener and its connections. */
  close(): Promise<void>;
}

function closeListener(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Starts a listener, then the host `options(resource)` describes, and serves the host's HTTP app on it. */
export async function serveTestHost(options: (served: { origin: string; resource: string }) => TestHostOptions): Promise<ServedHost> {
  let fetchAnvil: (request: Request) => Response | Promise<Response> = () => new Response('starting', { status: 503 });
  const server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: (request) => fetchAnvil(request), hostname: '127.0.0.1', port: 0 }, () => resolve(started as Server)) as Server;
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const resource = `${origin}/mcp`;
  let host: TestHost;
  try {
    host = await createTestHost(options({ origin, resource }));
  } catch (error) {
    await closeListener(server);
    throw error;
  }
  const { app } = createHttpApp(host.server.runtime, () => host.server.plugins.catalog);
  fetchAnvil = (request) => app.fetch(request);
  return {
    host,
    origin,
    resource,
    close: async () => {
      await host.close();
      await closeListener(server);
    },
  };
}
