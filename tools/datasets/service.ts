/**
 * An import from start to end, for the tool and the HTTP upload alike:
 *
 * 1. the source (a file under an allowed root, or an upload first streamed to a temp file) is
 *    parsed and normalised into a temp JSONL file with its SHA-256 (importer.ts) — every check on
 *    the data happens here, before anything is stored;
 * 2. an import equal to the latest version (same content, same options) returns that version;
 * 3. the JSONL goes into the jobs plugin's content-addressed blob store (where workers download it
 *    like a checkpoint: `GET /api/blobs/:sha256`);
 * 4. the version row is inserted in one transaction. Should that fail, a blob this import added and
 *    that no dataset version references is removed again.
 *
 * Temp files live in the blob store's `tmp/` directory and are removed however the import ends.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { AnvilError, ErrorCodes, type CallerPrincipal, type Logger } from 'anvil/plugin';
import type { BlobStore } from '../jobs/index.ts';
import { prepareDataset, type ImportOptions, type PreparedDataset } from './importer.ts';
import { LIMITS, NAME_PATTERN } from './limits.ts';
import { openForImport, type PathPolicy } from './paths.ts';
import { formatFromPath, FORMATS, type DatasetFormat } from './readers.ts';
import type { SplitName } from './split.ts';
import { sameImport, type DatasetStore, type DatasetVersion } from './store.ts';

export interface ImportOutcome {
  version: DatasetVersion;
  /** false: the latest version already held this content with these options. */
  created: boolean;
}

export interface ImportCall {
  project: string;
  /** The principal id recorded as the version's creator. */
  by: string;
  name: string;
  options: ImportOptions;
  signal?: AbortSignal | undefined;
  progress?: ((bytesRead: number, total: number, rows: number) => void) | undefined;
}

export interface SampleResult {
  rows: Array<Record<string, unknown>>;
  /** More rows matched, but the sample stopped at the count or the byte budget. */
  truncated: boolean;
  /** Some string values were cut (they end with …). */
  valuesCut: boolean;
}

export interface DatasetServiceDeps {
  store: DatasetStore;
  /** The jobs plugin's blob store (throws TOOL_UNAVAILABLE while the job system starts). */
  blobs: () => BlobStore;
  /** Which server files `importFile` may read (see paths.ts). */
  paths: PathPolicy;
  log: Logger;
}

export function checkName(name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new AnvilError(ErrorCodes.INVALID_INPUT, `dataset name must be 1-${LIMITS.nameMaxChars} letters, digits, '.', '_' or '-', starting with a letter or digit; got ${JSON.stringify(name)}`);
  }
  return name;
}

function checkFormat(value: string): DatasetFormat {
  if (!(FORMATS as readonly string[]).includes(value)) throw new AnvilError(ErrorCodes.INVALID_INPUT, `format must be one of ${FORMATS.join(', ')}; got ${JSON.stringify(value)}`);
  return value as DatasetFormat;
}

function cutString(value: string): { text: string; cut: boolean } {
  if (value.length <= LIMITS.sampleValueChars) return { text: value, cut: false };
  return { text: `${value.slice(0, LIMITS.sampleValueChars)}…`, cut: true };
}

export class DatasetService {
  constructor(private readonly deps: DatasetServiceDeps) {}

  get store(): DatasetStore {
    return this.deps.store;
  }

  get paths(): PathPolicy {
    return this.deps.paths;
  }

  private workDir(): string {
    return path.join(this.deps.blobs().root, 'tmp');
  }

  /** Imports a file on the server's disk; it must lie under one of the roots open to `caller` (paths.ts). */
  async importFile(call: ImportCall, file: string, caller: Pick<CallerPrincipal, 'kind'>): Promise<ImportOutcome> {
    checkName(call.name);
    const format = call.options.format ?? formatFromPath(file);
    if (!format) throw new AnvilError(ErrorCodes.INVALID_INPUT, `cannot tell the format of ${file} from its extension; pass format: csv, jsonl or json`);
    const opened = await openForImport(file, this.deps.paths, caller);
    let prepared: PreparedDataset;
    try {
      prepared = await prepareDataset({
        chunks: opened.handle.createReadStream({ autoClose: false, highWaterMark: 1 << 20 }),
        size: opened.size,
        format: checkFormat(format),
        options: call.options,
        workDir: this.workDir(),
        signal: call.signal,
        progress: call.progress,
      });
    } finally {
      await opened.handle.close();
    }
    return this.commit(call, prepared, `file ${opened.file} (${format}, ${opened.size} bytes)`);
  }

  /** Imports an uploaded body: streamed to a temp file (at most LIMITS.maxFileBytes), then parsed like a file. */
  async importUpload(call: ImportCall, body: ReadableStream<Uint8Array> | Readable, format: string, description = 'upload'): Promise<ImportOutcome> {
    checkName(call.name);
    const kind = checkFormat(format);
    const workDir = this.workDir();
    await mkdir(workDir, { recursive: true });
    const temp = path.join(workDir, `datasets-upload-${randomUUID()}.part`);
    try {
      let size = 0;
      const limit = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          size += chunk.length;
          if (size > LIMITS.maxFileBytes) done(new AnvilError(ErrorCodes.INVALID_INPUT, `the upload is larger than ${LIMITS.maxFileBytes} bytes, the most imported`));
          else done(null, chunk);
        },
      });
      const source = body instanceof Readable ? body : Readable.fromWeb(body as WebReadableStream<Uint8Array>);
      await pipeline(source, limit, createWriteStream(temp), ...(call.signal ? [{ signal: call.signal }] : []));
      const prepared = await prepareDataset({
        chunks: createReadStream(temp, { highWaterMark: 1 << 20 }),
        size,
        format: kind,
        options: call.options,
        workDir,
        signal: call.signal,
        progress: call.progress,
      });
      return await this.commit(call, prepared, `${description} (${kind}, ${size} bytes)`);
    } finally {
      await rm(temp, { force: true });
    }
  }

  /** Stores the prepared JSONL and records the version (or finds the identical latest one). */
  private async commit(call: ImportCall, prepared: PreparedDataset, source: string): Promise<ImportOutcome> {
    const { store, log } = this.deps;
    try {
      // The common re-import: nothing to store. (insertVersion checks again under the row lock.)
      const latest = await store.latest(call.project, call.name);
      if (latest && sameImport(latest, prepared) && (await this.blobExists(prepared.sha256))) return { version: latest, created: false };
      const blobs = this.deps.blobs();
      const existed = await this.blobExists(prepared.sha256);
      const stored = await blobs.putFile(prepared.sha256, prepared.file);
      try {
        return await store.insertVersion(call.project, call.name, call.by, prepared, source);
      } catch (error) {
        if (!existed && !(await store.referenced(prepared.sha256).catch(() => true))) {
          await rm(stored.file, { force: true }).catch(() => {});
          log.warn({ sha256: prepared.sha256, name: call.name }, 'dataset version not recorded; removed the blob it had stored');
        }
        throw error;
      }
    } finally {
      await rm(prepared.file, { force: true });
    }
  }

  private async blobExists(sha256: string): Promise<boolean> {
    return this.deps.blobs().get(sha256).then(
      () => true,
      () => false,
    );
  }

  /**
   * Up to `count` rows of a version (of one split, if given), in file order, with long strings cut,
   * stopping before the rows' JSON would pass LIMITS.sampleBudgetBytes.
   */
  async sample(version: DatasetVersion, count: number, split?: SplitName): Promise<SampleResult> {
    const result: SampleResult = { rows: [], truncated: false, valuesCut: false };
    if (count <= 0) return result;
    const blob = await this.deps.blobs().get(version.sha256);
    const lines = createInterface({ input: createReadStream(blob.file, { encoding: 'utf8' }), crlfDelay: Infinity });
    let budget = LIMITS.sampleBudgetBytes;
    try {
      for await (const line of lines) {
        if (line.length === 0) continue;
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (split !== undefined && parsed.split !== split) continue;
        if (result.rows.length >= count) {
          result.truncated = true;
          break;
        }
        const row = Object.fromEntries(
          Object.entries(parsed).map(([key, value]) => {
            if (typeof value !== 'string') return [key, value];
            const { text, cut } = cutString(value);
            if (cut) result.valuesCut = true;
            return [key, text];
          }),
        );
        const bytes = Buffer.byteLength(JSON.stringify(row)) + 1;
        if (bytes > budget) {
          result.truncated = true;
          break;
        }
        budget -= bytes;
        result.rows.push(row);
      }
    } finally {
      lines.close();
    }
    return result;
  }
}
