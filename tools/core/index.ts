import type { Catalog } from '../../server/mcp/catalog.ts';
import { aboutResource, gettingStartedPrompt } from './about.ts';
import { statusTool } from './status.ts';
import { whoamiTool } from './whoami.ts';

/** The tools every Anvil server offers, whatever else is installed. */
export const coreCatalog: Catalog = {
  tools: [statusTool, whoamiTool],
  resources: [aboutResource],
  prompts: [gettingStartedPrompt],
};
