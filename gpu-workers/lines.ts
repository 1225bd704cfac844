/** Byte-level line splitting for a child's stdout/stderr, with a cap on the length of one line. */

export interface SplitLine {
  /** The line without its `\n` (and without a trailing `\r`), decoded as UTF-8; at most `maxBytes` bytes of it. */
  readonly text: string;
  /** The line's full length in bytes, including what was dropped. */
  readonly bytes: number;
  /** True when the line was longer than `maxBytes` and its tail was dropped. */
  readonly truncated: boolean;
}

/**
 * Splits a byte stream into lines. Chunks may end anywhere (in a line, in a UTF-8 sequence); a line
 * longer than `maxBytes` keeps its first `maxBytes` bytes and is flagged, the rest is counted and
 * dropped without being buffered, so a runaway line cannot exhaust memory.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private dropped = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: SplitLine) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline === -1 ? chunk.length : newline;
      this.append(chunk.subarray(start, end));
      if (newline === -1) return;
      this.emit();
      start = newline + 1;
    }
  }

  /** Emits what is left after the stream ended without a final newline. */
  end(): void {
    if (this.size > 0 || this.dropped > 0) this.emit();
  }

  private append(piece: Buffer): void {
    if (piece.length === 0) return;
    const room = this.maxBytes - this.size;
    if (piece.length <= room) {
      // Copy: a subarray would pin the whole (up to 64 KiB) chunk while the line waits for its end.
      this.parts.push(Buffer.from(piece));
      this.size += piece.length;
      return;
    }
    if (room > 0) {
      this.parts.push(Buffer.from(piece.subarray(0, room)));
      this.size += room;
    }
    this.dropped += piece.length - Math.max(room, 0);
  }

  private emit(): void {
    let buffer = Buffer.concat(this.parts, this.size);
    const truncated = this.dropped > 0;
    if (!truncated && buffer.length > 0 && buffer[buffer.length - 1] === 0x0d) buffer = buffer.subarray(0, buffer.length - 1);
    const bytes = this.size + this.dropped;
    this.parts = [];
    this.size = 0;
    this.dropped = 0;
    this.onLine({ text: (truncated ? utf8Prefix(buffer, buffer.length) : buffer).toString('utf8'), bytes, truncated });
  }
}

/** `text` cut to at most `maxBytes` UTF-8 bytes on a character boundary. */
export function capUtf8(text: string, maxBytes: number): { text: string; truncated: boolean } {
  if (text.length <= maxBytes / 3 || Buffer.byteLength(text, 'utf8') <= maxBytes) return { text, truncated: false };
  return { text: utf8Prefix(Buffer.from(text, 'utf8'), maxBytes).toString('utf8'), truncated: true };
}

/** The longest prefix of `buffer` of at most `maxBytes` bytes that does not end inside a UTF-8 sequence. */
function utf8Prefix(buffer: Buffer, maxBytes: number): Buffer {
  let end = Math.min(maxBytes, buffer.length);
  if (end === buffer.length && end > 0 && (buffer[end - 1] ?? 0) < 0x80) return buffer.subarray(0, end);
  // Step back over continuation bytes to the lead byte of the last character, then keep that
  // character only if all its bytes fit.
  let lead = end - 1;
  while (lead >= 0 && ((buffer[lead] ?? 0) & 0xc0) === 0x80) lead--;
  if (lead < 0) return buffer.subarray(0, 0);
  const first = buffer[lead] ?? 0;
  const length = first < 0x80 ? 1 : first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 1;
  if (lead + length > end) end = lead;
  return buffer.subarray(0, end);
}
