/**
 * HTML through html-to-text: tables as aligned data tables (its default flattens them), links
 * without their URLs, images dropped. Headings pass through a formatter that marks them, so the
 * blocks of the text know which are headings; the marks are removed when the text is rebuilt.
 */
import { convert, type FormatCallback } from 'html-to-text';
import { decodeUtf8 } from './text.ts';
import { TextBuilder, type ExtractedDocument } from './types.ts';

const MARK = '\u0002H';
const MARK_END = '\u0003';

const heading: FormatCallback = (elem, walk, builder, formatOptions) => {
  const level = Number((formatOptions as { level?: number }).level ?? 1);
  builder.openBlock({ leadingLineBreaks: 2 });
  builder.addLiteral(`${MARK}${level}${MARK_END}`);
  walk(elem.children, builder);
  builder.closeBlock({ trailingLineBreaks: 2 });
};

const headingSelectors = [1, 2, 3, 4, 5, 6].map((level) => ({ selector: `h${level}`, format: 'anvilHeading', options: { level } }));

export function loadHtml(bytes: Uint8Array): ExtractedDocument {
  return htmlToDocument(decodeUtf8(bytes), 'html');
}

export function htmlToDocument(html: string, format: 'html' | 'docx'): ExtractedDocument {
  const converted = convert(html, {
    wordwrap: false,
    formatters: { anvilHeading: heading },
    selectors: [
      ...headingSelectors,
      { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'script', format: 'skip' },
      { selector: 'style', format: 'skip' },
    ],
  });
  const builder = new TextBuilder();
  let title: string | undefined;
  for (const part of converted.split(/\n[ \t]*\n/)) {
    const marked = /^\s*\u0002H(\d)\u0003/.exec(part);
    if (marked) {
      const text = part.replace(/\u0002H\d\u0003/g, '');
      builder.add('heading', text, { depth: Number(marked[1]) });
      if (title === undefined) title = text.trim();
    } else {
      const isTable = part.split('\n').length > 1 && part.split('\n').every((line) => / {2,}\S/.test(line.trim()) || line.trim() === '');
      const isList = /^\s*([-*•]|\d+[.)])\s/.test(part);
      builder.add(isTable ? 'table' : isList ? 'list' : 'paragraph', part.replace(/[\u0002\u0003]/g, ''));
    }
  }
  return { text: builder.text, blocks: builder.blocks, format, ...(title ? { title } : {}) };
}
