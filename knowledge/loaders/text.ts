import { LoadError, paragraphBlocks, type ExtractedDocument } from './types.ts';

export function loadText(bytes: Uint8Array): ExtractedDocument {
  const text = decodeUtf8(bytes);
  return { text, blocks: paragraphBlocks(text), format: 'text' };
}

/** Strict UTF-8 (a binary file given as text is refused, not indexed as mojibake); BOM dropped. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new LoadError('the file is not valid UTF-8 text', 'corrupt');
  }
}
