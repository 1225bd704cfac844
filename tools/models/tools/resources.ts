/** The model card as an MCP resource: `anvil://models/{name}/{version}/card`, version a number, alias or "latest". */
import { AnvilError, ErrorCodes, type ResourceSpec } from 'anvil/plugin';
import type { ModelRegistry } from '../registry.ts';

export const modelCardUri = (name: string, version: number | string): string => `anvil://models/${encodeURIComponent(name)}/${encodeURIComponent(String(version))}/card`;

function variable(variables: Record<string, string | string[]>, key: string): string {
  const raw = variables[key];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value === '') throw new AnvilError(ErrorCodes.INVALID_INPUT, `the resource URI names no ${key}`);
  try {
    return decodeURIComponent(value);
  } catch {
    throw new AnvilError(ErrorCodes.INVALID_INPUT, `the resource URI's ${key} is not valid percent-encoding`);
  }
}

export function modelCardResource(registry: () => ModelRegistry): ResourceSpec {
  return {
    name: 'model-card',
    title: 'Model card',
    description: 'The model card of a version of a registered model, as Markdown; the version may be a number, an alias (champion) or "latest".',
    uri: 'anvil://models/{name}/{version}/card',
    mimeType: 'text/markdown',
    scopes: ['models:read'],
    async read(uri, variables, { project }) {
      const version = await registry().resolve(project, variable(variables, 'name'), variable(variables, 'version'));
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: version.cardMd }] };
    },
  };
}
