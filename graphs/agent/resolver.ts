/** Looks names up in the caller's project through its own read tools (so scopes apply). */
import type { CallerPrincipal, ToolInvoker } from 'anvil/plugin';
import type { EntityResolver } from '../plan.ts';

export function toolResolver(tools: ToolInvoker, principal: CallerPrincipal, signal: AbortSignal): EntityResolver {
  const read = async (tool: string, args: Record<string, unknown>): Promise<Record<string, unknown> | undefined> => {
    const result = await tools.call(tool, args, { principal, signal }).catch(() => undefined);
    if (!result || result.isError || typeof result.structuredContent !== 'object' || result.structuredContent === null) return undefined;
    return result.structuredContent;
  };
  const named = (record: Record<string, unknown> | undefined, fallback: string) => {
    if (!record) return undefined;
    const name = typeof record.name === 'string' ? record.name : fallback;
    return typeof record.version === 'number' ? { name, version: record.version } : { name };
  };
  return {
    model: async (name) => named(await read('models_get', { name }), name),
    dataset: async (name) => named(await read('datasets_get', { name, sampleRows: 0 }), name),
    deployment: async (name) => ((await read('deployments_get', { name })) ? { name } : undefined),
    knowledgeBase: async (name) => ((await read('kb_get', { kb: name, limit: 0 })) ? { name } : undefined),
    job: async (id) => {
      const job = await read('jobs_get', { id });
      return job ? { id, state: typeof job.state === 'string' ? job.state : 'unknown' } : undefined;
    },
  };
}
