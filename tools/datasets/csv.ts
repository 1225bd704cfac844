/**
 * A streaming RFC 4180 CSV parser: quoted fields with `""` escapes, commas and line breaks inside
 * quotes, CRLF, LF or lone CR line ends, a UTF-8 BOM. Records are yielded as they complete, each
 * with the (1-based) physical line it starts on, so errors can name it.
 *
 * Leniencies, on purpose: a `"` inside an unquoted field is kept as a character; blank lines
 * (outside quotes) are skipped; the last record needs no line break. Strictness: text after a
 * closing quote other than a comma or a line end is an error, and so is a quote left open at the
 * end of the file. Input must be UTF-8.
 *
 * The one CSV reader: `parseCsv` streams byte chunks (dataset imports), `parseCsvText` reads a
 * string already in memory (tests, small files); both run the same `csvParser`.
 */
import { AnvilError, ErrorCodes } from 'anvil/plugin';

export interface CsvRecord {
  /** The physical line (1-based) the record starts on. */
  line: number;
  fields: string[];
}

export interface CsvLimits {
  /** The longest field, in UTF-16 code units (about characters). */
  maxFieldChars: number;
  maxFields: number;
}

const COMMA = 0x2c;
const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

const enum State {
  /** At the start of a field. */
  FieldStart,
  Unquoted,
  Quoted,
  /** Saw a `"` inside a quoted field: an escaped quote follows, or the field ended. */
  QuoteInQuoted,
}

function invalid(message: string): AnvilError {
  return new AnvilError(ErrorCodes.INVALID_INPUT, message);
}

/** Decodes UTF-8 chunks strictly, naming the line where the bytes stop being UTF-8. */
export async function* utf8(chunks: AsyncIterable<Uint8Array | string>, line: () => number): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let first = true;
  const decode = (chunk?: Uint8Array): string => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch {
      throw invalid(`line ${line()}: the file is not valid UTF-8 (save it as UTF-8 and import again)`);
    }
  };
  for await (const chunk of chunks) {
    let text = typeof chunk === 'string' ? chunk : decode(chunk);
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (text.length > 0) yield text;
  }
  const rest = decode();
  if (rest.length > 0) yield rest;
}

/**
 * The parser itself, fed decoded text piece by piece: `push` yields the records each piece
 * completes as it reaches them (so a consumer that stops at a bad record never meets a syntax error
 * further on), `end` the last one (or throws on a quote left open). `line` is the physical line it
 * has reached, for errors found outside it (bad UTF-8).
 */
export function csvParser(limits: CsvLimits): { push(text: string): Generator<CsvRecord>; end(): CsvRecord[]; readonly line: number } {
  let line = 1;
  let recordLine = 1;
  let state: State = State.FieldStart;
  let fields: string[] = [];
  let field = '';
  /** Pieces of a field that spans chunks, joined when it ends. */
  let pending = '';
  /** A CR ended the last chunk: a LF opening the next one belongs to it. */
  let afterCr = false;
  /** Whether the current record has any content (a blank line yields nothing). */
  let started = false;
  /** A quoted field's text ended a chunk with CR: a LF opening the next one is the same line break. */
  let quotedCr = false;

  const fieldLength = () => pending.length + field.length;
  const tooLong = () =>
    invalid(
      `line ${recordLine}: field ${fields.length + 1} is longer than ${limits.maxFieldChars} characters` +
        (state === State.Quoted ? ' — is a closing quote missing?' : ''),
    );
  const endField = () => {
    if (fields.length >= limits.maxFields) throw invalid(`line ${recordLine}: more than ${limits.maxFields} fields`);
    fields.push(pending + field);
    pending = '';
    field = '';
  };

  function* push(text: string): Generator<CsvRecord> {
    let i = 0;
    const n = text.length;
    if (afterCr) {
      afterCr = false;
      if (n > 0 && text.charCodeAt(0) === LF) i = 1;
    }
    while (i < n) {
      const code = text.charCodeAt(i);
      switch (state) {
        case State.FieldStart:
        case State.Unquoted: {
          if (state === State.FieldStart && code === QUOTE) {
            state = State.Quoted;
            started = true;
            i += 1;
            break;
          }
          // Take the run of plain characters at once.
          let j = i;
          while (j < n) {
            const c = text.charCodeAt(j);
            if (c === COMMA || c === CR || c === LF) break;
            j += 1;
          }
          if (j > i) {
            field += text.slice(i, j);
            started = true;
            state = State.Unquoted;
            if (fieldLength() > limits.maxFieldChars) throw tooLong();
          }
          if (j >= n) {
            i = j;
            break;
          }
          const c = text.charCodeAt(j);
          if (c === COMMA) {
            started = true;
            endField();
            state = State.FieldStart;
            i = j + 1;
          } else {
            // CR or LF: the record ends (a blank line yields nothing).
            if (started) {
              endField();
              yield { line: recordLine, fields };
            }
            fields = [];
            started = false;
            state = State.FieldStart;
            line += 1;
            if (c === CR) {
              if (j + 1 < n) {
                i = text.charCodeAt(j + 1) === LF ? j + 2 : j + 1;
              } else {
                afterCr = true;
                i = j + 1;
              }
            } else {
              i = j + 1;
            }
            recordLine = line;
          }
          break;
        }
        case State.Quoted: {
          const close = text.indexOf('"', i);
          const end = close === -1 ? n : close;
          const chunk = text.slice(i, end);
          // Count the line breaks inside the quotes so later line numbers stay physical.
          for (let k = 0; k < chunk.length; k += 1) {
            const c = chunk.charCodeAt(k);
            if (c === LF) {
              if (!(k === 0 && quotedCr)) line += 1;
            } else if (c === CR) {
              line += 1;
              k += chunk.charCodeAt(k + 1) === LF ? 1 : 0;
            }
          }
          quotedCr = close === -1 && chunk.length > 0 && chunk.charCodeAt(chunk.length - 1) === CR;
          field += chunk;
          if (fieldLength() > limits.maxFieldChars) throw tooLong();
          if (close === -1) {
            // Keep long quoted fields from growing one string by repeated concatenation.
            pending += field;
            field = '';
            i = n;
          } else {
            state = State.QuoteInQuoted;
            i = close + 1;
          }
          break;
        }
        case State.QuoteInQuoted: {
          if (code === QUOTE) {
            field += '"';
            state = State.Quoted;
            i += 1;
          } else if (code === COMMA || code === CR || code === LF) {
            state = State.Unquoted; // handled as the end of a field (or record) above
          } else {
            throw invalid(`line ${line}: field ${fields.length + 1} has text after its closing quote (a quote inside a quoted field is written "")`);
          }
          break;
        }
      }
    }
  }

  function end(): CsvRecord[] {
    if (state === State.Quoted) throw invalid(`line ${recordLine}: field ${fields.length + 1} opens a quote that is never closed`);
    if (!started) return [];
    endField();
    started = false;
    return [{ line: recordLine, fields }];
  }

  return {
    push,
    end,
    get line() {
      return line;
    },
  };
}

/** Parses CSV from byte (or string) chunks; yields one record per row, the header included. */
export async function* parseCsv(chunks: AsyncIterable<Uint8Array | string>, limits: CsvLimits): AsyncGenerator<CsvRecord> {
  const parser = csvParser(limits);
  for await (const text of utf8(chunks, () => parser.line)) yield* parser.push(text);
  yield* parser.end();
}

/** Parses CSV held in a string (a leading BOM is dropped); one record per row, the header included. */
export function parseCsvText(text: string, limits: CsvLimits): CsvRecord[] {
  const parser = csvParser(limits);
  return [...parser.push(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text), ...parser.end()];
}

/**
 * The rows after the header as objects keyed by the header's names (a short row's missing fields
 * are ''; fields beyond the header are dropped).
 */
export function csvObjects(records: readonly CsvRecord[]): Record<string, string>[] {
  const [header, ...rows] = records;
  if (!header) return [];
  return rows.map((row) => Object.fromEntries(header.fields.map((name, i) => [name, row.fields[i] ?? ''])));
}
