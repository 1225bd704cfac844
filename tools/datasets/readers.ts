/**
 * Turns a CSV, JSONL or JSON file into rows of scalar values aligned with a column list, each with
 * where it came from (`line N` for CSV and JSONL, `row N` for a JSON array), so that every later
 * error can name the place.
 */
import { AnvilError, ErrorCodes } from 'anvil/plugin';
import { parseCsv, utf8 } from './csv.ts';
import { LIMITS } from './limits.ts';

export type DatasetFormat = 'csv' | 'jsonl' | 'json';
export const FORMATS: readonly DatasetFormat[] = ['csv', 'jsonl', 'json'];
export type Scalar = string | number | boolean | null;

export interface SourceRow {
  /** The line (CSV, JSONL) or 1-based array position (JSON) of the row. */
  at: number;
  /** Aligned with `RowSource.columns` as it was when the row was yielded (missing trailing ones are null). */
  values: Scalar[];
}

export interface RowSource {
  readonly unit: 'line' | 'row';
  /** The header (CSV), or every key seen so far in first-seen order (JSON, JSONL). */
  readonly columns: string[];
  /** Set once the CSV header (or the first JSON(L) row) has been read. */
  readonly headerRead: () => boolean;
  readonly rows: AsyncGenerator<SourceRow>;
}

function invalid(message: string): AnvilError {
  return new AnvilError(ErrorCodes.INVALID_INPUT, message);
}

/** The format named by a file's extension, if it names one. */
export function formatFromPath(file: string): DatasetFormat | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.json')) return 'json';
  return undefined;
}

/** Texts longer than this get no error position (finding it re-parses prefixes). */
const POSITION_SEARCH_MAX_CHARS = 32 * 1024 * 1024;

/** True when `prefix` is valid JSON or could still become valid JSON with more text after it. */
function viablePrefix(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return true;
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    if (message.startsWith('Unexpected end of JSON input')) return true;
    const position = /at position (\d+)/.exec(message);
    return position !== null && Number(position[1]) >= prefix.length;
  }
}

/**
 * The offset of the first character at which `text` stops being JSON, found from JSON.parse's
 * verdicts on prefixes (only the verdict is used: V8's messages quote the text, and errors never
 * echo file content). `text.length` when the text ends early; undefined when too long to search.
 */
function jsonErrorOffset(text: string, error: unknown): number | undefined {
  const message = error instanceof Error ? error.message : '';
  if (message.startsWith('Unexpected end of JSON input')) return text.length;
  const position = /at position (\d+)/.exec(message);
  if (position) return Number(position[1]);
  if (text.length > POSITION_SEARCH_MAX_CHARS) return undefined;
  // Viable prefixes form a run from the empty one: find the shortest prefix that is not viable.
  let low = 0;
  let high = text.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (viablePrefix(text.slice(0, middle + 1))) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** `line L, column C` (1-based) of a UTF-16 offset into `text`. */
function lineAndColumn(text: string, offset: number): string {
  let line = 1;
  let start = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < offset; at = text.indexOf('\n', at + 1)) {
    line += 1;
    start = at + 1;
  }
  return `line ${line}, column ${offset - start + 1}`;
}

function describe(value: unknown): string {
  return Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Adds an object's keys to `columns` and returns its values aligned with them. */
function alignObject(record: Record<string, unknown>, columns: string[], index: Map<string, number>, where: string): Scalar[] {
  const values: Scalar[] = new Array<Scalar>(columns.length).fill(null);
  for (const [key, value] of Object.entries(record)) {
    let position = index.get(key);
    if (position === undefined) {
      if (key.length === 0) throw invalid(`${where}: a key is the empty string; every column needs a name`);
      if (columns.length >= LIMITS.maxColumns) throw invalid(`${where}: more than ${LIMITS.maxColumns} columns`);
      position = columns.length;
      columns.push(key);
      index.set(key, position);
      values.push(null);
    }
    // Errors name the column by its position: a key is file content, and errors never echo content.
    if (value !== null && typeof value === 'object') {
      throw invalid(`${where}: column ${position + 1} holds ${describe(value)}; only strings, numbers, booleans and null can be imported`);
    }
    if (typeof value === 'string' && value.length > LIMITS.maxFieldChars) {
      throw invalid(`${where}: column ${position + 1} is longer than ${LIMITS.maxFieldChars} characters`);
    }
    if (typeof value === 'number' && !Number.isFinite(value)) throw invalid(`${where}: column ${position + 1} is not a finite number`);
    values[position] = value as Scalar;
  }
  return values;
}

function csvSource(chunks: AsyncIterable<Uint8Array>): RowSource {
  const columns: string[] = [];
  let headerRead = false;
  async function* rows(): AsyncGenerator<SourceRow> {
    for await (const record of parseCsv(chunks, { maxFieldChars: LIMITS.maxFieldChars, maxFields: LIMITS.maxColumns })) {
      if (!headerRead) {
        headerRead = true;
        const seen = new Map<string, number>();
        record.fields.forEach((raw, position) => {
          const name = raw.trim();
          if (name.length === 0) throw invalid(`line ${record.line}: header column ${position + 1} has no name`);
          const first = seen.get(name);
          if (first !== undefined) throw invalid(`line ${record.line}: header columns ${first + 1} and ${position + 1} have the same name`);
          seen.set(name, position);
          columns.push(name);
        });
        continue;
      }
      if (record.fields.length !== columns.length) {
        throw invalid(`line ${record.line}: ${record.fields.length} field${record.fields.length === 1 ? '' : 's'}, but the header has ${columns.length} columns`);
      }
      yield { at: record.line, values: record.fields };
    }
  }
  return { unit: 'line', columns, headerRead: () => headerRead, rows: rows() };
}

function jsonlSource(chunks: AsyncIterable<Uint8Array>): RowSource {
  const columns: string[] = [];
  const index = new Map<string, number>();
  let line = 0;
  let headerRead = false;
  const parseLine = (text: string, at: number): SourceRow | undefined => {
    const trimmed = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (trimmed.trim().length === 0) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      const offset = jsonErrorOffset(trimmed, error);
      throw invalid(`line ${at}: not valid JSON${offset === undefined ? '' : offset >= trimmed.length ? ' (the line ends too early)' : `, column ${offset + 1}`}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid(`line ${at}: expected a JSON object, got ${describe(parsed)}`);
    headerRead = true;
    return { at, values: alignObject(parsed as Record<string, unknown>, columns, index, `line ${at}`) };
  };
  async function* rows(): AsyncGenerator<SourceRow> {
    let carry = '';
    for await (const text of utf8(chunks, () => line + 1)) {
      let start = 0;
      for (;;) {
        const end = text.indexOf('\n', start);
        if (end === -1) break;
        const whole = carry + text.slice(start, end);
        carry = '';
        line += 1;
        const row = parseLine(whole, line);
        if (row) yield row;
        start = end + 1;
      }
      carry += text.slice(start);
      if (carry.length > LIMITS.maxLineChars) throw invalid(`line ${line + 1}: longer than ${LIMITS.maxLineChars} characters`);
    }
    if (carry.length > 0) {
      line += 1;
      const row = parseLine(carry, line);
      if (row) yield row;
    }
  }
  return { unit: 'line', columns, headerRead: () => headerRead, rows: rows() };
}

function jsonSource(chunks: AsyncIterable<Uint8Array>): RowSource {
  const columns: string[] = [];
  const index = new Map<string, number>();
  let headerRead = false;
  async function* rows(): AsyncGenerator<SourceRow> {
    let text = '';
    for await (const piece of utf8(chunks, () => 1)) {
      text += piece;
      if (text.length > LIMITS.maxJsonBytes) throw invalid(`a JSON document is parsed whole and may be at most ${LIMITS.maxJsonBytes} bytes; use JSONL (one object per line) for larger data`);
    }
    if (text.trim().length === 0) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      const offset = jsonErrorOffset(text, error);
      throw invalid(`the file is not valid JSON${offset === undefined ? '' : offset >= text.length ? ' (it ends too early)' : ` (${lineAndColumn(text, offset)})`}`);
    }
    if (!Array.isArray(parsed)) throw invalid(`a JSON dataset must be an array of objects, one per row; the file holds ${describe(parsed)}`);
    for (let position = 0; position < parsed.length; position += 1) {
      const item: unknown = parsed[position];
      const at = position + 1;
      if (item === null || typeof item !== 'object' || Array.isArray(item)) throw invalid(`row ${at}: expected a JSON object, got ${describe(item)}`);
      headerRead = true;
      yield { at, values: alignObject(item as Record<string, unknown>, columns, index, `row ${at}`) };
    }
  }
  return { unit: 'row', columns, headerRead: () => headerRead, rows: rows() };
}

export function openRows(format: DatasetFormat, chunks: AsyncIterable<Uint8Array>): RowSource {
  switch (format) {
    case 'csv':
      return csvSource(chunks);
    case 'jsonl':
      return jsonlSource(chunks);
    case 'json':
      return jsonSource(chunks);
  }
}
