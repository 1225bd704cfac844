/**
 * The real tool catalog as a caller sees it (`ctx.tools.list`), from a test host with every
 * built-in: what the offline planner's tests and bench plan against.
 */
import { definePlugin, type CallerPrincipal, type ToolDescription, type ToolInvoker } from 'anvil/plugin';
import { createTestHost, type TestHost } from 'anvil/testing';

export const OPERATOR: CallerPrincipal = { id: 'local:operator', kind: 'local', project: 'default', scopes: ['*'] };

export async function catalogHost(principal: CallerPrincipal = OPERATOR): Promise<{ host: TestHost; catalog: ToolDescription[]; invoker: ToolInvoker }> {
  let invoker: ToolInvoker | undefined;
  const probe = definePlugin({
    id: 'catalog-probe',
    version: '1.0.0',
    permissions: ['tools'],
    register(ctx) {
      invoker = ctx.tools;
    },
  });
  const host = await createTestHost({ plugins: [probe] });
  if (!invoker) throw new Error('the probe plugin got no ctx.tools');
  return { host, catalog: await invoker.list(principal), invoker };
}
