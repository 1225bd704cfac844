// A small Markdown renderer for the reports Anvil writes (evaluation reports): Markdown in, Preact
// elements out, never an HTML string. Reports carry data people supplied (dataset labels, model
// names), so nothing in them may become markup: raw HTML is not a Markdown feature here — `<script>`
// stays the text "<script>" — and only these elements are ever created: headings, paragraphs,
// tables, lists, code, emphasis, rules and links whose address is http(s).
import { h } from 'preact';

/** Longer sources are cut: a report is a page, not a book. */
export const MARKDOWN_CHARS_MAX = 200_000;
const DEPTH_MAX = 4;
const ESCAPABLE = /[\\`*_{}[\]()#+\-.!|<>~]/;
const SAFE_HREF = /^https?:\/\/[^\s]+$/i;
const FENCE = /^\s*```/;
const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const LIST_ITEM = /^\s*([-*+]|\d{1,9}[.)])\s+(.*)$/;
const RULE = /^\s*([-*_])(\s*\1){2,}\s*$/;
const TABLE_RULE = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

/** Inline Markdown (code spans, **strong**, *emphasis*, [links](https://…), backslash escapes) as children. */
export function inline(text, depth = 0) {
  const out = [];
  let buffer = '';
  const flush = () => {
    if (buffer) out.push(buffer);
    buffer = '';
  };
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    const next = text[i + 1];
    if (char === '\\' && next !== undefined && ESCAPABLE.test(next)) {
      buffer += next;
      i += 2;
      continue;
    }
    if (char === '`') {
      const end = text.indexOf('`', i + 1);
      if (end > i) {
        flush();
        out.push(h('code', null, text.slice(i + 1, end)));
        i = end + 1;
        continue;
      }
    }
    if (depth < DEPTH_MAX && char === '*' && next === '*') {
      const end = text.indexOf('**', i + 2);
      if (end > i + 2) {
        flush();
        out.push(h('strong', null, ...inline(text.slice(i + 2, end), depth + 1)));
        i = end + 2;
        continue;
      }
    }
    if (depth < DEPTH_MAX && char === '*' && next !== '*' && next !== ' ' && next !== undefined) {
      const end = text.indexOf('*', i + 1);
      if (end > i + 1) {
        flush();
        out.push(h('em', null, ...inline(text.slice(i + 1, end), depth + 1)));
        i = end + 1;
        continue;
      }
    }
    if (depth < DEPTH_MAX && char === '[') {
      const match = /^\[([^\]]*)\]\(([^()\s]*)\)/.exec(text.slice(i));
      if (match) {
        flush();
        const [whole, label, href] = match;
        // Only web addresses become links; anything else (javascript:, data:, anvil://) stays text.
        if (SAFE_HREF.test(href)) out.push(h('a', { href, rel: 'noopener noreferrer nofollow' }, ...inline(label, depth + 1)));
        else out.push(...inline(label, depth + 1), ` (${href})`);
        i += whole.length;
        continue;
      }
    }
    buffer += char;
    i += 1;
  }
  flush();
  return out;
}

/** A cell's text without Markdown escapes, for the label a phone-width table shows beside each value. */
const plain = (text) => text.replace(/\\(.)/g, '$1').replace(/[*`]/g, '');

/** A table row's cells: split on `|` that is not escaped, the outer pipes dropped. */
function cells(line) {
  const parts = [];
  let current = '';
  for (let i = 0; i < line.length; i += 1) {
    if (line[i] === '\\' && i + 1 < line.length) {
      current += line[i] + line[i + 1];
      i += 1;
    } else if (line[i] === '|') {
      parts.push(current);
      current = '';
    } else current += line[i];
  }
  parts.push(current);
  if (parts.length > 1 && parts[0].trim() === '') parts.shift();
  if (parts.length > 1 && parts[parts.length - 1].trim() === '') parts.pop();
  return parts.map((part) => part.trim());
}

const startsBlock = (line, nextLine) =>
  FENCE.test(line) || HEADING.test(line) || LIST_ITEM.test(line) || RULE.test(line) || (line.includes('|') && nextLine !== undefined && TABLE_RULE.test(nextLine));

/**
 * The blocks of a Markdown document as Preact elements. `headingOffset` shifts heading levels so a
 * report's `#` sits under the page's own headings (h1 page, h2 section: `#` becomes h3).
 */
export function renderMarkdown(source, { headingOffset = 2 } = {}) {
  const lines = String(source ?? '').slice(0, MARKDOWN_CHARS_MAX).replace(/\r\n?/g, '\n').split('\n');
  const blocks = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === '') {
      i += 1;
      continue;
    }
    if (FENCE.test(line)) {
      const body = [];
      i += 1;
      while (i < lines.length && !FENCE.test(lines[i])) body.push(lines[i++]);
      i += 1;
      blocks.push(h('pre', null, h('code', null, body.join('\n'))));
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const level = Math.min(6, heading[1].length + headingOffset);
      blocks.push(h(`h${level}`, null, ...inline(heading[2])));
      i += 1;
      continue;
    }
    if (RULE.test(line)) {
      blocks.push(h('hr', null));
      i += 1;
      continue;
    }
    if (line.includes('|') && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1])) {
      const header = cells(line);
      i += 2;
      const rows = [];
      while (i < lines.length && lines[i].includes('|') && lines[i].trim() !== '') rows.push(cells(lines[i++]));
      blocks.push(
        h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': header.join(', ').slice(0, 120) },
          h('table', null,
            h('thead', null, h('tr', null, ...header.map((cell) => h('th', { scope: 'col' }, ...inline(cell))))),
            h('tbody', null, ...rows.map((row) => h('tr', null, ...header.map((name, index) => h('td', { 'data-label': plain(name) }, ...inline(row[index] ?? '')))))),
          ),
        ),
      );
      continue;
    }
    if (LIST_ITEM.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const items = [];
      while (i < lines.length && LIST_ITEM.test(lines[i]) && /^\s*\d/.test(lines[i]) === ordered) items.push(LIST_ITEM.exec(lines[i++])[2]);
      blocks.push(h(ordered ? 'ol' : 'ul', null, ...items.map((item) => h('li', null, ...inline(item)))));
      continue;
    }
    const paragraph = [line.trim()];
    i += 1;
    while (i < lines.length && lines[i].trim() !== '' && !startsBlock(lines[i], lines[i + 1])) paragraph.push(lines[i++].trim());
    blocks.push(h('p', null, ...inline(paragraph.join(' '))));
  }
  return blocks;
}

/** `<Markdown source=… label=… headingOffset=… />`: the rendered document in a `.markdown` box. */
export function Markdown({ source, label, headingOffset = 2 }) {
  return h('div', { class: 'markdown', role: 'document', 'aria-label': label ?? 'Report' }, ...renderMarkdown(source, { headingOffset }));
}
