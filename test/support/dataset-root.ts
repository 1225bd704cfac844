/**
 * A temp directory opened to `datasets_import` (ANVIL_DATASET_ROOTS) for tests that import files
 * from the server's disk: ANVIL_HOME never is a root, and an API-key caller has no root unless the
 * operator names one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface DatasetRoot {
  readonly dir: string;
  /** The server environment that opens `dir` for imports. */
  readonly env: { ANVIL_DATASET_ROOTS: string };
  /** Writes `content` to `dir/name` and returns its absolute path. */
  write(name: string, content: string | Buffer): string;
  remove(): void;
}

export function createDatasetRoot(): DatasetRoot {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'anvil-data-'));
  return {
    dir,
    env: { ANVIL_DATASET_ROOTS: dir },
    write(name, content) {
      const file = path.join(dir, name);
      writeFileSync(file, content);
      return file;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
