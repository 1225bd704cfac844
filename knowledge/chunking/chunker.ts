/**
 * Chunking that follows the document: a chunk is a run of whole blocks (paragraphs, lists, tables,
 * code) under one heading path and on one page, up to `size` characters. A heading starts a new
 * chunk and is its first line. A block larger than `size` is cut at sentence (else word) boundaries
 * into pieces that overlap by about `overlap` characters; between chunks cut for size, the previous
 * block is repeated when it is no longer than `overlap`. Every chunk is a slice [start, end) of the
 * extracted text, so its cited text is exactly the source's.
 */
import { sentences } from '../text/tokenize.ts';
import type { Block, ExtractedDocument } from '../loaders/types.ts';

export interface ChunkingOptions {
  /** Target maximum characters per chunk. */
  readonly size: number;
  /** Characters repeated between consecutive pieces of one section. */
  readonly overlap: number;
}

export const DEFAULT_CHUNKING: ChunkingOptions = { size: 1200, overlap: 150 };

export interface Chunk {
  readonly start: number;
  readonly end: number;
  readonly page: number | null;
  readonly headingPath: readonly string[];
}

export function chunkDocument(document: ExtractedDocument, options: ChunkingOptions = DEFAULT_CHUNKING): Chunk[] {
  const { text } = document;
  const chunks: Chunk[] = [];
  const headings: string[] = [];
  let run: Block[] = [];

  const flush = () => {
    const first = run[0];
    const last = run[run.length - 1];
    if (first && last) chunks.push({ start: first.start, end: last.end, page: first.page ?? null, headingPath: [...headings] });
    run = [];
  };

  for (const block of document.blocks) {
    if (block.kind === 'heading') {
      flush();
      const depth = block.depth ?? 1;
      headings.length = Math.min(headings.length, depth - 1);
      headings.push(text.slice(block.start, block.end).replace(/^#+\s*|\s*#+\s*$/g, '').trim());
      run = [block];
      continue;
    }
    const first = run[0];
    const samePage = !first || (first.page ?? null) === (block.page ?? null);
    if (first && (!samePage || block.end - first.start > options.size)) {
      const previous = run[run.length - 1] as Block;
      const onlyHeading = run.length === 1 && previous.kind === 'heading';
      if (!onlyHeading || !samePage) {
        flush();
        if (samePage && previous.kind !== 'heading' && previous.end - previous.start <= options.overlap && block.end - previous.start <= options.size) run = [previous];
      }
    }
    if (block.end - block.start > options.size) {
      // The heading (if it is all the run holds) leads the first piece.
      const lead = run.length === 1 && run[0]?.kind === 'heading' ? run[0].start : block.start;
      run = [];
      for (const piece of splitLong(text, lead, block.end, options)) {
        chunks.push({ start: piece.start, end: piece.end, page: block.page ?? null, headingPath: [...headings] });
      }
      continue;
    }
    run.push(block);
  }
  flush();
  return chunks;
}

/** Cuts [from, to) into pieces of at most `size` characters at sentence or word ends, overlapping. */
function splitLong(text: string, from: number, to: number, options: ChunkingOptions): Array<{ start: number; end: number }> {
  const cuts = sentences(text.slice(from, to)).map((s) => from + s.end);
  const pieces: Array<{ start: number; end: number }> = [];
  let start = from;
  while (start < to) {
    let end = Math.min(to, start + options.size);
    if (end < to) {
      const sentenceEnd = lastBelow(cuts, end, start + options.size / 3);
      if (sentenceEnd !== undefined) end = sentenceEnd;
      else {
        const space = text.lastIndexOf(' ', end);
        if (space > start + options.size / 3) end = space;
      }
    }
    pieces.push(trimmed(text, start, end));
    if (end >= to) break;
    let next = Math.max(start + 1, end - options.overlap);
    const space = text.indexOf(' ', next);
    if (space !== -1 && space < end) next = space + 1;
    start = next;
  }
  return pieces.filter((piece) => piece.end > piece.start);
}

function lastBelow(sorted: readonly number[], limit: number, floor: number): number | undefined {
  let found: number | undefined;
  for (const value of sorted) {
    if (value > limit) break;
    if (value > floor) found = value;
  }
  return found;
}

function trimmed(text: string, start: number, end: number): { start: number; end: number } {
  let a = start;
  let b = end;
  while (a < b && /\s/.test(text[a] as string)) a += 1;
  while (b > a && /\s/.test(text[b - 1] as string)) b -= 1;
  return { start: a, end: b };
}
