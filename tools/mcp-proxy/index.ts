import type { Tool } from '@modelcontextprotocol/client';
import { definePlugin, jsonSchemaInput, z, type PluginContext, type ToolAnnotations, anvilVersion } from 'anvil/plugin';
import { mcpProxyConfig, type McpProxyConfig } from './config.ts';
import { Upstream } from './upstream.ts';

const STATUS_TOOL = 'proxy_status';
/** How often upstreams are looked after (each decides itself whether a retry or refresh is due). */
const TICK_MS = 250;
const toolNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$/;

const statusOutput = z.object({
  upstreams: z.array(
    z.object({
      name: z.string(),
      transport: z.enum(['stdio', 'http']),
      target: z.string(),
      connected: z.boolean(),
      era: z.enum(['modern', 'legacy']).nullable(),
      protocolVersion: z.string().nullable(),
      server: z.string().nullable(),
      tools: z.number().int(),
      skipped: z.array(z.string()),
      connectedAt: z.string().nullable(),
      reconnects: z.number().int(),
      lastError: z.string().nullable(),
      lastErrorAt: z.string().nullable(),
    }),
  ),
});

/** The Anvil name of an upstream tool: `<server>_<tool>`, characters Anvil does not allow in names replaced by `_`. */
function publicToolName(server: string, tool: string): string {
  return `${server}_${tool.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
}

function annotationsOf(tool: Tool): ToolAnnotations {
  const source = tool.annotations ?? {};
  const out: { -readonly [K in keyof ToolAnnotations]: ToolAnnotations[K] } = {};
  for (const key of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const) {
    const value = source[key];
    if (typeof value === 'boolean') out[key] = value;
  }
  return out;
}

/**
 * Mounts what one upstream offers, within its allowlist, under names nobody else has taken. Called
 * on every connection and whenever the upstream's list changes: tools mounted before stay (a call
 * to one the upstream dropped gets the upstream's own error), new ones are added — during register
 * with the plugin's other tools, afterwards live, and connected clients get tools/list_changed.
 */
function mountTools(ctx: PluginContext<McpProxyConfig>, upstream: Upstream, offered: readonly Tool[], taken: Set<string>, mountedNames: Set<string>): void {
  const { config } = upstream;
  const allow = config.tools ? new Set(config.tools) : undefined;
  const scopes = [...(config.scopes ?? [`${upstream.name}:write`])];
  const skipped: string[] = [];
  for (const tool of offered) {
    if (allow && !allow.has(tool.name)) continue;
    if (mountedNames.has(tool.name)) continue;
    const name = publicToolName(upstream.name, tool.name);
    if (!toolNamePattern.test(name)) {
      skipped.push(`${tool.name}: its Anvil name ${name} would be longer than 64 characters`);
      continue;
    }
    if (taken.has(name)) {
      skipped.push(`${tool.name}: the name ${name} is already taken`);
      continue;
    }
    try {
      ctx.tool({
        name,
        ...(tool.title ? { title: tool.title } : {}),
        description: `[${upstream.name}] ${tool.description ?? tool.title ?? tool.name}`,
        input: jsonSchemaInput(tool.inputSchema as Record<string, unknown>),
        annotations: annotationsOf(tool),
        scopes,
        async handler(input, call) {
          call.audit({ upstream: upstream.name, upstreamTool: tool.name });
          return upstream.call(tool.name, input, {
            signal: call.signal,
            progress: (update) => {
              void call.progress(update).catch(() => {});
            },
          });
        },
      });
    } catch (error) {
      skipped.push(`${tool.name}: it cannot be mounted (${error instanceof Error ? error.message : String(error)})`);
      continue;
    }
    taken.add(name);
    mountedNames.add(tool.name);
  }
  const names = new Set(offered.map((tool) => tool.name));
  for (const wanted of config.tools ?? []) {
    if (!names.has(wanted)) skipped.push(`${wanted}: in the tools allowlist, but the upstream does not offer it`);
  }
  upstream.mounted = mountedNames.size;
  const news = skipped.filter((reason) => !upstream.skipped.includes(reason));
  upstream.skipped = skipped;
  for (const reason of news) ctx.log.warn({ upstream: upstream.name }, `tool not mounted: ${reason}`);
}

/**
 * Anvil as a gateway: mounts other MCP servers' tools — started over stdio or reached over
 * Streamable HTTP — as `<server>_<tool>`, behind Anvil's authentication, scopes, policy hooks and
 * audit log. See README.md beside this file for the configuration and the failure behaviour.
 */
export const mcpProxyPlugin = definePlugin({
  id: 'mcp-proxy',
  version: anvilVersion,
  description: "Mounts other MCP servers' tools (stdio or HTTP) as <server>_<tool>, under Anvil's auth, scopes and audit.",
  permissions: ['network', 'subprocess'],
  config: mcpProxyConfig,
  async register(ctx) {
    const upstreams = Object.entries(ctx.config.servers).map(([name, server]) => new Upstream(name, server, ctx.log.child({ upstream: name })));
    ctx.onClose(async () => {
      await Promise.allSettled(upstreams.map((upstream) => upstream.close()));
    });

    const taken = new Set<string>([STATUS_TOOL, ...ctx.host.toolNames()]);
    for (const upstream of upstreams) {
      const mountedNames = new Set<string>();
      upstream.onTools = (tools) => mountTools(ctx, upstream, tools, taken, mountedNames);
    }
    // All at once, each bounded: an upstream that cannot be reached is logged, reported by
    // proxy_status and tried again in the background (its tools appear when it comes up); it
    // never stops Anvil or the other upstreams.
    const offered = await Promise.all(upstreams.map((upstream) => upstream.start().catch((): Tool[] | undefined => undefined)));
    // Each upstream on its own: one slow to connect must not hold back another's retry or refresh.
    ctx.every('upstreams', TICK_MS, () => {
      for (const upstream of upstreams) void upstream.tick().catch((error: unknown) => ctx.log.debug({ upstream: upstream.name, err: String(error) }, 'upstream upkeep failed'));
    });

    ctx.tool({
      name: STATUS_TOOL,
      title: 'MCP proxy status',
      description:
        'The upstream MCP servers this Anvil mounts tools from: transport, target, whether connected, negotiated protocol, ' +
        'how many tools are mounted (and which were skipped, why), reconnections and the last error. An upstream that is ' +
        'unreachable is tried again in the background; its tools appear once it answers.',
      input: z.object({}).strict(),
      output: statusOutput,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      scopes: ['anvil:read'],
      async handler() {
        return { upstreams: upstreams.map((upstream) => upstream.status()) };
      },
    });

    const down = upstreams.filter((upstream) => offered[upstreams.indexOf(upstream)] === undefined).map((upstream) => upstream.name);
    ctx.log.info({ upstreams: upstreams.length, down, tools: upstreams.reduce((sum, upstream) => sum + upstream.mounted, 0) }, 'mcp-proxy ready');
  },
});
