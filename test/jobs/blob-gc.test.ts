/**
 * Blob garbage collection on PGlite and on Postgres (DATABASE_URL): only blobs nothing references
 * and nobody stored or touched within the grace period go, file and row together; and a collection
 * racing an upload of the same content, or a job naming the blob as its input, never leaves a row
 * without its file or a reference to a collected blob.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { migratePlugin, scopedSql } from '../../plugins/host/scoped.ts';
import { BlobStore } from '../../tools/jobs/blobs.ts';
import { JobStore, jobsMigrations } from '../../tools/jobs/store.ts';
import { pgliteStorage, postgresStorage } from '../support/backends.ts';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const HOUR = 3_600_000;

for (const factory of [pgliteStorage, postgresStorage]) {
  describe(`blob garbage collection: ${factory.name}`, { skip: factory.skip }, () => {
    let cleanup: () => Promise<void>;
    let blobs: BlobStore;
    let jobs: JobStore;
    let age: (digest: string) => Promise<void>;
    let rowOf: (digest: string) => Promise<boolean>;
    let root: string;

    before(async () => {
      const fixture = await factory.open();
      cleanup = fixture.cleanup;
      await migratePlugin(fixture.value, 'jobs', [jobsMigrations]);
      const sql = scopedSql(fixture.value, 'jobs', true);
      root = mkdtempSync(path.join(tmpdir(), 'anvil-blob-gc-'));
      blobs = new BlobStore(sql, root);
      jobs = new JobStore(sql);
      // Instead of waiting out the grace period: the blob was last stored or touched two hours ago.
      age = async (digest) => {
        await sql.query(`update {{schema}}.blobs set last_used_at = now() - interval '2 hours' where sha256 = $1`, [digest]);
      };
      rowOf = async (digest) => (await sql.query(`select 1 from {{schema}}.blobs where sha256 = $1`, [digest])).rowCount > 0;
      blobs.addReferences('elsewhere', async (digests) => digests.filter((digest) => digest === sha('referenced elsewhere')));
      // An artifact references its blob through a job.
      const { job } = await jobs.submit('p', { recipe: 'r' });
      const artifact = await blobs.put(sha('an artifact'), Readable.from(['an artifact']));
      await sql.query(`insert into {{schema}}.artifacts (id, job_id, name, sha256, size, media_type, storage_path) values ($1, $2, 'model', $3, $4, 'application/octet-stream', $5)`, [
        randomUUID(),
        job.id,
        artifact.sha256,
        artifact.size,
        artifact.file,
      ]);
    });
    after(async () => {
      await cleanup?.();
      if (root) rmSync(root, { recursive: true, force: true });
    });

    test('removes only what nothing references and nobody used within the grace period', async () => {
      const stored = new Map<string, string>();
      for (const body of ['orphan', 'a job input', 'referenced elsewhere', 'fresh orphan']) stored.set(body, (await blobs.put(sha(body), Readable.from([body]))).file);
      await jobs.submit('p', { recipe: 'r', inputs: [{ name: 'data.txt', sha256: sha('a job input') }] });
      for (const body of ['orphan', 'a job input', 'referenced elsewhere', 'an artifact']) await age(sha(body));

      const result = await blobs.collectGarbage(HOUR);
      assert.deepEqual(result.removed, [sha('orphan')]);
      assert.equal(existsSync(stored.get('orphan') ?? ''), false, 'the file is gone');
      assert.equal(await rowOf(sha('orphan')), false, 'and so is its row');
      await assert.rejects(blobs.get(sha('orphan')), (error: Error & { code?: string }) => error.code === 'ANVIL_E_NOT_FOUND');
      for (const body of ['a job input', 'referenced elsewhere', 'fresh orphan', 'an artifact']) assert.equal((await blobs.get(sha(body))).sha256, sha(body), body);
      assert.deepEqual((await blobs.collectGarbage(HOUR)).removed, [], 'a second pass finds nothing more');
      // Stored again after it was collected: back, with its file.
      await blobs.put(sha('orphan'), Readable.from(['orphan']));
      assert.ok(existsSync((await blobs.get(sha('orphan'))).file));
    });

    test('a collection racing an upload of the same content never leaves a row without its file', async () => {
      for (let round = 0; round < 15; round++) {
        const body = `raced upload ${round}`;
        await blobs.put(sha(body), Readable.from([body]));
        await age(sha(body));
        const [collected] = await Promise.all([blobs.collectGarbage(HOUR), blobs.put(sha(body), Readable.from([body]))]);
        // Whoever came second decided: the upload either touched the blob first (kept) or stored it again after.
        assert.equal(await rowOf(sha(body)), true, `round ${round}: the upload's row is there`);
        assert.ok(existsSync((await blobs.get(sha(body))).file), `round ${round}: and its file (collected: ${collected.removed.length})`);
      }
    });

    test('a collection racing a job that names the blob as input: the job either keeps it or is refused', async () => {
      let kept = 0;
      let refused = 0;
      for (let round = 0; round < 15; round++) {
        const body = `raced input ${round}`;
        await blobs.put(sha(body), Readable.from([body]));
        await age(sha(body));
        const [, touched] = await Promise.all([blobs.collectGarbage(HOUR), blobs.touch(sha(body)).then(() => true, () => false)]);
        if (touched) {
          kept += 1;
          // As JobService.submit does: the blob was touched, then the job is recorded with it as input.
          await jobs.submit('p', { recipe: 'r', inputs: [{ name: 'in.txt', sha256: sha(body) }] });
          await age(sha(body));
          assert.deepEqual((await blobs.collectGarbage(HOUR)).removed.includes(sha(body)), false, 'a job input is never collected');
          assert.ok(existsSync((await blobs.get(sha(body))).file), `round ${round}: a touched blob keeps its file`);
        } else {
          refused += 1;
          assert.equal(await rowOf(sha(body)), false, `round ${round}: refused only because it was collected`);
        }
      }
      assert.equal(kept + refused, 15);
    });
  });
}
