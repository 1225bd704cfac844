import { serveStdio, type StdioServerHandle } from '@modelcontextprotocol/server/stdio';
import type { McpServer } from '@modelcontextprotocol/server';
import { localPrincipal } from '../auth/principal.ts';
import type { Catalog } from './catalog.ts';
import type { Runtime } from '../runtime.ts';
import { createServerFactory } from './server-factory.ts';

/**
 * Serves MCP on this process's stdin/stdout as the configured local principal. Nothing else may
 * write to stdout: logs go to stderr or a file. `onClientGone` fires once the client closes stdin,
 * which is how a stdio client asks its server to exit.
 */
export interface StdioHandle extends StdioServerHandle {
  /** Sends notifications/tools/list_changed to the connected client. */
  notifyToolsChanged(): void;
}

export function startStdioServer(runtime: Runtime, catalog: () => Catalog, onClientGone: () => void): StdioHandle {
  const { stdio } = runtime.config;
  // The connection's instance (plus a discarded discovery probe): the ones to notify of changes.
  const servers = new Set<McpServer>();
  const modern = new WeakSet<McpServer>();
  const syncs = new WeakMap<McpServer, () => void>();
  // URIs each (2025-era) instance subscribed to with resources/subscribe.
  const subscribed = new WeakMap<McpServer, Set<string>>();
  const factory = createServerFactory({
    catalog,
    deps: runtime.toolCallDeps,
    transport: 'stdio',
    localPrincipal: localPrincipal(stdio.principal, stdio.project, stdio.scopes),
    onServer: (server, era, syncTools) => {
      servers.add(server);
      syncs.set(server, syncTools);
      if (era === 'modern') modern.add(server);
    },
    subscriptions: {
      subscribe(server, uri) {
        let uris = subscribed.get(server);
        if (!uris) subscribed.set(server, (uris = new Set()));
        uris.add(uri);
      },
      unsubscribe(server, uri) {
        subscribed.get(server)?.delete(uri);
      },
    },
  });
  // A 2026-07-28 connection's outbound notifications go through the SDK's listen router, which
  // delivers them to the subscriptions/listen filters that asked for the URI; a 2025 one gets
  // notifications/resources/updated for the URIs it subscribed to only.
  const detachResources = runtime.services.resources.attach((uri) => {
    for (const server of servers) {
      if (!server.isConnected()) continue;
      if (!modern.has(server) && !subscribed.get(server)?.has(uri)) continue;
      void server.server.sendResourceUpdated({ uri }).catch(() => {});
    }
  });
  const handle = serveStdio(factory, { onerror: (error) => runtime.log.warn({ err: error.message }, 'stdio transport error') });
  let notified = false;
  const gone = () => {
    if (notified) return;
    notified = true;
    onClientGone();
  };
  process.stdin.once('end', () => {
    detachResources();
    gone();
  });
  process.stdin.once('close', gone);
  return {
    close: () => {
      detachResources();
      return handle.close();
    },
    notifyToolsChanged: () => {
      for (const server of servers) {
        if (!server.isConnected()) continue;
        // A tool added since the connection began (e.g. one a proxied server offers now) is
        // registered on it first, so that the tools/list the notification prompts shows it.
        syncs.get(server)?.();
        server.sendToolListChanged();
      }
    },
  };
}
