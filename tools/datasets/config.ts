/**
 * The datasets plugin's configuration. Built in, the server hands it `datasets.roots` from
 * anvil.config.json (or ANVIL_DATASET_ROOTS) and fills `protectedPaths` with what it keeps to
 * itself; loaded as an ordinary plugin, both come from its entry's `config`.
 */
import path from 'node:path';
import { z } from 'anvil/plugin';

const absolutePath = z.string().refine((value) => path.isAbsolute(value), 'expected an absolute path');

export const datasetsConfig = z
  .object({
    /** Directories every caller may import server files from (none: only a stdio user's working directory). */
    roots: z.array(absolutePath).default([]),
    /** Never imported, even under a root: ANVIL_HOME, the config file, the log file, the artifact store. */
    protectedPaths: z.array(absolutePath).default([]),
  })
  .strict();

export type DatasetsConfig = z.output<typeof datasetsConfig>;
