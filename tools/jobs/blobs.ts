/**
 * Content-addressed files for checkpoints and artifacts, under the artifact directory
 * (`<dir>/sha256/ab/abcdef…`), recorded in `blobs`. A blob is written to a temporary file while it
 * is hashed and only moved into place when it hashes to the digest the sender claimed; anything
 * else is refused with ANVIL_E_CHECKSUM_MISMATCH and leaves nothing behind.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { AnvilError, ErrorCodes, type PluginSql } from 'anvil/plugin';
import { loadSql } from '../../server/db/sql.ts';

const SQL = {
  insert: loadSql(import.meta.url, './sql/blob-insert.sql'),
  get: loadSql(import.meta.url, './sql/blob-get.sql'),
  touch: loadSql(import.meta.url, './sql/blob-touch.sql'),
  lock: loadSql(import.meta.url, './sql/blob-lock.sql'),
  candidates: loadSql(import.meta.url, './sql/blob-gc-candidates.sql'),
  collect: loadSql(import.meta.url, './sql/blob-gc-delete.sql'),
};

/**
 * Where else blobs are referenced (another plugin's records, e.g. dataset versions): given
 * candidate digests, the ones it still references. The collector keeps those.
 */
export type BlobReferences = (sha256s: readonly string[]) => Promise<Iterable<string>>;

export interface CollectResult {
  /** Digests whose rows and files were removed. */
  removed: string[];
  /** Candidates kept because a reference source (or a store meanwhile) still needs them. */
  kept: number;
}

const SHA256 = /^[0-9a-f]{64}$/;

export interface StoredBlob {
  sha256: string;
  size: number;
  /** Absolute path of the file. */
  file: string;
}

export function checkSha256(value: string, what = 'sha256'): string {
  const digest = value.trim().toLowerCase();
  if (!SHA256.test(digest)) throw new AnvilError(ErrorCodes.INVALID_INPUT, `${what} must be 64 hex digits (a SHA-256), got ${JSON.stringify(value)}`);
  return digest;
}

export class BlobStore {
  private readonly referenceSources = new Map<string, BlobReferences>();

  constructor(
    private readonly sql: PluginSql,
    readonly root: string,
    /** Refuse bodies larger than this many bytes. */
    private readonly maxBytes = 8 * 1024 ** 3,
  ) {}

  private location(sha256: string): string {
    return path.join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  /**
   * Stores `body` if it hashes to `expectedSha256`; a blob already stored is kept as is (and
   * touched). The file goes into place and its row is written under the blob's lock, so a garbage
   * collection of the same digest can never remove a file just stored again.
   */
  async put(expectedSha256: string, body: Readable | ReadableStream<Uint8Array>): Promise<StoredBlob> {
    const expected = checkSha256(expectedSha256);
    const destination = this.location(expected);
    return this.receive(expected, body, (tmp, size) =>
      this.sql.transaction(async (tx) => {
        await tx.query(SQL.lock, [expected]);
        await mkdir(path.dirname(destination), { recursive: true });
        await rename(tmp, destination);
        await tx.query(SQL.insert, [expected, size, path.relative(this.root, destination)]);
        return { sha256: expected, size, file: destination };
      }),
    );
  }

  /**
   * Marks a stored blob as just used (a job names it as an input): the collector keeps it for its
   * grace period. NOT_FOUND when it is not stored (or was collected a moment ago).
   */
  async touch(sha256: string): Promise<void> {
    const digest = checkSha256(sha256);
    const touched = await this.sql.query(SQL.touch, [digest]);
    if (touched.rowCount === 0) throw new AnvilError(ErrorCodes.NOT_FOUND, `No blob ${digest} is stored`, { details: { sha256: digest } });
  }

  /** Adds a place blobs are referenced from (another plugin's records); the collector asks it before removing any. */
  addReferences(name: string, references: BlobReferences): () => void {
    this.referenceSources.set(name, references);
    return () => this.referenceSources.delete(name);
  }

  /**
   * Removes blobs nothing references that were not stored or touched for `graceMs`: not an
   * artifact, not a job's input, not in any reference source. Each removal re-checks under the
   * blob's lock, deletes the row and moves the file aside in one transaction, then unlinks it.
   */
  async collectGarbage(graceMs: number, batch = 500): Promise<CollectResult> {
    const candidates = (await this.sql.query<{ sha256: string }>(SQL.candidates, [graceMs, batch])).rows.map((row) => row.sha256);
    if (candidates.length === 0) return { removed: [], kept: 0 };
    const referenced = new Set<string>();
    for (const source of this.referenceSources.values()) for (const sha256 of await source(candidates)) referenced.add(sha256);
    const removed: string[] = [];
    for (const sha256 of candidates.filter((each) => !referenced.has(each))) {
      const trash = await this.sql.transaction(async (tx) => {
        await tx.query(SQL.lock, [sha256]);
        const row = (await tx.query<{ storage_path: string }>(SQL.collect, [sha256, graceMs])).rows[0];
        if (!row) return null;
        const file = path.join(this.root, row.storage_path);
        const aside = path.join(this.root, 'tmp', `${sha256}.${randomUUID()}.collected`);
        await mkdir(path.dirname(aside), { recursive: true });
        // Moved aside inside the transaction: if the commit fails the row is back and so is the file.
        const moved = await rename(file, aside).then(() => true, () => false);
        return { file, aside, moved };
      });
      if (!trash) continue;
      if (trash.moved) await rm(trash.aside, { force: true });
      removed.push(sha256);
    }
    return { removed, kept: candidates.length - removed.length };
  }

  /**
   * A job's checkpoint file, kept apart from the shared blobs: checkpoints are large and many, so
   * only the job's latest one is kept (`pruneCheckpoints`) and all go when the job ends.
   */
  async putCheckpoint(jobId: string, expectedSha256: string, body: Readable | ReadableStream<Uint8Array>): Promise<StoredBlob> {
    const expected = checkSha256(expectedSha256);
    const destination = path.join(this.checkpointDir(jobId), expected);
    return this.receive(expected, body, async (tmp, size) => {
      await mkdir(path.dirname(destination), { recursive: true });
      await rename(tmp, destination);
      return { sha256: expected, size, file: destination };
    });
  }

  async getCheckpoint(jobId: string, sha256: string): Promise<StoredBlob> {
    const digest = checkSha256(sha256);
    const file = path.join(this.checkpointDir(jobId), digest);
    const info = await stat(file).catch(() => null);
    if (!info) throw new AnvilError(ErrorCodes.NOT_FOUND, `Job ${jobId} has no checkpoint ${digest}`, { details: { jobId, sha256: digest } });
    return { sha256: digest, size: info.size, file };
  }

  /** Removes a job's checkpoint files other than `keep` (its current one). */
  async pruneCheckpoints(jobId: string, keep: string | null): Promise<void> {
    const dir = this.checkpointDir(jobId);
    const files = await readdir(dir).catch(() => [] as string[]);
    await Promise.all(files.filter((name) => name !== keep).map((name) => rm(path.join(dir, name), { force: true })));
  }

  private checkpointDir(jobId: string): string {
    if (!/^[0-9a-f-]{36}$/.test(jobId)) throw new AnvilError(ErrorCodes.INVALID_INPUT, `job id must be a UUID, got ${JSON.stringify(jobId)}`);
    return path.join(this.root, 'checkpoints', jobId);
  }

  /** Streams `body` to a temp file while hashing; hands it to `place` (which moves it) only when it matches. */
  private async receive(expected: string, body: Readable | ReadableStream<Uint8Array>, place: (tmp: string, size: number) => Promise<StoredBlob>): Promise<StoredBlob> {
    const tmpDir = path.join(this.root, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = path.join(tmpDir, `${randomUUID()}.part`);
    const hash = createHash('sha256');
    let size = 0;
    const maxBytes = this.maxBytes;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > maxBytes) {
          done(new AnvilError(ErrorCodes.INVALID_INPUT, `blob is larger than the ${maxBytes}-byte limit`));
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const source = body instanceof Readable ? body : Readable.fromWeb(body as WebReadableStream<Uint8Array>);
    try {
      await pipeline(source, counter, createWriteStream(tmp));
      const actual = hash.digest('hex');
      if (actual !== expected) {
        throw new AnvilError(ErrorCodes.CHECKSUM_MISMATCH, `the upload hashes to sha256 ${actual}, not the ${expected} it was sent as; refused and not stored`, {
          details: { expected, actual, size },
        });
      }
      return await place(tmp, size);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Stores a local file by content (the in-process worker's path; the HTTP one streams the body). */
  async putFile(expectedSha256: string, file: string): Promise<StoredBlob> {
    return this.put(expectedSha256, createReadStream(file));
  }

  /** The stored blob, or NOT_FOUND. */
  async get(sha256: string): Promise<StoredBlob> {
    const digest = checkSha256(sha256);
    const row = (await this.sql.query<{ sha256: string; size: string; storage_path: string }>(SQL.get, [digest])).rows[0];
    const file = row ? path.join(this.root, row.storage_path) : undefined;
    if (!row || !file || !(await stat(file).then(() => true, () => false))) {
      throw new AnvilError(ErrorCodes.NOT_FOUND, `No blob ${digest} is stored`, { details: { sha256: digest } });
    }
    return { sha256: digest, size: Number(row.size), file };
  }
}
