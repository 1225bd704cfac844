import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PGlite, type Extensions } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { AnvilError, ErrorCodes, errorMessage } from '../errors.ts';
import { PgStorage, type Storage } from './storage.ts';
import { SessionQueue } from './session-queue.ts';

/** `pg` reaches a unix socket at `<host>/.s.PGSQL.<port>`; the port is only part of the file name. */
const SOCKET_PORT = 5432;
/** sun_path holds 108 bytes including the terminating NUL on Linux. */
const MAX_SOCKET_PATH = 107;

export interface EmbeddedPaths {
  home: string;
  dataDir: string;
  runDir: string;
  socketPath: string;
  lockPath: string;
}

export function embeddedPaths(home: string): EmbeddedPaths {
  const runDir = path.join(home, 'run');
  return {
    home,
    dataDir: path.join(home, 'pgdata'),
    runDir,
    socketPath: path.join(runDir, `.s.PGSQL.${SOCKET_PORT}`),
    lockPath: path.join(runDir, 'owner.lock'),
  };
}

/** Who opened PGlite: a long-running server, or a one-shot CLI command. */
export type EmbeddedRole = 'server' | 'command';

interface LockOwner {
  pid: number;
  role: EmbeddedRole;
}

function readOwner(lockPath: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(lockPath, 'utf8')) as Partial<LockOwner>;
    if (typeof owner.pid === 'number' && (owner.role === 'server' || owner.role === 'command')) return owner as LockOwner;
  } catch {
    // Missing or half-written lock: treated as no owner below.
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryLock(lockPath: string, role: EmbeddedRole): boolean {
  try {
    const fd = openSync(lockPath, 'wx', 0o600);
    writeSync(fd, JSON.stringify({ pid: process.pid, role } satisfies LockOwner));
    closeSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function socketConnection(paths: EmbeddedPaths, max: number) {
  return { host: paths.runDir, port: SOCKET_PORT, user: 'postgres', database: 'postgres', max };
}

/**
 * PGlite extensions loaded when their package is installed: `vector` (pgvector 0.8, for the
 * knowledge plugin's dense indexes). Loading only makes `create extension vector` possible; nothing
 * is created until a plugin asks.
 */
async function installedExtensions(): Promise<Extensions> {
  try {
    return { vector: (await import('@electric-sql/pglite-pgvector')).vector };
  } catch {
    return {};
  }
}

async function openOwned(paths: EmbeddedPaths, poolSize: number): Promise<Storage> {
  let db: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  try {
    rmSync(paths.socketPath, { force: true });
    db = await PGlite.create(paths.dataDir, { extensions: await installedExtensions() });
    server = new PGLiteSocketServer({ db, path: paths.socketPath, maxConnections: 128 });
    // Handlers pick the queue up when they attach, so replacing it before start() covers them all.
    (server as unknown as { queryQueue: SessionQueue }).queryQueue = new SessionQueue(db);
    await server.start();
  } catch (error) {
    await server?.stop().catch(() => {});
    await db?.close().catch(() => {});
    rmSync(paths.lockPath, { force: true });
    throw new AnvilError(ErrorCodes.STORAGE_UNAVAILABLE, `Cannot open embedded PGlite in ${paths.dataDir}: ${errorMessage(error)}`, { cause: error });
  }
  const ownedDb = db;
  const ownedServer = server;
  return new PgStorage({
    kind: 'pglite',
    connection: socketConnection(paths, poolSize),
    onClose: async () => {
      await ownedServer.stop().catch(() => {});
      await ownedDb.close().catch(() => {});
      rmSync(paths.socketPath, { force: true });
      rmSync(paths.lockPath, { force: true });
    },
  });
}

/**
 * Opens the embedded database in `home`. PGlite is single-process, so one process owns it and
 * serves it on a unix socket; any other Anvil process on the same home (a CLI command while the
 * server runs) connects through that socket instead of opening the files.
 */
export async function openEmbeddedStorage(options: {
  home: string;
  role: EmbeddedRole;
  poolSize?: number;
  waitMs?: number;
}): Promise<Storage> {
  const paths = embeddedPaths(options.home);
  const poolSize = options.poolSize ?? 8;
  if (Buffer.byteLength(paths.socketPath) > MAX_SOCKET_PATH) {
    throw new AnvilError(
      ErrorCodes.SOCKET_PATH_TOO_LONG,
      `The embedded database socket path ${paths.socketPath} is longer than ${MAX_SOCKET_PATH} bytes; use a shorter ANVIL_HOME (--home).`,
    );
  }
  mkdirSync(paths.runDir, { recursive: true, mode: 0o700 });
  const deadline = Date.now() + (options.waitMs ?? 15_000);
  let unreadableSince: number | undefined;

  for (;;) {
    if (tryLock(paths.lockPath, options.role)) return openOwned(paths, poolSize);
    const owner = readOwner(paths.lockPath);
    if (owner && isAlive(owner.pid)) {
      unreadableSince = undefined;
      if (owner.role === 'server' && options.role === 'server') {
        throw new AnvilError(
          ErrorCodes.HOME_LOCKED,
          `Another anvil server (pid ${owner.pid}) already runs on ${paths.home}; embedded mode allows one server per ANVIL_HOME (use DATABASE_URL for several).`,
        );
      }
      // A command attaches to a running server; a server waits for a one-shot command to finish.
      if (owner.role === 'server' && (await socketAnswers(paths.socketPath))) {
        return new PgStorage({ kind: 'pglite', connection: socketConnection(paths, Math.min(poolSize, 4)) });
      }
    } else if (owner) {
      // The owner died without cleaning up: take the home over.
      rmSync(paths.lockPath, { force: true });
      continue;
    } else {
      // A lock without readable content is either being written right now or was left half-written.
      unreadableSince ??= Date.now();
      if (Date.now() - unreadableSince > 1_000) {
        rmSync(paths.lockPath, { force: true });
        continue;
      }
    }
    if (Date.now() > deadline) {
      throw new AnvilError(ErrorCodes.HOME_LOCKED, `${paths.home} stays locked by pid ${owner?.pid ?? 'unknown'}; retry when it has finished.`);
    }
    await sleep(100);
  }
}
