import { mkdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { threadEntry } from '../../contracts/thread-entry.ts';
import { AnvilError, ErrorCodes, errorMessage } from '../errors.ts';
import { type EmbeddedRole, ownerAlive, readOwner, tryLock } from './home-lock.ts';
import { PgStorage, type Storage } from './storage.ts';
import type { PgliteExtensionSpec, PgliteWasmModule, PgliteWorkerData, PgliteWorkerReply } from './pglite-worker.ts';

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

export type { EmbeddedRole };

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

/** Settings of the embedded database; see docs/storage.md. */
export interface EmbeddedOptions {
  /** PGlite extensions to load (e.g. pgvector), each a module export; `create extension` still needed. */
  extensions?: PgliteExtensionSpec[];
  /** A connection holding the session silently this long loses its transaction and its connection. */
  idleInTransactionTimeoutMs?: number;
}

/** The config's default too (server/config/schema.ts). */
export const DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;

/**
 * The extensions loaded when no list is configured: every known one whose package is installed
 * (`vector` for the knowledge plugin's dense indexes). Loading only makes `create extension`
 * possible; nothing is created until a plugin asks.
 */
function installedExtensions(): PgliteExtensionSpec[] {
  const known: PgliteExtensionSpec[] = [{ name: 'vector', module: '@electric-sql/pglite-pgvector' }];
  return known.filter((spec) => {
    try {
      import.meta.resolve(spec.module);
      return true;
    } catch {
      return false;
    }
  });
}

/** The WebAssembly global, typed as far as it is used here (this project's libs leave its types out). */
const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<PgliteWasmModule> } }).WebAssembly;

let pgliteWasm: Promise<PgliteWasmModule | undefined> | undefined;

/**
 * PGlite's WebAssembly (9 MB), compiled once per process and handed to each PGlite thread, which
 * shares the compiled code instead of compiling it again (about a second of CPU per thread; a
 * process that opens many embedded databases, as the tests do, pays it once). Undefined when the
 * file is not where PGlite keeps it (or does not compile): the thread then loads its own, as PGlite does by default.
 */
function pgliteWasmModule(): Promise<PgliteWasmModule | undefined> {
  pgliteWasm ??= readFile(new URL('./pglite.wasm', import.meta.resolve('@electric-sql/pglite')))
    .then((bytes) => wasm.compile(bytes))
    .catch(() => undefined);
  return pgliteWasm;
}

/** Starts PGlite in its own thread, serving `paths.socketPath`; resolves once it answers. */
async function startWorker(paths: EmbeddedPaths, options: EmbeddedOptions): Promise<Worker> {
  const entry = threadEntry(import.meta.url, 'pglite-worker');
  const wasmModule = await pgliteWasmModule();
  const data: PgliteWorkerData = {
    dataDir: paths.dataDir,
    socketPath: paths.socketPath,
    idleInTransactionTimeoutMs: options.idleInTransactionTimeoutMs ?? DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    extensions: options.extensions ?? installedExtensions(),
    ...(wasmModule ? { wasmModule } : {}),
  };
  // stdout: true keeps anything the thread prints off this process's stdout (the stdio transport).
  const worker = new Worker(entry.entry, { workerData: data, eval: entry.eval, stdout: true });
  worker.stdout.pipe(process.stderr);
  const reply = await new Promise<PgliteWorkerReply>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the PGlite thread exited (${code}) before it was ready`)));
  });
  if (reply.type !== 'ready') {
    await worker.terminate();
    throw new Error(reply.type === 'failed' ? reply.message : 'the PGlite thread did not start');
  }
  worker.removeAllListeners();
  // The thread must not keep a process alive on its own (a start that failed after opening storage);
  // the pool's sockets keep the event loop busy while queries run.
  worker.unref();
  // A crash after start surfaces as failing queries (the socket is gone); keep it from killing the process.
  worker.on('error', () => {});
  return worker;
}

async function stopWorker(worker: Worker): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    worker.on('message', (message: PgliteWorkerReply) => {
      if (message.type === 'closed') resolve();
    });
    worker.once('exit', () => resolve());
  });
  worker.postMessage({ type: 'close' });
  const timer = setTimeout(() => void worker.terminate(), 10_000);
  await closed;
  clearTimeout(timer);
  await worker.terminate();
}

async function openOwned(paths: EmbeddedPaths, poolSize: number, options: EmbeddedOptions): Promise<Storage> {
  let worker: Worker;
  try {
    rmSync(paths.socketPath, { force: true });
    worker = await startWorker(paths, options);
  } catch (error) {
    rmSync(paths.lockPath, { force: true });
    throw new AnvilError(ErrorCodes.STORAGE_UNAVAILABLE, `Cannot open embedded PGlite in ${paths.dataDir}: ${errorMessage(error)}`, { cause: error });
  }
  return new PgStorage({
    kind: 'pglite',
    connection: socketConnection(paths, poolSize),
    onClose: async () => {
      await stopWorker(worker).catch(() => {});
      rmSync(paths.socketPath, { force: true });
      rmSync(paths.lockPath, { force: true });
    },
  });
}

/**
 * Opens the embedded database in `home`. PGlite is single-process, so one process owns it and
 * serves it on a unix socket from a worker thread (SQL never runs on the owner's event loop); any
 * other Anvil process on the same home (a CLI command while the server runs) connects through
 * that socket instead of opening the files.
 */
export async function openEmbeddedStorage(options: {
  home: string;
  role: EmbeddedRole;
  poolSize?: number;
  waitMs?: number;
  embedded?: EmbeddedOptions;
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
    if (tryLock(paths.lockPath, options.role)) return openOwned(paths, poolSize, options.embedded ?? {});
    const owner = readOwner(paths.lockPath);
    if (owner && ownerAlive(owner)) {
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
      // The owner died without cleaning up (its pid may live on in another process): take the home over.
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
