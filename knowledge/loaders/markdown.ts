/**
 * Markdown: the source is the extracted text (citations are slices of the file as written), and
 * mdast gives each top-level block's exact offsets; GFM adds tables.
 */
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';
import { decodeUtf8 } from './text.ts';
import type { Block, BlockKind, ExtractedDocument } from './types.ts';

const KINDS: Readonly<Record<string, BlockKind>> = {
  heading: 'heading',
  paragraph: 'paragraph',
  list: 'list',
  table: 'table',
  code: 'code',
  blockquote: 'paragraph',
  html: 'paragraph',
};

export function loadMarkdown(bytes: Uint8Array): ExtractedDocument {
  const text = decodeUtf8(bytes);
  const tree = fromMarkdown(text, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] });
  const blocks: Block[] = [];
  let title: string | undefined;
  for (const node of tree.children) {
    const kind = KINDS[node.type];
    const start = node.position?.start.offset;
    const end = node.position?.end.offset;
    if (!kind || start === undefined || end === undefined || end <= start) continue;
    if (node.type === 'heading') {
      blocks.push({ kind, start, end, depth: node.depth });
      if (title === undefined && node.depth === 1) title = text.slice(start, end).replace(/^#+\s*/, '').trim();
    } else blocks.push({ kind, start, end });
  }
  return { text, blocks, format: 'markdown', ...(title ? { title } : {}) };
}
