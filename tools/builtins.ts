import type { BuiltinLoader } from '../plugins/host/load.ts';

/**
 * Built-in plugins an operator can switch on with `{"id": "<id>", "config": {...}}` in
 * anvil.config.json. Each is imported only when configured.
 */
export const builtinPlugins: Readonly<Record<string, BuiltinLoader>> = {
  'mcp-proxy': async () => (await import('./mcp-proxy/index.ts')).mcpProxyPlugin,
  'payments-sandbox': async () => (await import('./payment/providers/plugin.ts')).sandboxProviderPlugin,
  'rate-limit': async () => (await import('./rate-limit/index.ts')).rateLimitPlugin,
};
