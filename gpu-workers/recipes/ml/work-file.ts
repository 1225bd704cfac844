/**
 * Files a recipe reads are named in its params relative to the attempt's work directory: the worker
 * stages a job's inputs into `<workDir>/inputs/` and nothing else is the job's to read. An absolute
 * path or a `..` step would let a job's submitter read any file the worker can (another project's
 * staged data, the worker's own files), so the params schema refuses them at submission and the
 * recipe resolves every name inside its work directory, symlinks included, before opening it.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { DataError } from './dataset.ts';

/** Relative, no `..` step, no NUL or backslash: a name inside the work directory. */
export function isWorkRelative(value: string): boolean {
  if (value.includes('\u0000') || value.includes('\\') || path.isAbsolute(value)) return false;
  return !value.split('/').some((part) => part === '..');
}

export const workFile = z
  .string()
  .min(1)
  .max(1024)
  .refine(isWorkRelative, 'must be a path relative to the work directory, such as inputs/dataset.jsonl (no leading "/", no "..")');

/**
 * The absolute path of `name` inside `workDir`; a DataError when it is not a work-relative name or
 * resolves (through a symlink) outside the work directory. A missing file resolves to its path.
 */
export function resolveWorkFile(workDir: string, name: string, what: string): string {
  if (!isWorkRelative(name)) throw new DataError(`${what} must be a path relative to the work directory (no leading "/", no "..")`);
  const root = realpathSync(workDir);
  const file = path.resolve(root, name);
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return file;
  }
  const relative = path.relative(root, real);
  if (relative.startsWith('..') || path.isAbsolute(relative)) throw new DataError(`${what} leads outside the work directory`);
  return real;
}
