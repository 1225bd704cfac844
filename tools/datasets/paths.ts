/**
 * Which files on the server's disk `datasets_import` may read: those under the server's working
 * directory, ANVIL_HOME, and the absolute directories in ANVIL_DATASET_ROOTS (comma-separated).
 * A path is checked twice: as written (outside every root: FORBIDDEN without touching the file),
 * then with every symlink resolved (a link pointing outside: FORBIDDEN too). The file is then
 * opened by its resolved path with O_NOFOLLOW and must be a regular file.
 */
import { constants } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AnvilError, ErrorCodes } from 'anvil/plugin';

export const ROOTS_ENV = 'ANVIL_DATASET_ROOTS';

/** The configured roots, absolute and without duplicates (relative entries in the env are ignored). */
export function datasetRoots(options: { cwd: string; home?: string | undefined; env?: string | undefined }): string[] {
  const extra = (options.env ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0 && path.isAbsolute(entry));
  const all = [options.cwd, ...(options.home ? [options.home] : []), ...extra].map((root) => path.resolve(root));
  return [...new Set(all)];
}

function within(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

function forbidden(file: string, roots: readonly string[], how: string): AnvilError {
  return new AnvilError(
    ErrorCodes.FORBIDDEN,
    `${file} ${how}; datasets are imported only from ${roots.join(', ')} (an operator can add directories with ${ROOTS_ENV}=/abs/dir,/abs/other)`,
    { details: { path: file, roots } },
  );
}

export interface OpenedSource {
  /** The resolved (real) path. */
  file: string;
  handle: FileHandle;
  size: number;
}

/** Opens `requested` for reading if it lies within `roots`; FORBIDDEN or NOT_FOUND otherwise. */
export async function openWithinRoots(requested: string, roots: readonly string[], cwd: string): Promise<OpenedSource> {
  const lexical = path.resolve(cwd, requested);
  if (!roots.some((root) => within(root, lexical))) throw forbidden(lexical, roots, 'is outside the allowed directories');
  let real: string;
  try {
    real = await realpath(lexical);
  } catch {
    throw new AnvilError(ErrorCodes.NOT_FOUND, `No file at ${lexical}`, { details: { path: lexical } });
  }
  const realRoots = await Promise.all(roots.map((root) => realpath(root).catch(() => root)));
  if (!realRoots.some((root) => within(root, real))) throw forbidden(lexical, roots, `resolves (through a symbolic link) to ${real}, outside the allowed directories`);
  let handle: FileHandle;
  try {
    // O_NONBLOCK: a FIFO under a root must not hang the open (it is then refused as not a regular file).
    handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw forbidden(lexical, roots, 'became a symbolic link while being opened');
    throw new AnvilError(ErrorCodes.NOT_FOUND, `Cannot open ${lexical}: ${code ?? String(error)}`, { details: { path: lexical } });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new AnvilError(ErrorCodes.INVALID_INPUT, `${lexical} is not a regular file`);
    return { file: real, handle, size: info.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
