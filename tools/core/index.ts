import { anvilVersion, definePlugin, z } from 'anvil/plugin';
import { registerPluginTools } from './plugins.ts';
import { statusTool } from './status.ts';
import { whoamiTool } from './whoami.ts';

/**
 * The core plugin: what every Anvil server offers whatever else is installed. It is written with
 * the same public API as any other plugin; being built in, it names its tools freely (`anvil_*`),
 * and it holds the `admin` permission (server health, plugin administration) through `ctx.admin`.
 */
export const corePlugin = definePlugin({
  id: 'anvil',
  version: anvilVersion,
  description: 'Server status, identity and plugin administration.',
  permissions: ['admin'],
  register(ctx) {
    const { admin, host } = ctx;
    ctx.tool(statusTool(admin, host));
    ctx.tool(whoamiTool);
    registerPluginTools(ctx, admin.plugins);

    ctx.resource({
      name: 'anvil-about',
      title: 'About this Anvil server',
      description: 'Version, storage and queue kinds, and the calling principal, as JSON.',
      uri: 'anvil://server/about',
      mimeType: 'application/json',
      async read(uri, _variables, { principal }) {
        const about = { version: anvilVersion, storage: host.storage, queue: host.queue, principal: principal.id, project: principal.project };
        return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(about, null, 2) }] };
      },
    });

    ctx.prompt({
      name: 'anvil_getting_started',
      title: 'Getting started with Anvil',
      description: 'Orients an assistant: what this server can do for the user and which tools to call first.',
      args: z.object({ goal: z.string().max(500).optional() }),
      async render({ goal }, { principal }) {
        const text = [
          `You are connected to Anvil ${anvilVersion} as ${principal.id} in project "${principal.project}".`,
          'Call anvil_whoami to confirm your scopes and anvil_status to check the server before starting work.',
          goal ? `The user wants to: ${goal}` : 'Ask the user what they want to train, evaluate, deploy, search or pay for.',
        ].join('\n');
        return { messages: [{ role: 'user', content: { type: 'text', text } }] };
      },
    });
  },
});
