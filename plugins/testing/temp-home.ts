import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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

/** The installed version of `name` (found from its entry point up), or `absent`. */
function packageVersion(name: string): string {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = path.dirname(require.resolve(name));
  } catch {
    return 'absent';
  }
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (parsed.name === name && parsed.version) return parsed.version;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

const uid = process.getuid?.() ?? 0;

/**
 * Builds a template once and places it at `finalDir` (built aside and renamed into place, so
 * concurrent test processes never see half a template; the first one placed wins). `build` gets
 * an empty home and leaves the database in its `pgdata`; only that is kept. Each use sets the
 * template's mtime (before checking it is there, see pruneStaleTemplates); placing one prunes the
 * templates of other keys unused for TEMPLATE_UNUSED_MS.
 */
export async function placeTemplate(finalDir: string, build: (home: string) => Promise<void>): Promise<string> {
  const dataDir = path.join(finalDir, 'pgdata');
  markUsed(finalDir);
  if (existsSync(path.join(finalDir, 'complete'))) return dataDir;
  // Beside its final place: the rename must not cross file systems.
  const home = mkdtempSync(path.join(path.dirname(finalDir), 'anvtpl-'));
  try {
    await build(home);
    for (const entry of readdirSync(home)) if (entry !== 'pgdata') rmSync(path.join(home, entry), { recursive: true, force: true });
    mkdirSync(path.join(home, 'complete'));
    try {
      renameSync(home, finalDir);
    } catch {
      // Another process placed its template first; use that one.
      if (!existsSync(path.join(finalDir, 'complete'))) throw new Error(`Cannot place the PGlite template at ${finalDir}`);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  // A new key is when the old ones pile up (~40 MB each): every migration change makes one.
  pruneStaleTemplates(path.dirname(finalDir), currentTemplateNames());
  return dataDir;
}

/** Records that a template is in use (its mtime); a template not there yet is fine. */
function markUsed(dir: string): void {
  const now = new Date();
  try {
    utimesSync(dir, now, now);
  } catch {
    // Not placed yet (or removed by a prune that just ran): the caller builds it.
  }
}

/** A template not used (see markUsed) for this long may be removed when another is placed. */
export const TEMPLATE_UNUSED_MS = 86_400_000;

/**
 * Removes from `dir` this user's templates (`anvil-test-pglite-…-<uid>`, placed: holding
 * `complete`) not named in `keep` whose mtime is older than `unusedMs`, and returns their names.
 * Safe beside other test processes: a template being built is in an `anvtpl-*` directory until its
 * rename, which no prune touches; a template is first renamed aside (atomic: of two pruners one
 * wins, and a reader finds the whole template or none, and builds it again), then deleted; and a
 * user sets the mtime before checking the template is there, so a use that slipped in between the
 * age check and the rename is seen on the renamed directory, which is then put back. Best effort:
 * a template it cannot remove stays.
 */
export function pruneStaleTemplates(dir: string, keep: readonly string[], options: { unusedMs?: number; now?: number } = {}): string[] {
  const cutoff = (options.now ?? Date.now()) - (options.unusedMs ?? TEMPLATE_UNUSED_MS);
  const ours = new RegExp(`^anvil-test-pglite-.+-${uid}$`);
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of entries) {
    if (!ours.test(name) || keep.includes(name)) continue;
    const full = path.join(dir, name);
    try {
      if (!existsSync(path.join(full, 'complete')) || statSync(full).mtimeMs >= cutoff) continue;
      const aside = path.join(dir, `anvtpl-stale-${process.pid}-${randomBytes(4).toString('hex')}`);
      renameSync(full, aside);
      if (statSync(aside).mtimeMs >= cutoff) {
        // Used since the age check: put it back, unless it was already rebuilt.
        try {
          renameSync(aside, full);
          continue;
        } catch {
          // Rebuilt meanwhile: this copy goes.
        }
      }
      rmSync(aside, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Gone already (another process pruned it) or not ours to remove: leave it.
    }
  }
  return removed;
}

let emptyTemplate: Promise<string> | undefined;
let migratedTemplate: Promise<string> | undefined;

/**
 * A freshly initialised PGlite data dir to copy. `initdb` inside WASM takes seconds, copying its
 * result takes a tenth of that, so it is made once per PGlite version and reused by every test
 * process. The template itself stays on disk (it outlives the run); homes are copied from it.
 */
function pgliteTemplate(): Promise<string> {
  emptyTemplate ??= placeTemplate(path.join(shortTmpdir(), emptyTemplateName()), async (home) => {
    const storage = await openEmbeddedStorage({ home, role: 'server' });
    await storage.close();
  });
  return emptyTemplate;
}

/** Where migrations live: every `.sql` file under these folders (queries too: hashing a few more files is cheaper than missing one). */
const sourceDirs = ['server', 'plugins', 'tools', 'knowledge', 'graphs'];

function sqlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sqlFiles(full);
      return entry.name.endsWith('.sql') ? [full] : [];
    });
}

/**
 * What the migrated template depends on: every SQL file of the sources (or of the build, when this
 * module runs from dist/), the list of built-in skills (server/server.ts), and the versions of
 * PGlite, pgvector and BullMQ (whose own migrations run too). A changed, added or removed
 * migration gives another key, hence a new template.
 */
function migrationsKey(): string {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const hash = createHash('sha256').update('anvil migrated template 1\n');
  for (const name of ['@electric-sql/pglite', '@electric-sql/pglite-pgvector', 'bullmq']) hash.update(`${name}@${packageVersion(name)}\n`);
  const builtins = ['server/server.ts', 'server/server.js'].map((file) => path.join(root, file)).filter((file) => existsSync(file));
  for (const file of [...builtins, ...sourceDirs.flatMap((dir) => sqlFiles(path.join(root, dir)))]) {
    hash.update(`${path.relative(root, file)}\n`).update(readFileSync(file)).update('\n');
  }
  return hash.digest('hex').slice(0, 16);
}

function emptyTemplateName(): string {
  return `anvil-test-pglite-${packageVersion('@electric-sql/pglite')}-${uid}`;
}

let migratedName: string | undefined;
function migratedTemplateName(): string {
  migratedName ??= `anvil-test-pglite-${packageVersion('@electric-sql/pglite')}-m${migrationsKey()}-${uid}`;
  return migratedName;
}

/** The names of this checkout's templates (never pruned by it, whatever their age). */
export function currentTemplateNames(): string[] {
  return [emptyTemplateName(), migratedTemplateName()];
}

/** The directory templates are placed in. */
export function templateParentDir(): string {
  return shortTmpdir();
}

/** Starts a default embedded server on `home` just long enough to learn which migration folders its plugins register. */
async function learnPluginMigrations(home: string): Promise<Array<{ pluginId: string; directories: readonly string[] }>> {
  // Loaded only to build the template: the storage contract tests use this module without the server.
  const [{ startAnvilServer }, { loadConfig }, { silentLogger }] = await Promise.all([import('../../server/server.ts'), import('../../server/config/load.ts'), import('../../server/log.ts')]);
  const { config } = loadConfig({ env: { ANVIL_HOME: home }, cwd: home, overrides: {} });
  const server = await startAnvilServer({ config, log: silentLogger(), http: false, stdio: false, pluginBaseDir: home, defaultMetrics: false });
  const learned = [...server.plugins.migrations];
  await server.shutdown('migration folders learned');
  return learned;
}

/** Applies core's and BullMQ's migrations (what the runtime applies) and then each plugin's, in the order a server applies them. */
async function applyMigrations(home: string, plugins: ReadonlyArray<{ pluginId: string; directories: readonly string[] }>): Promise<void> {
  const [{ startRuntime }, { migratePlugin }, { loadConfig }, { silentLogger }] = await Promise.all([
    import('../../server/runtime.ts'),
    import('../host/scoped.ts'),
    import('../../server/config/load.ts'),
    import('../../server/log.ts'),
  ]);
  const { config } = loadConfig({ env: { ANVIL_HOME: home }, cwd: home, overrides: {} });
  const runtime = await startRuntime({ config, log: silentLogger(), defaultMetrics: false });
  try {
    for (const { pluginId, directories } of plugins) await migratePlugin(runtime.services.storage, pluginId, directories);
  } finally {
    await runtime.close();
  }
}

/**
 * An initialised PGlite data dir on which every migration a default embedded server applies at
 * start (core, BullMQ's, the built-in skills') has been applied, and nothing else. A plugin's
 * migrations run between other plugins' starts (a start may write rows: the jobs plugin registers
 * its worker), so the template is not a started server's database: a server started once on a
 * scratch copy names the folders, which are then applied alone. Booting on a copy skips the ~2 s
 * of CPU the migrations take; the server still checks each applied migration's checksum and
 * applies any missing one, so a template that did not fit would fail loudly or be completed.
 */
function pgliteMigratedTemplate(): Promise<string> {
  migratedTemplate ??= (async () => {
    const empty = await pgliteTemplate();
    const finalDir = path.join(shortTmpdir(), migratedTemplateName());
    return placeTemplate(finalDir, async (home) => {
      const scratch = makeShortTempDir('anvtpl');
      let plugins: Awaited<ReturnType<typeof learnPluginMigrations>>;
      try {
        cpSync(empty, embeddedPaths(scratch).dataDir, { recursive: true });
        plugins = await learnPluginMigrations(scratch);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
      cpSync(empty, embeddedPaths(home).dataDir, { recursive: true });
      await applyMigrations(home, plugins);
    });
  })();
  return migratedTemplate;
}

/**
 * What a new home's database starts as: `empty` (initdb only, what a new server finds) or
 * `migrated` (what a default embedded server has after applying its migrations, before starting
 * anything; see pgliteMigratedTemplate).
 */
export type PgliteStart = 'empty' | 'migrated';

/** Fills `home`'s data dir from the template for `start`. */
export async function fillPgliteHome(home: string, start: PgliteStart): Promise<void> {
  const template = start === 'migrated' ? await pgliteMigratedTemplate() : await pgliteTemplate();
  cpSync(template, embeddedPaths(home).dataDir, { recursive: true });
}

/** A new embedded home whose database is freshly initialised (and empty), or migrated (see PgliteStart). */
export async function createPgliteHome(options: { start?: PgliteStart } = {}): Promise<{ home: string; remove(): void }> {
  const home = makeShortTempDir();
  try {
    await fillPgliteHome(home, options.start ?? 'empty');
  } catch (error) {
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
  return { home, remove: () => rmSync(home, { recursive: true, force: true }) };
}
