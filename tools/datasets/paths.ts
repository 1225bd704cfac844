/**
 * Which files on the server's disk `datasets_import` may read.
 *
 * - Roots: the directories the operator names (`datasets.roots`, ANVIL_DATASET_ROOTS) for every
 *   caller; a local (stdio) caller also has the server's working directory, since it is the user
 *   who started the server. With no root, an API-key caller can import no server file at all (it
 *   uploads instead).
 * - Never, even under a root: ANVIL_HOME, the config file, the log file and the artifact store
 *   (`protectedPaths`), and any hidden file or directory below a root (`.env`, `.git`, `.ssh`, …).
 *
 * A path is checked as written first (refused without touching the disk), then with every symlink
 * resolved (a link leading out, into a protected place or to a hidden name is refused too), then
 * opened by its resolved path with O_NOFOLLOW and must be a regular file. Refusals never say where
 * a link leads.
 */
import { constants } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AnvilError, ErrorCodes, type CallerPrincipal } from 'anvil/plugin';

export const ROOTS_ENV = 'ANVIL_DATASET_ROOTS';
const UPLOAD_HINT = 'upload the file instead (PUT /api/datasets/<name>/upload)';

export interface PathPolicy {
  /** The operator's roots: absolute, for every caller. */
  roots: readonly string[];
  /** The server's working directory: a root for local (stdio) callers only. */
  cwd: string;
  /** Never readable, whoever asks and whatever the roots. */
  protectedPaths: readonly string[];
}

/** The roots `caller` may import from: the operator's, plus the working directory for a local caller. */
export function rootsFor(policy: PathPolicy, caller: Pick<CallerPrincipal, 'kind'>): string[] {
  const all = [...(caller.kind === 'local' ? [policy.cwd] : []), ...policy.roots].map((root) => path.resolve(root));
  return [...new Set(all)];
}

function within(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** The root `candidate` lies under with no hidden name between them, if any. */
function allowedRoot(roots: readonly string[], candidate: string): string | undefined {
  return roots.find((root) => within(root, candidate) && !path.relative(root, candidate).split(path.sep).some((part) => part.startsWith('.')));
}

function forbidden(file: string, roots: readonly string[], how: string): AnvilError {
  const where =
    roots.length === 0
      ? `no server directory is open to this caller for imports (an operator opens some with datasets.roots or ${ROOTS_ENV}); ${UPLOAD_HINT}`
      : `datasets are imported only from ${roots.join(', ')}, never from hidden files or Anvil's own files; ${UPLOAD_HINT}`;
  return new AnvilError(ErrorCodes.FORBIDDEN, `${file} ${how}; ${where}`, { details: { path: file, roots: [...roots] } });
}

export interface OpenedSource {
  /** The resolved (real) path. */
  file: string;
  handle: FileHandle;
  size: number;
}

/** Opens `requested` for reading if `caller` may import it; FORBIDDEN or NOT_FOUND otherwise. */
export async function openForImport(requested: string, policy: PathPolicy, caller: Pick<CallerPrincipal, 'kind'>): Promise<OpenedSource> {
  const roots = rootsFor(policy, caller);
  if (caller.kind !== 'local' && !path.isAbsolute(requested)) {
    throw forbidden(JSON.stringify(requested), roots, 'is not an absolute path (a relative one would name a place in the server\'s working directory)');
  }
  const lexical = path.resolve(policy.cwd, requested);
  const isProtected = (candidate: string, protectedPaths: readonly string[]) => protectedPaths.some((place) => within(place, candidate));
  if (!roots.some((root) => within(root, lexical))) throw forbidden(lexical, roots, 'is outside the allowed directories');
  if (!allowedRoot(roots, lexical) || isProtected(lexical, policy.protectedPaths)) throw forbidden(lexical, roots, 'is a hidden file, or one Anvil keeps to itself');
  let real: string;
  try {
    real = await realpath(lexical);
  } catch {
    throw new AnvilError(ErrorCodes.NOT_FOUND, `No file at ${lexical}`, { details: { path: lexical } });
  }
  const realRoots = await Promise.all(roots.map((root) => realpath(root).catch(() => root)));
  const realProtected = await Promise.all(policy.protectedPaths.map((place) => realpath(place).catch(() => place)));
  if (!allowedRoot(realRoots, real) || isProtected(real, realProtected) || isProtected(real, policy.protectedPaths)) {
    throw forbidden(lexical, roots, 'is a symbolic link (or lies under one) that leads where imports may not read');
  }
  let handle: FileHandle;
  try {
    // O_NONBLOCK: a FIFO under a root must not hang the open (it is then refused as not a regular file).
    handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw forbidden(lexical, roots, 'became a symbolic link while being opened');
    throw new AnvilError(ErrorCodes.NOT_FOUND, `Cannot open ${lexical}: ${code ?? 'error'}`, { details: { path: lexical } });
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

/**
 * For the knowledge plugin, which reads server files with the same rules: the operator's roots
 * from ANVIL_DATASET_ROOTS (absolute entries) and nothing else — never the working directory or
 * ANVIL_HOME, which this list used to include. `cwd` and `home` are accepted for compatibility.
 */
export function datasetRoots(options: { cwd: string; home?: string | undefined; env?: string | undefined }): string[] {
  const roots = (options.env ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0 && path.isAbsolute(entry))
    .map((entry) => path.resolve(entry));
  return [...new Set(roots)];
}

/** `openForImport` for a caller without a working directory of its own (the knowledge plugin). */
export function openWithinRoots(requested: string, roots: readonly string[], cwd: string, protectedPaths: readonly string[] = []): Promise<OpenedSource> {
  return openForImport(requested, { roots, cwd, protectedPaths }, { kind: 'api-key' });
}
