/**
 * The built-in `models` plugin: a model registry in the manner of MLflow's — named models per
 * project, numbered versions with lineage and model cards, aliases such as champion and challenger.
 * Other parts of Anvil (training, evaluation, deployment) reach the registry through what
 * `register` returns: `host.exportsOf(modelsPlugin).registry()`.
 */
import { anvilVersion, definePlugin } from 'anvil/plugin';
import { ModelRegistry, modelsMigrations } from './registry.ts';
import { aliasHistoryTool } from './tools/alias-history.ts';
import { getTool } from './tools/get.ts';
import { listTool } from './tools/list.ts';
import { modelCardResource } from './tools/resources.ts';
import { setAliasTool } from './tools/set-alias.ts';

export { ModelRegistry, type ModelArtifact, type ModelVersion, type VersionRef } from './registry.ts';
export { aliasNameSchema, MODEL_NAME, modelNameSchema, type ModelTask, type RegisterVersionInput } from './schema.ts';

export const modelsPlugin = definePlugin({
  id: 'models',
  version: anvilVersion,
  description: 'Model registry: versions with lineage, metrics and model cards; aliases such as champion and challenger',
  permissions: ['sql'],
  register(ctx) {
    ctx.migrations(modelsMigrations);
    const registry = new ModelRegistry(ctx.sql);
    const get = () => registry;
    ctx.tool(listTool(get, 'models_list'));
    ctx.tool(getTool(get, 'models_get'));
    ctx.tool(setAliasTool(get, 'models_set_alias'));
    ctx.tool(aliasHistoryTool(get, 'models_alias_history'));
    ctx.resource(modelCardResource(get));
    return { registry: get };
  },
});
