/**
 * Recipe descriptors (from plugins, or the built-ins) → how a worker starts each one. The `command`
 * recipe takes its executable from the job's params, so it is a function of them.
 */
import type { RecipeSpec as RecipeDescriptor } from '../plugins/sdk/types.ts';
import type { ResolvedRecipe } from './job-run.ts';
import { commandRecipe, commandRecipeParams } from './recipes/command.ts';
import { entryCommand } from './runner.ts';

export type RecipeTable = ReadonlyMap<string, ResolvedRecipe | ((params: Record<string, unknown>) => ResolvedRecipe)>;

/** The recipes this machine cannot run, with why (`RecipeSpec.unavailable`); workers report it in their capabilities. */
export function unavailableRecipes(descriptors: Iterable<RecipeDescriptor>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const descriptor of descriptors) {
    const reason = descriptor.unavailable?.();
    if (reason !== undefined) out[descriptor.name] = reason;
  }
  return out;
}

export function recipeTable(descriptors: Iterable<RecipeDescriptor>, options: { allowCommand: boolean }): RecipeTable {
  const table = new Map<string, ResolvedRecipe | ((params: Record<string, unknown>) => ResolvedRecipe)>();
  for (const descriptor of descriptors) {
    if (descriptor.name === commandRecipe.name || descriptor.unavailable?.() !== undefined) continue;
    table.set(descriptor.name, entryCommand(descriptor.entry));
  }
  if (options.allowCommand) {
    table.set(commandRecipe.name, (params) => {
      const parsed = commandRecipeParams.parse(params);
      const start = entryCommand(parsed.command);
      return { command: start.command, args: [...start.args, ...parsed.args] };
    });
  }
  return table;
}
