import * as z from 'zod';
import { definePrompt, type ResourceDefinition } from '../../server/mcp/catalog.ts';
import { anvilVersion } from '../../server/version.ts';

/** A static resource describing the server to the calling principal. */
export const aboutResource: ResourceDefinition = {
  name: 'anvil-about',
  title: 'About this Anvil server',
  description: 'Version, storage and queue kinds, and the calling principal, as JSON.',
  uri: 'anvil://server/about',
  template: false,
  mimeType: 'application/json',
  scopes: [],
  async read(uri, _variables, { principal, services }) {
    const about = {
      version: anvilVersion,
      storage: services.storage.kind,
      queue: services.queue.kind,
      principal: principal.id,
      project: principal.project,
    };
    return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(about, null, 2) }] };
  },
};

export const gettingStartedPrompt = definePrompt({
  name: 'anvil_getting_started',
  title: 'Getting started with Anvil',
  description: 'Orients an assistant: what this server can do for the user and which tools to call first.',
  args: z.object({ goal: z.string().max(500).optional() }),
  scopes: [],
  async render({ goal }, { principal }) {
    const text = [
      `You are connected to Anvil ${anvilVersion} as ${principal.id} in project "${principal.project}".`,
      'Call anvil_whoami to confirm your scopes and anvil_status to check the server before starting work.',
      goal ? `The user wants to: ${goal}` : 'Ask the user what they want to train, evaluate, deploy, search or pay for.',
    ].join('\n');
    return { messages: [{ role: 'user', content: { type: 'text', text } }] };
  },
});
