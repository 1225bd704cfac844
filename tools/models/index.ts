/**
 * The built-in `models` plugin: a model registry in the manner of MLflow's — named models per
 * project, numbered versions with lineage and model cards, aliases such as champion and challenger.
 * Other parts of Anvil (training, evaluation, deployment) reach the registry through what
 * `register` returns: `host.exportsOf(modelsPlugin).registry()`.
 */
import { definePlugin } from 'anvil/plugin';
import { anvilVersion } from '../../server/version.ts';
import { ModelRegistry, modelsMigrations } from './registry.ts';
import { getTool } from './tools/get.ts';
import { listTool } from './tools/list.ts';
import { modelCardResource } from './tools/resources.ts';
import { setAliasTool } from './tools/set-alias.ts';

export { ModelRegistry } from './registry.ts';

export const modelsPlugin = definePlugin({
  id: 'models',
  version: anvilVersion,
  description: 'Model registry: versions with lineage, metrics and model cards; aliases such as champion and challenger',
  permissions: ['sql'],
  register(ctx) {
    ctx.migrations(modelsMigrations);
    const registry = new ModelRegistry(ctx.sql);
    const get = () => registry;
    // Built in, the tools are named models_* outright; loaded as a third-party plugin the host adds
    // the `models_` prefix itself. Either way clients see models_list, models_get, models_set_alias.
    const named = (local: string) => (ctx.internal ? `models_${local}` : local);
    ctx.tool(listTool(get, named('list')));
    ctx.tool(getTool(get, named('get')));
    ctx.tool(setAliasTool(get, named('set_alias')));
    ctx.resource(modelCardResource(get));
    return { registry: get };
  },
});
