/** Format detection by file name (and a sniff of the first bytes), and the loader for each format. */
import path from 'node:path';
import { loadDocx } from './docx.ts';
import { loadHtml } from './html.ts';
import { loadMarkdown } from './markdown.ts';
import { loadPdf } from './pdf.ts';
import { loadText } from './text.ts';
import { LoadError, type DocumentFormat, type ExtractedDocument } from './types.ts';

export * from './types.ts';
export { decodeUtf8 } from './text.ts';

const EXTENSIONS: Readonly<Record<string, DocumentFormat>> = {
  '.pdf': 'pdf',
  '.docx': 'docx',
  '.html': 'html',
  '.htm': 'html',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.txt': 'text',
  '.text': 'text',
  '.rst': 'text',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
};

/** The format of a file by its extension; undefined when Anvil does not read it. */
export function formatOf(name: string): DocumentFormat | undefined {
  return EXTENSIONS[path.extname(name).toLowerCase()];
}

export const SUPPORTED_EXTENSIONS = Object.keys(EXTENSIONS);

/** Extracts one document (JSONL corpora are split by the caller, see corpus.ts). */
export async function loadDocument(bytes: Uint8Array, format: Exclude<DocumentFormat, 'jsonl'>): Promise<ExtractedDocument> {
  const magic = Buffer.from(bytes.subarray(0, 5)).toString('latin1');
  if (format === 'pdf' && magic !== '%PDF-') throw new LoadError('not a PDF file (it does not start with %PDF-)', 'corrupt');
  if (format === 'docx' && !magic.startsWith('PK')) throw new LoadError('not a DOCX file (it is not a ZIP archive)', 'corrupt');
  const document = await load(bytes, format);
  if (document.text.trim().length === 0) throw new LoadError(`no text could be extracted${format === 'pdf' ? ' (a scanned PDF needs OCR, which Anvil does not do)' : ''}`, 'empty');
  return document;
}

function load(bytes: Uint8Array, format: Exclude<DocumentFormat, 'jsonl'>): ExtractedDocument | Promise<ExtractedDocument> {
  switch (format) {
    case 'pdf':
      return loadPdf(bytes);
    case 'docx':
      return loadDocx(bytes);
    case 'html':
      return loadHtml(bytes);
    case 'markdown':
      return loadMarkdown(bytes);
    case 'text':
      return loadText(bytes);
  }
}
