import { accessSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { embeddedPaths, openEmbeddedStorage } from '../../server/db/embedded.ts';

/** os.tmpdir(), unless it is too long to hold a unix socket path below it. */
function shortTmpdir(): string {
  return os.tmpdir().length <= 40 ? os.tmpdir() : '/tmp';
}

function isWritableDir(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Where throw-away homes go: ANVIL_TEST_TMPDIR if set, else /dev/shm when it exists (a PGlite home
 * is ~40 MB in ~1,000 files; copying one onto a RAM disk takes a twentieth of the time it takes on
 * a disk), else os.tmpdir().
 */
function testTmpBase(): string {
  const configured = process.env.ANVIL_TEST_TMPDIR;
  if (configured) return configured;
  return isWritableDir('/dev/shm') ? '/dev/shm' : shortTmpdir();
}

/**
 * A fresh temp directory with a short path. The PGlite socket lives at
 * `<home>/run/.s.PGSQL.5432` and a unix socket path is limited to 107 bytes.
 */
export function makeShortTempDir(label = 'anv'): string {
  return mkdtempSync(path.join(testTmpBase(), `${label}-`));
}

function pgliteVersion(): string {
  const require = createRequire(import.meta.url);
  let dir = path.dirname(require.resolve('@electric-sql/pglite'));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (parsed.name === '@electric-sql/pglite' && parsed.version) return parsed.version;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

let templateDataDir: Promise<string> | undefined;

/**
 * A freshly initialised PGlite data dir to copy. `initdb` inside WASM takes seconds, copying its
 * result takes a tenth of that, so it is made once per PGlite version and reused by every test
 * process (built aside and renamed into place, so concurrent runs never see half a template).
 */
function pgliteTemplate(): Promise<string> {
  templateDataDir ??= (async () => {
    // The template itself stays on disk (it outlives the run); homes are copied from it.
    const finalDir = path.join(shortTmpdir(), `anvil-test-pglite-${pgliteVersion()}-${process.getuid?.() ?? 0}`);
    const dataDir = path.join(finalDir, 'pgdata');
    if (existsSync(path.join(finalDir, 'complete'))) return dataDir;
    const home = mkdtempSync(path.join(shortTmpdir(), 'anvtpl-'));
    try {
      const storage = await openEmbeddedStorage({ home, role: 'server' });
      await storage.close();
      mkdirSync(path.join(home, 'complete'));
      rmSync(path.join(home, 'run'), { recursive: true, force: true });
      try {
        renameSync(home, finalDir);
      } catch {
        // Another process placed its template first; use that one.
        if (!existsSync(path.join(finalDir, 'complete'))) throw new Error(`Cannot place the PGlite template at ${finalDir}`);
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
    return dataDir;
  })();
  return templateDataDir;
}

/** A new embedded home whose database is freshly initialised (and empty). */
export async function createPgliteHome(): Promise<{ home: string; remove(): void }> {
  const template = await pgliteTemplate();
  const home = makeShortTempDir();
  cpSync(template, embeddedPaths(home).dataDir, { recursive: true });
  return { home, remove: () => rmSync(home, { recursive: true, force: true }) };
}
