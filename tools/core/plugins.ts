import { z } from 'anvil/plugin';
import type { PluginAdmin, PluginContext } from 'anvil/plugin';

const pluginSummary = z.object({
  id: z.string(),
  version: z.string().nullable(),
  description: z.string().nullable(),
  source: z.string(),
  builtin: z.boolean(),
  status: z.enum(['active', 'failed']),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  enabledForProject: z.boolean(),
  tools: z.array(z.string()),
});
const switchInput = z.object({ plugin: z.string().min(1).describe('The plugin id, as anvil_plugins_list shows it') }).strict();
const switchOutput = z.object({ plugin: z.string(), project: z.string(), enabled: z.boolean() });

/** Plugin administration tools: list what is installed, switch plugins per project. */
export function registerPluginTools(ctx: PluginContext, admin: PluginAdmin): void {
  ctx.tool({
    name: 'anvil_plugins_list',
    title: 'List plugins',
    description: 'Every configured plugin: version, whether it loaded (and why not), whether it is on for your project, and its tools.',
    input: z.object({}).strict(),
    output: z.object({ project: z.string(), plugins: z.array(pluginSummary) }),
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['anvil:read'],
    async handler(_input, { project }) {
      const disabled = await admin.disabled(project);
      const plugins = admin.reports().map((report) => ({ ...report, enabledForProject: report.status === 'active' && !disabled.has(report.id) }));
      return { project, plugins };
    },
  });

  for (const enabled of [true, false]) {
    ctx.tool({
      name: enabled ? 'anvil_plugins_enable' : 'anvil_plugins_disable',
      title: enabled ? 'Switch a plugin on' : 'Switch a plugin off',
      description: enabled
        ? 'Switches a plugin on for your project: its tools appear again in tools/list (connected clients are notified).'
        : 'Switches a plugin off for your project only: its tools disappear from tools/list and calls to them are refused. Other projects are unaffected.',
      input: switchInput,
      output: switchOutput,
      annotations: { readOnlyHint: false, destructiveHint: !enabled, idempotentHint: true, openWorldHint: false },
      scopes: ['anvil:admin'],
      async handler({ plugin }, { principal, project, audit }) {
        await admin.setEnabled(project, plugin, enabled, principal.id);
        audit({ plugin, enabled });
        return { plugin, project, enabled };
      },
    });
  }
}
