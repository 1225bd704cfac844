/** How a recipe is described to the control plane and to the workers that start it. */
import type * as z from 'zod';

/** A job recipe: an executable the workers run with a JSON spec (see gpu-workers/PROTOCOL.md). */
export interface RecipeSpec {
  readonly name: string;
  readonly description: string;
  /** A module or executable the worker starts as a child process. */
  readonly entry: string | URL;
  readonly params?: z.ZodObject<z.ZodRawShape>;
}
