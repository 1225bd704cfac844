import type { PluginDescriptor } from 'anvil/plugin';
import type { SandboxPsp } from './payment/index.ts';

type BuiltinLoader = () => Promise<PluginDescriptor>;

/**
 * Built-in plugins an operator can switch on with `{"id": "<id>", "config": {...}}` in
 * anvil.config.json. Each is imported only when configured.
 */
export const builtinPlugins: Readonly<Record<string, BuiltinLoader>> = {
  agent: async () => (await import('./agent/index.ts')).agentPlugin,
  'mcp-proxy': async () => (await import('./mcp-proxy/index.ts')).mcpProxyPlugin,
  'payments-sandbox': async () => (await import('./payment/index.ts')).sandboxProviderPlugin,
  'rate-limit': async () => (await import('./rate-limit/index.ts')).rateLimitPlugin,
};

/** The sandbox payment provider network, which `anvil sandbox-psp` runs as its own process. */
export async function loadSandboxPsp(): Promise<typeof SandboxPsp> {
  return (await import('./payment/index.ts')).SandboxPsp;
}
export type { FaultLevel } from './payment/index.ts';
