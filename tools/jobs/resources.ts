import { z } from 'anvil/plugin';
import { resourceClassFor } from '../../gpu-workers/index.ts';

/**
 * What a job asks for. Stored normalized (defaults filled in, GPU type lower-cased), so two
 * submissions that mean the same thing compare equal for idempotency.
 */
export const jobResources = z
  .object({
    gpus: z.number().int().min(0).max(64).default(0),
    /** A GPU model family, e.g. `a100`, `h100`, `l4`; without it any GPU will do. */
    gpuType: z
      .string()
      .trim()
      .toLowerCase()
      .regex(/^[a-z0-9][a-z0-9._-]{0,39}$/, 'a GPU type is 1-40 characters of a-z, 0-9, ".", "_" or "-"')
      .optional(),
    minVramGb: z.number().positive().max(4096).optional(),
    cpus: z.number().positive().max(1024).default(1),
    memoryGb: z.number().positive().max(65536).default(1),
  })
  .strict()
  .refine((resources) => resources.gpus > 0 || (resources.gpuType === undefined && resources.minVramGb === undefined), {
    message: 'gpuType and minVramGb need gpus of at least 1',
  });

export type JobResources = z.output<typeof jobResources>;
export type JobResourcesInput = z.input<typeof jobResources>;

/** The queue a job goes to: `gpu-<type>`, `gpu-any` (a GPU of any type) or `cpu` (BullMQ queue names cannot hold ":"). */
export type ResourceClass = 'cpu' | 'gpu-any' | `gpu-${string}`;

export function resourceClassOf(resources: JobResources): ResourceClass {
  // One naming scheme with the workers' probe, which derives the classes a node consumes.
  return resourceClassFor(resources) as ResourceClass;
}
