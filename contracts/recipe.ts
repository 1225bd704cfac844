/** How a recipe is described to the control plane and to the workers that start it. */
import type * as z from 'zod';

/** A job recipe: an executable the workers run with a JSON spec (see gpu-workers/PROTOCOL.md). */
export interface RecipeSpec {
  readonly name: string;
  readonly description: string;
  /** A module or executable the worker starts as a child process. */
  readonly entry: string | URL;
  readonly params?: z.ZodObject<z.ZodRawShape>;
  /**
   * Why this machine cannot run the recipe (a missing runtime, e.g. Python without torch), or
   * undefined when it can. Workers call it once at start: they do not offer an unavailable recipe
   * and report the reason (jobs_explain, anvil doctor). Keep it cheap.
   */
  readonly unavailable?: () => string | undefined;
}
