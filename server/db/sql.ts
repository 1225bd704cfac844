import { readFileSync } from 'node:fs';

/**
 * Reads a `.sql` file that sits beside the module asking for it. Called at module load so a
 * missing file fails at start, not on the first request that needs it.
 */
export function loadSql(moduleUrl: string, relativePath: string): string {
  return readFileSync(new URL(relativePath, moduleUrl), 'utf8');
}
