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
  const factory = createServerFactory({
    catalog,
    deps: runtime.toolCallDeps,
    transport: 'stdio',
    localPrincipal: localPrincipal(stdio.principal, stdio.project, stdio.scopes),
    onServer: (server) => servers.add(server),
  });
  const handle = serveStdio(factory, { onerror: (error) => runtime.log.warn({ err: error.message }, 'stdio transport error') });
  let notified = false;
  const gone = () => {
    if (notified) return;
    notified = true;
    onClientGone();
  };
  process.stdin.once('end', gone);
  process.stdin.once('close', gone);
  return {
    close: () => handle.close(),
    notifyToolsChanged: () => {
      for (const server of servers) {
        if (server.isConnected()) server.sendToolListChanged();
      }
    },
  };
}
