/**
 * The embedded database's thread: PGlite (Postgres in WASM) runs here, off the server's event
 * loop, and serves its one session to `pg` clients on a unix socket (see wire-session.ts). The
 * main thread sends `{type: 'close'}` to shut it down; this thread answers `ready`, `failed` or
 * `closed`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, type Extensions } from '@electric-sql/pglite';
import { WireServer } from './wire-session.ts';

/** A PGlite extension to load: `module`'s export `exportName` (default `name`), registered as `name`. */
export interface PgliteExtensionSpec {
  name: string;
  module: string;
  exportName?: string;
}

/** A compiled `WebAssembly.Module` of PGlite's pglite.wasm: opaque here (this project's libs leave out the WebAssembly types). */
export interface PgliteWasmModule {
  readonly __compiledWasm: never;
}

export interface PgliteWorkerData {
  dataDir: string;
  socketPath: string;
  idleInTransactionTimeoutMs: number;
  extensions: PgliteExtensionSpec[];
  /** PGlite's WebAssembly, compiled by the owning thread (shared, not compiled again here); absent: PGlite compiles its own. */
  wasmModule?: PgliteWasmModule;
}

export type PgliteWorkerReply = { type: 'ready' } | { type: 'failed'; message: string } | { type: 'closed' };

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function loadExtensions(specs: PgliteExtensionSpec[]): Promise<Extensions> {
  const extensions: Extensions = {};
  for (const spec of specs) {
    const loaded = (await import(spec.module)) as Record<string, unknown>;
    const extension = loaded[spec.exportName ?? spec.name];
    if (!extension || typeof extension !== 'object') {
      throw new Error(`PGlite extension "${spec.name}": ${spec.module} has no export "${spec.exportName ?? spec.name}"`);
    }
    extensions[spec.name] = extension as Extensions[string];
  }
  return extensions;
}

const port = parentPort;
if (!port) throw new Error('pglite-worker.ts runs only as a worker thread');
const options = workerData as PgliteWorkerData;
const reply = (message: PgliteWorkerReply) => port.postMessage(message);

let db: PGlite | undefined;
let server: WireServer | undefined;
try {
  db = await PGlite.create(options.dataDir, {
    extensions: await loadExtensions(options.extensions),
    ...(options.wasmModule ? { pgliteWasmModule: options.wasmModule } : {}),
  });
  server = new WireServer({ engine: db, path: options.socketPath, idleInTransactionTimeoutMs: options.idleInTransactionTimeoutMs });
  await server.listen();
  reply({ type: 'ready' });
} catch (error) {
  await db?.close().catch(() => {});
  reply({ type: 'failed', message: errorText(error) });
  port.close();
}

port.on('message', (message: { type?: string }) => {
  if (message.type !== 'close') return;
  void (async () => {
    await server?.close().catch(() => {});
    await db?.close().catch(() => {});
    reply({ type: 'closed' });
    port.close();
  })();
});
