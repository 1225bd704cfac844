/**
 * Anvil's built-in recipes, as descriptors the jobs plugin registers with `ctx.recipe(...)`. Each
 * `entry` is a module the worker starts as a child process (see ../runner.ts `entryCommand`).
 */
import * as z from 'zod';
import type { RecipeSpec as RecipeDescriptor } from '../../plugins/sdk/types.ts';
import { evaluationRecipe } from './evaluation/recipe.ts';
import { tabularClassifierRecipe } from './tabular-classifier/recipe.ts';
import { textClassifierRecipe } from './text-classifier/recipe.ts';
import { torchTextClassifierRecipe } from './torch-text-classifier/recipe.ts';

export const diagnosticsCounterParams = z.object({
  steps: z.number().int().min(1).max(100_000),
  stepMs: z.number().int().min(0).max(60_000),
});
export type DiagnosticsCounterParams = z.infer<typeof diagnosticsCounterParams>;

/** Counts to `steps`, sleeping `stepMs` per step and checkpointing every step: a cluster smoke test. */
export const diagnosticsCounter = {
  name: 'diagnostics.counter',
  description:
    'Counts to `steps`, sleeping `stepMs` per step and checkpointing every step; resumes from a checkpoint and ' +
    'stops cleanly on SIGTERM. Result: {count, resumedFrom}. Use it to smoke-test workers, preemption and resume.',
  entry: new URL('./diagnostics-counter.ts', import.meta.url),
  params: diagnosticsCounterParams,
} satisfies RecipeDescriptor;

export const builtinRecipes: readonly RecipeDescriptor[] = [diagnosticsCounter, textClassifierRecipe, tabularClassifierRecipe, evaluationRecipe, torchTextClassifierRecipe];
