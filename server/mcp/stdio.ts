import { serveStdio, type StdioServerHandle } from '@modelcontextprotocol/server/stdio';
import { localPrincipal } from '../auth/principal.ts';
import type { Runtime } from '../runtime.ts';
import { createServerFactory } from './server-factory.ts';

/**
 * Serves MCP on this process's stdin/stdout as the configured local principal. Nothing else may
 * write to stdout: logs go to stderr or a file. `onClientGone` fires once the client closes stdin,
 * which is how a stdio client asks its server to exit.
 */
export function startStdioServer(runtime: Runtime, onClientGone: () => void): StdioServerHandle {
  const { stdio } = runtime.config;
  const factory = createServerFactory({
    catalog: runtime.catalog,
    deps: runtime.toolCallDeps,
    transport: 'stdio',
    localPrincipal: localPrincipal(stdio.principal, stdio.project, stdio.scopes),
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
  return handle;
}
