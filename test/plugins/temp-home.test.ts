/**
 * The test harness's throw-away PGlite homes are copied from templates kept in the temp dir, one per
 * PGlite version and migration set (~40 MB each). Placing a new one prunes the templates of other
 * keys unused for a day, and leaves alone this checkout's templates, recently used ones (another
 * checkout's test processes mark theirs at each use), and anything still being built.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createPgliteHome, currentTemplateNames, makeShortTempDir, placeTemplate, pruneStaleTemplates, templateParentDir, TEMPLATE_UNUSED_MS } from '../../plugins/testing/temp-home.ts';

const uid = process.getuid?.() ?? 0;
const day = 86_400_000;

describe('PGlite test templates', () => {
  const dir = makeShortTempDir('anvtplt');
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A placed template (or, without `complete`, a directory that is not one) last used `age` ago. */
  const make = (name: string, age: number, placed = true): void => {
    const full = path.join(dir, name);
    mkdirSync(path.join(full, 'pgdata'), { recursive: true });
    writeFileSync(path.join(full, 'pgdata', 'PG_VERSION'), '17\n');
    if (placed) mkdirSync(path.join(full, 'complete'));
    const at = new Date(Date.now() - age);
    utimesSync(full, at, at);
  };

  it('prunes other keys unused for a day, and nothing else', () => {
    const current = `anvil-test-pglite-0.5.14-mcccccccccccccccc-${uid}`;
    make(current, 3 * day);
    make(`anvil-test-pglite-0.5.14-maaaaaaaaaaaaaaaa-${uid}`, 2 * day);
    make(`anvil-test-pglite-0.4.0-${uid}`, TEMPLATE_UNUSED_MS + 60_000);
    make(`anvil-test-pglite-0.5.14-mbbbbbbbbbbbbbbbb-${uid}`, TEMPLATE_UNUSED_MS - 60_000);
    // Being built by another process (renamed into place when complete), however long it takes.
    make('anvtpl-Xy12Ab', 2 * day, false);
    // Another user's.
    make(`anvil-test-pglite-0.5.14-maaaaaaaaaaaaaaaa-${uid + 1}`, 2 * day);
    // Not a placed template: no `complete`.
    make(`anvil-test-pglite-0.5.14-mdddddddddddddddd-${uid}`, 2 * day, false);

    const removed = pruneStaleTemplates(dir, [current]);
    assert.deepEqual(removed.sort(), [`anvil-test-pglite-0.4.0-${uid}`, `anvil-test-pglite-0.5.14-maaaaaaaaaaaaaaaa-${uid}`]);
    assert.deepEqual(readdirSync(dir).sort(), [
      `anvil-test-pglite-0.5.14-maaaaaaaaaaaaaaaa-${uid + 1}`,
      `anvil-test-pglite-0.5.14-mbbbbbbbbbbbbbbbb-${uid}`,
      current,
      `anvil-test-pglite-0.5.14-mdddddddddddddddd-${uid}`,
      'anvtpl-Xy12Ab',
    ].sort());
    // Nothing renamed aside is left behind, and a second prune (another process) finds nothing to do.
    assert.deepEqual(pruneStaleTemplates(dir, [current]), []);
  });

  it('placing a template prunes its stale siblings; finding one placed does not', async () => {
    const placedDir = path.join(dir, 'placed');
    mkdirSync(placedDir);
    const stale = `anvil-test-pglite-0.5.14-meeeeeeeeeeeeeeee-${uid}`;
    make(path.join('placed', stale), 2 * day);
    let builds = 0;
    const build = async (home: string): Promise<void> => {
      builds += 1;
      mkdirSync(path.join(home, 'pgdata'));
      writeFileSync(path.join(home, 'pgdata', 'PG_VERSION'), '17\n');
      writeFileSync(path.join(home, 'scratch'), 'not kept');
    };
    const first = path.join(placedDir, `anvil-test-pglite-0.5.14-mffffffffffffffff-${uid}`);
    assert.equal(await placeTemplate(first, build), path.join(first, 'pgdata'));
    assert.deepEqual(readdirSync(placedDir), [path.basename(first)]);
    assert.deepEqual(readdirSync(first).sort(), ['complete', 'pgdata']);

    // Already placed: no build, no prune (a stale sibling appearing now stays until the next placement).
    make(path.join('placed', stale), 2 * day);
    await placeTemplate(first, build);
    assert.equal(builds, 1);
    assert.deepEqual(readdirSync(placedDir).sort(), [path.basename(first), stale].sort());
  });

  it('using a template marks it used, so another checkout does not prune it', async () => {
    const names = currentTemplateNames();
    assert.equal(names.length, 2);
    for (const name of names) assert.match(name, new RegExp(`^anvil-test-pglite-.+-${uid}$`));
    const started = Date.now();
    const created = await createPgliteHome({ start: 'migrated' });
    created.remove();
    for (const name of names) {
      const used = statSync(path.join(templateParentDir(), name)).mtimeMs;
      assert.ok(used >= started - 1000, `${name} marked used ${started - used} ms before the test`);
    }
  });
});
