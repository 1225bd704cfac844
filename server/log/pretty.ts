/**
 * Human-readable log lines for a person at a terminal: pino's JSON records become
 * `12:03:04.567 INFO  jobs: worker registered worker=local-vm slots=2`. Used only when the
 * destination is stderr and stderr is a TTY (or `log.format` is `pretty`); piped or written to a
 * file, logs stay JSON lines for machines.
 */
import type { DestinationStream } from 'pino';

const LEVELS: Record<number, { label: string; color: string }> = {
  10: { label: 'TRACE', color: '\x1b[90m' },
  20: { label: 'DEBUG', color: '\x1b[36m' },
  30: { label: 'INFO ', color: '\x1b[32m' },
  40: { label: 'WARN ', color: '\x1b[33m' },
  50: { label: 'ERROR', color: '\x1b[31m' },
  60: { label: 'FATAL', color: '\x1b[35m' },
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
/** Fields every record has, shown in the prefix or not at all. */
const OMITTED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'err', 'v']);
/** Fields that say where a line comes from, shown before the message. */
const ORIGIN = ['plugin', 'scope', 'component'];

function clock(time: unknown): string {
  const date = typeof time === 'number' ? new Date(time) : new Date();
  return date.toTimeString().slice(0, 8) + '.' + String(date.getMilliseconds()).padStart(3, '0');
}

function show(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  return JSON.stringify(value) ?? String(value);
}

/** One JSON record as one (or, with a stack, several) readable lines. */
export function formatRecord(line: string, color: boolean): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const level = LEVELS[Number(record.level)] ?? { label: String(record.level).toUpperCase().padEnd(5), color: '' };
  const paint = (text: string, code: string) => (color && code ? `${code}${text}${RESET}` : text);
  const origin = ORIGIN.map((key) => record[key]).filter((value) => typeof value === 'string' && value !== '');
  const fields = Object.entries(record)
    .filter(([key]) => !OMITTED.has(key) && !ORIGIN.includes(key))
    .map(([key, value]) => `${key}=${show(value)}`);
  let text = `${paint(clock(record.time), DIM)} ${paint(level.label, level.color)} ${origin.length ? `${origin.join('/')}: ` : ''}${String(record.msg ?? '')}`;
  if (fields.length) text += ` ${paint(fields.join(' '), DIM)}`;
  const err = record.err as { message?: unknown; stack?: unknown } | undefined;
  if (err && typeof err === 'object') {
    const stack = typeof err.stack === 'string' ? err.stack : String(err.message ?? '');
    text += `\n${stack.replace(/^/gm, '    ')}`;
  }
  return `${text}\n`;
}

type Flushable = DestinationStream & { flush?(callback?: (error?: Error) => void): void; flushSync?(): void };

/** A pino destination that writes readable lines to `target` (stderr's sonic-boom); flushes through. */
export function prettyDestination(target: Flushable, color: boolean): Flushable {
  return {
    write(line: string) {
      target.write(formatRecord(line, color));
    },
    flush(callback) {
      if (target.flush) target.flush(callback);
      else callback?.();
    },
    flushSync() {
      target.flushSync?.();
    },
  };
}
