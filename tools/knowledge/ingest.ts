/**
 * kb_ingest's work: a file or a folder (its supported files, recursively) under the operator-named
 * roots, or an uploaded file. Each file is loaded and written on its own (JSONL corpora in batches
 * of 200 lines), so one bad file is reported by name and the rest still ingest; a file that fails
 * leaves nothing of itself behind.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { AnvilError, ErrorCodes } from 'anvil/plugin';
import { corpusLine } from '../../knowledge/loaders/corpus.ts';
import { formatOf, loadDocument, LoadError } from '../../knowledge/loaders/index.ts';
import { openWithinRoots } from '../datasets/index.ts';
import { MAX_FILE_BYTES } from './config.ts';
import type { PreparedDocument, WriteOutcome } from './writer.ts';

export const INGEST_LIMITS = {
  /** One file (PDF, DOCX, …, or a JSONL corpus). */
  maxFileBytes: MAX_FILE_BYTES,
  maxFilesPerFolder: 10_000,
  corpusBatch: 200,
} as const;

export interface FileFailure {
  file: string;
  code: string;
  message: string;
}

export interface IngestSummary {
  files: number;
  added: number;
  updated: number;
  unchanged: number;
  chunks: number;
  failed: FileFailure[];
}

export interface IngestTarget {
  /** Absolute path the caller gave (checked against the roots again when opened). */
  readonly path: string;
  readonly roots: readonly string[];
  /** Places never read even inside a root (Anvil's home, config and artifacts; pending uploads). */
  readonly protectedPaths: readonly string[];
  readonly cwd: string;
  /** Document id prefix base: ids are paths relative to this folder (or the file name). */
  readonly base: string;
  readonly metadata: Record<string, unknown>;
}

/** Files to ingest under `target.path` (itself, when it is a file), sorted. */
export async function listFiles(target: Pick<IngestTarget, 'path' | 'roots' | 'protectedPaths' | 'cwd'>): Promise<{ files: string[]; base: string }> {
  const opened = await openWithinRoots(target.path, target.roots, target.cwd, target.protectedPaths).catch(async (error: unknown) => {
    // A folder cannot be opened as a regular file; anything else is the caller's error.
    const info = await stat(target.path).catch(() => undefined);
    if (info?.isDirectory()) return undefined;
    throw error;
  });
  if (opened) {
    await opened.handle.close();
    return { files: [target.path], base: path.dirname(target.path) };
  }
  const files: string[] = [];
  const entries = await readdir(target.path, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if (formatOf(file) === undefined) continue;
    files.push(file);
    if (files.length > INGEST_LIMITS.maxFilesPerFolder) throw new AnvilError(ErrorCodes.INVALID_INPUT, `${target.path} holds more than ${INGEST_LIMITS.maxFilesPerFolder} supported files; ingest its subfolders one by one`);
  }
  return { files: files.sort(), base: target.path };
}

export interface IngestDeps {
  write(documents: PreparedDocument[]): Promise<WriteOutcome>;
  progress(done: number, total: number, summary: IngestSummary): Promise<void>;
}

export async function ingestFiles(files: readonly string[], target: IngestTarget, deps: IngestDeps, names?: ReadonlyMap<string, string>): Promise<IngestSummary> {
  const summary: IngestSummary = { files: files.length, added: 0, updated: 0, unchanged: 0, chunks: 0, failed: [] };
  const record = (outcome: WriteOutcome) => {
    summary.added += outcome.added.length;
    summary.updated += outcome.updated.length;
    summary.unchanged += outcome.unchanged.length;
    summary.chunks += outcome.chunks;
  };
  for (const [i, file] of files.entries()) {
    const id = names?.get(file) ?? path.relative(target.base, file).split(path.sep).join('/');
    try {
      const bytes = await readWithin(file, target);
      // An upload's name may lack an extension: its stored file has the one its Content-Type named.
      const format = formatOf(names?.get(file) ?? file) ?? formatOf(file);
      if (!format) throw new LoadError(`unsupported format (Anvil reads ${['.pdf', '.docx', '.html', '.md', '.txt', '.jsonl'].join(', ')})`, 'unsupported');
      if (format === 'jsonl') {
        const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        let batch: PreparedDocument[] = [];
        const lines = text.split('\n');
        for (const [n, line] of lines.entries()) {
          const parsed = corpusLine(line, n + 1);
          if (parsed) batch.push({ id: parsed.id, source: id, document: parsed.document, metadata: { ...target.metadata, ...parsed.metadata } });
          if (batch.length >= INGEST_LIMITS.corpusBatch || (n === lines.length - 1 && batch.length > 0)) {
            record(await deps.write(batch));
            batch = [];
            await deps.progress(i, files.length, summary);
          }
        }
      } else {
        const document = await loadDocument(bytes, format);
        record(await deps.write([{ id, source: id, document, metadata: { ...target.metadata } }]));
      }
    } catch (error) {
      if (error instanceof LoadError) summary.failed.push({ file: id, code: error.reason === 'too_large' ? ErrorCodes.QUOTA_EXCEEDED : ErrorCodes.INVALID_INPUT, message: `${id}: ${error.message}` });
      else if (error instanceof AnvilError) summary.failed.push({ file: id, code: error.code, message: `${id}: ${error.message}` });
      else if (error instanceof TypeError && /encoded data was not valid/i.test(error.message)) summary.failed.push({ file: id, code: ErrorCodes.INVALID_INPUT, message: `${id}: the file is not valid UTF-8` });
      else throw error;
    }
    await deps.progress(i + 1, files.length, summary);
  }
  return summary;
}

async function readWithin(file: string, target: IngestTarget): Promise<Uint8Array> {
  const opened = await openWithinRoots(file, target.roots, target.cwd, target.protectedPaths);
  try {
    if (opened.size > INGEST_LIMITS.maxFileBytes) throw new LoadError(`the file is ${Math.round(opened.size / 1024 ** 2)} MB, over the ${INGEST_LIMITS.maxFileBytes / 1024 ** 2} MB limit per file`, 'too_large');
    return await opened.handle.readFile();
  } finally {
    await opened.handle.close();
  }
}
