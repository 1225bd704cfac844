/**
 * The `command` recipe: any executable, given in the params. It speaks the recipe protocol like any
 * other recipe. Only registered where the operator allowed it (`jobs.allowCommandRecipe`, or
 * `anvil worker --allow-command`): whoever may submit it may run code on the worker.
 */
import * as z from 'zod';
import type { RecipeSpec as RecipeDescriptor } from '../../contracts/recipe.ts';

export const commandRecipeParams = z.object({
  command: z.string().min(1).max(4096),
  args: z.array(z.string().max(65_536)).max(1000).default([]),
  /** Anything else the program reads from its spec. */
  input: z.record(z.string(), z.unknown()).optional(),
});

export const commandRecipe = {
  name: 'command',
  description: 'Runs an executable given in params.command with params.args; it must speak the recipe protocol (JSON lines on stdout).',
  entry: 'command',
  params: commandRecipeParams,
} satisfies RecipeDescriptor;
