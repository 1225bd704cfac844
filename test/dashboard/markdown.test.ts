/**
 * The dashboard's Markdown renderer (tools/dashboard/ui/markdown.js), run in Node on the Preact
 * elements it returns: hostile report text (HTML tags, event handlers, javascript: links, the
 * escapes the evaluation report writes) comes out as text inside whitelisted elements only. The
 * browser half (a real report with a `<script>` label, in Chromium) is in test/e2e/dashboard.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

interface Node {
  type: unknown;
  props: Record<string, unknown> & { children?: unknown };
}
type Render = (source: string) => Node[];
const { renderMarkdown } = (await import(new URL('../../tools/dashboard/ui/markdown.js', import.meta.url).href)) as { renderMarkdown: Render };

const ALLOWED = new Set(['h3', 'h4', 'h5', 'h6', 'p', 'div', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'ul', 'ol', 'li', 'pre', 'code', 'strong', 'em', 'a', 'hr']);
const ALLOWED_PROPS = new Set(['children', 'href', 'rel', 'class', 'tabindex', 'role', 'aria-label', 'scope', 'data-label']);

/** Every element's tag and props checked; the text of the whole tree returned. */
function walk(value: unknown, elements: string[] = []): { text: string; elements: string[] } {
  if (value === null || value === undefined || typeof value === 'boolean') return { text: '', elements };
  if (typeof value === 'string' || typeof value === 'number') return { text: String(value), elements };
  if (Array.isArray(value)) return { text: value.map((item) => walk(item, elements).text).join(''), elements };
  const node = value as Node;
  assert.equal(typeof node.type, 'string', 'only plain elements, no components');
  assert.ok(ALLOWED.has(node.type as string), `element <${String(node.type)}> is not whitelisted`);
  elements.push(node.type as string);
  for (const [key, prop] of Object.entries(node.props)) {
    assert.ok(ALLOWED_PROPS.has(key), `prop ${key} on <${String(node.type)}>`);
    if (key === 'href') assert.match(String(prop), /^https?:\/\//);
  }
  return { text: walk(node.props.children, elements).text, elements };
}

test('raw HTML in a report is text: no script, img, iframe or event handler is ever created', () => {
  const hostile = [
    '# Report <script>window.pwned = 1</script>',
    '',
    '<img src=x onerror="window.pwned = 2">',
    '',
    '| Label | Rows |',
    '|---|---|',
    '| <script>alert(1)</script> | 3 |',
    '| <iframe src="javascript:alert(2)"></iframe> | 1 |',
    '| a \\| b | 2 |',
    '',
    '[click](javascript:alert(3)) and [data](data:text/html,<b>x</b>) and [ok](https://example.org/x)',
    '',
    '```',
    '<svg onload=alert(4)>',
    '```',
  ].join('\n');
  const { text, elements } = walk(renderMarkdown(hostile));
  assert.ok(text.includes('<script>window.pwned = 1</script>'), 'the heading keeps the tag as text');
  assert.ok(text.includes('<img src=x onerror="window.pwned = 2">'));
  assert.ok(text.includes('<script>alert(1)</script>'));
  assert.ok(text.includes('<iframe src="javascript:alert(2)"></iframe>'));
  assert.ok(text.includes('<svg onload=alert(4)>'));
  assert.ok(text.includes('a | b'), 'an escaped pipe stays inside its cell');
  assert.ok(text.includes('javascript:alert(3)'), 'a javascript: link is text, not a link');
  assert.ok(text.includes('data (data:text/html,<b>x</b>)'), 'a data: link is its label and address as text');
  assert.equal(elements.filter((name) => name === 'a').length, 1, 'only the https link is a link');
  for (const forbidden of ['script', 'img', 'iframe', 'svg']) assert.ok(!elements.includes(forbidden));
});

test('the evaluation report shapes render as headings, tables, emphasis and lists', () => {
  const report = [
    '# intents v2 vs intents v1',
    '',
    '**Verdict: worse** (on accuracy). The candidate is *worse*.',
    '',
    '| Metric | intents v1 | intents v2 | Δ |',
    '|---|---|---|---|',
    '| Accuracy | 0.9 | 0.1 | -0.8 |',
    '| card\\_arrival | 1 | 2 | +1 |',
    '',
    '## Per-class F1 changes',
    '',
    '- first',
    '- second with `code`',
    '',
    '1. one',
    '2. two',
  ].join('\n');
  const blocks = renderMarkdown(report);
  const types = blocks.map((block) => block.type);
  assert.deepEqual(types, ['h3', 'p', 'div', 'h4', 'ul', 'ol']);
  const { text, elements } = walk(blocks);
  assert.ok(elements.includes('strong') && elements.includes('em') && elements.includes('code'));
  assert.equal(elements.filter((name) => name === 'tr').length, 3);
  assert.equal(elements.filter((name) => name === 'th').length, 4);
  assert.ok(text.includes('card_arrival'), 'backslash escapes are removed');
  assert.ok(!text.includes('**'));
});
