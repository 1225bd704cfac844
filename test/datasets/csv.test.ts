/**
 * The CSV parser on its own: RFC 4180 quoting, line ends, BOM, line numbers, and the same records
 * whatever the chunking (every input is also fed one byte at a time) and from the string entry
 * (`parseCsvText`, what tests reading Banking77 use).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { csvObjects, parseCsv, parseCsvText, type CsvRecord } from '../../tools/datasets/csv.ts';
import { stratifiedSplit } from '../../tools/datasets/split.ts';

const limits = { maxFieldChars: 1_000, maxFields: 100 };

async function* chunked(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function parse(text: string, size = 1 << 16): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const record of parseCsv(chunked(text, size), limits)) out.push(record);
  return out;
}

/** Parses whole, byte by byte and from the string; all must agree. */
async function both(text: string): Promise<CsvRecord[]> {
  const whole = await parse(text);
  assert.deepEqual(await parse(text, 1), whole, 'byte-by-byte parse differs');
  assert.deepEqual(await parse(text, 3), whole, '3-byte-chunk parse differs');
  assert.deepEqual(parseCsvText(text, limits), whole, 'the string entry differs');
  return whole;
}

describe('CSV parser', () => {
  test('quotes, escaped quotes, embedded commas and newlines, CRLF and a BOM', async () => {
    const text = '\uFEFFtext,category\r\n"hello, world",greet\r\n"she said ""hi""",quote\r\n"two\r\nlines",multi\r\nplain,x';
    const records = await both(text);
    assert.deepEqual(
      records.map((record) => record.fields),
      [
        ['text', 'category'],
        ['hello, world', 'greet'],
        ['she said "hi"', 'quote'],
        ['two\r\nlines', 'multi'],
        ['plain', 'x'],
      ],
    );
    assert.deepEqual(records.map((record) => record.line), [1, 2, 3, 4, 6]);
  });

  test('LF and lone CR line ends, blank lines skipped, empty fields kept, trailing newline', async () => {
    const records = await both('a,b\n\n1,\r,2\n"",""\n');
    assert.deepEqual(records.map((record) => record.fields), [['a', 'b'], ['1', ''], ['', '2'], ['', '']]);
    assert.deepEqual(records.map((record) => record.line), [1, 3, 4, 5]);
  });

  test('a quote inside an unquoted field is kept; a multi-byte character split across chunks survives', async () => {
    const records = await both('a,b\n5" screen,café ☕\n');
    assert.deepEqual(records[1]?.fields, ['5" screen', 'café ☕']);
  });

  test('errors name the line: text after a closing quote, an unclosed quote, a field too long, bad UTF-8', async () => {
    await assert.rejects(parse('a,b\n"x"y,1\n'), /line 2: field 1 has text after its closing quote/);
    await assert.rejects(parse('a,b\n1,2\n"open,3\n4,5\n'), /line 3: field 1 opens a quote that is never closed/);
    await assert.rejects(parse(`a\n"${'x'.repeat(2_000)}`), /line 2: field 1 is longer than 1000 characters — is a closing quote missing\?/);
    const bad = async function* () {
      yield Buffer.from('a,b\n1,2\n');
      yield Buffer.from([0xff, 0xfe, 0x0a]);
    };
    await assert.rejects(async () => {
      for await (const _ of parseCsv(bad(), limits)) void _;
    }, /line 3: the file is not valid UTF-8/);
  });
});

describe('CSV from a string', () => {
  test('the same errors, naming the same lines', () => {
    assert.throws(() => parseCsvText('a,b\n"x"y,1\n', limits), /line 2: field 1 has text after its closing quote/);
    assert.throws(() => parseCsvText('a,b\n1,2\n"open,3\n4,5\n', limits), /line 3: field 1 opens a quote that is never closed/);
    assert.throws(() => parseCsvText('a,b,c\n1,2,3\n', { maxFieldChars: 10, maxFields: 2 }), /line 1: more than 2 fields/);
  });

  test('csvObjects keys the rows by the header; short rows get empty fields', () => {
    const records = parseCsvText('text,category\n"hi, there",greet\nalone\n', limits);
    assert.deepEqual(csvObjects(records), [
      { text: 'hi, there', category: 'greet' },
      { text: 'alone', category: '' },
    ]);
    assert.deepEqual(csvObjects([]), []);
  });
});

describe('stratified split', () => {
  test('keeps label proportions, is deterministic for a seed, and differs for another seed', () => {
    const groups = Array.from({ length: 1_000 }, (_, row) => row % 4);
    const a = stratifiedSplit(groups, { validation: 0.1, test: 0.2, seed: 42 });
    const b = stratifiedSplit(groups, { validation: 0.1, test: 0.2, seed: 42 });
    const c = stratifiedSplit(groups, { validation: 0.1, test: 0.2, seed: 7 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    for (let label = 0; label < 4; label += 1) {
      const counts = [0, 0, 0];
      a.forEach((code, row) => {
        if (groups[row] === label) counts[code] = (counts[code] ?? 0) + 1;
      });
      assert.deepEqual(counts, [175, 25, 50]);
    }
  });

  test('a label with one row stays in train; two rows keep one in train', () => {
    const split = stratifiedSplit([0, 1, 1], { validation: 0.5, test: 0.5, seed: 1 });
    assert.equal(split[0], 0);
    assert.equal([split[1], split[2]].filter((code) => code === 0).length, 1);
  });
});
