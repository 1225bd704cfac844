/**
 * What every loader produces: the extracted text of one document and its structure as blocks
 * with exact character offsets into that text. Citations are slices of `text`, so a loader either
 * keeps the source as it is (Markdown, plain text) or builds `text` itself and records each
 * block's offsets while appending it (PDF, DOCX, HTML).
 */
export type BlockKind = 'heading' | 'paragraph' | 'list' | 'table' | 'code';

export interface Block {
  readonly kind: BlockKind;
  readonly start: number;
  readonly end: number;
  /** Heading level 1–6 (headings only). */
  readonly depth?: number;
  /** 1-based page (PDF only). */
  readonly page?: number;
}

export interface ExtractedDocument {
  readonly text: string;
  readonly blocks: readonly Block[];
  readonly format: DocumentFormat;
  /** Pages and where they start and end in `text` (PDF only). */
  readonly pages?: ReadonlyArray<{ readonly page: number; readonly start: number; readonly end: number }>;
  readonly title?: string;
}

export const FORMATS = ['pdf', 'docx', 'html', 'markdown', 'text', 'jsonl'] as const;
export type DocumentFormat = (typeof FORMATS)[number];

/** A loader failure that names the problem; the caller adds the document's name. */
export class LoadError extends Error {
  constructor(
    message: string,
    readonly reason: 'corrupt' | 'encrypted' | 'empty' | 'unsupported' | 'too_large',
  ) {
    super(message);
  }
}

/** Appends blocks to a text being built, recording exact offsets. */
export class TextBuilder {
  private parts: string[] = [];
  private length = 0;
  readonly blocks: Block[] = [];

  add(kind: BlockKind, raw: string, extra: { depth?: number; page?: number } = {}): void {
    const content = raw.replace(/[ \t]+\n/g, '\n').trim();
    if (content.length === 0) return;
    if (this.length > 0) this.push('\n\n');
    const start = this.length;
    this.push(content);
    this.blocks.push({ kind, start, end: this.length, ...extra });
  }

  get text(): string {
    return this.parts.join('');
  }

  get size(): number {
    return this.length;
  }

  private push(part: string): void {
    this.parts.push(part);
    this.length += part.length;
  }
}

/** Paragraph blocks of plain text: runs separated by blank lines, offsets into `text` itself. */
export function paragraphBlocks(text: string, offset = 0, page?: number): Block[] {
  const blocks: Block[] = [];
  const separator = /\n[ \t]*\n/g;
  let start = 0;
  const push = (from: number, to: number) => {
    let a = from;
    let b = to;
    while (a < b && /\s/.test(text[a] as string)) a += 1;
    while (b > a && /\s/.test(text[b - 1] as string)) b -= 1;
    if (b > a) blocks.push({ kind: /^\s*([-*•]|\d+[.)])\s/.test(text.slice(a, b)) ? 'list' : 'paragraph', start: offset + a, end: offset + b, ...(page === undefined ? {} : { page }) });
  };
  for (const match of text.matchAll(separator)) {
    push(start, match.index ?? 0);
    start = (match.index ?? 0) + match[0].length;
  }
  push(start, text.length);
  return blocks;
}
