/** JSONL corpora: one document per line, `{id, text, ...metadata}`; the id is kept as the document's id. */
import { paragraphBlocks, LoadError, type ExtractedDocument } from './types.ts';

export interface CorpusDocument {
  readonly id: string;
  readonly document: ExtractedDocument;
  readonly metadata: Record<string, unknown>;
}

/** Any printable text up to 500 characters (ids are names, never paths on disk). */
export const DOCUMENT_ID = /^[^\u0000-\u001f\u007f]{1,500}$/u;

/** Parses one line (1-based `line` for errors). */
export function corpusLine(raw: string, line: number): CorpusDocument | undefined {
  if (raw.trim().length === 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new LoadError(`line ${line} is not JSON`, 'corrupt');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new LoadError(`line ${line} is not a JSON object`, 'corrupt');
  const { id, text, ...metadata } = parsed as Record<string, unknown>;
  const key = typeof id === 'number' ? String(id) : id;
  if (typeof key !== 'string' || !DOCUMENT_ID.test(key)) throw new LoadError(`line ${line}: "id" must be a string of 1 to 500 printable characters`, 'corrupt');
  if (typeof text !== 'string') throw new LoadError(`line ${line}: "text" must be a string`, 'corrupt');
  if (text.trim().length === 0) throw new LoadError(`line ${line} (${key}): "text" is empty`, 'empty');
  return { id: key, document: { text, blocks: paragraphBlocks(text), format: 'jsonl' }, metadata };
}
