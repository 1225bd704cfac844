/**
 * The recipe side of the protocol for recipes written in TypeScript: read the spec, write messages.
 * (A Python recipe does the same with `json.load(sys.stdin)` and `print(json.dumps(...), flush=True)`;
 * see PROTOCOL.md.)
 */
import { readSync, renameSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import type { RecipeMessage, RecipeSpec } from './protocol.ts';
import { checkRecipeSpec, formatRecipeMessage } from './recipe-wire.ts';

/**
 * Exits when the worker that started this recipe is gone: the runner passes a pipe (fd
 * `ANVIL_PARENT_FD`) that reaches end-of-file when the worker dies, even by SIGKILL, which no signal
 * would tell us. Without the variable (run by hand) it does nothing. `readSpec` calls it.
 */
export function exitWhenParentDies(env: NodeJS.ProcessEnv = process.env): void {
  const fd = Number(env.ANVIL_PARENT_FD);
  if (!Number.isInteger(fd) || fd < 3) return;
  try {
    const parent = new Socket({ fd, readable: true, writable: false });
    const gone = () => process.exit(137);
    parent.on('data', () => undefined);
    parent.on('end', gone);
    parent.on('error', gone);
    parent.unref(); // watching must not keep a finished recipe alive
  } catch {
    // Not a pipe we can watch (an unusual launcher): carry on without the watch.
  }
}

/**
 * Reads the spec to its end and validates it as the runner's spec: from `input` when given, else
 * from stdin. Stdin is read synchronously: the runner writes the whole spec and closes the pipe as
 * it starts the recipe, so the read hardly waits, and a recipe's start is spared the stdin stream
 * and the trips through the event loop that reading it would take. A stdin that would block (a non-blocking descriptor from an unusual
 * launcher) is read on as a stream. While it reads, the parent-death watch cannot run; a worker
 * that dies closes the pipe too, which ends the read.
 */
export async function readSpec(input?: NodeJS.ReadableStream): Promise<RecipeSpec> {
  exitWhenParentDies();
  const text = input === undefined ? await readStdin() : await readAll(input, []);
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    throw await invalidSpec('the spec on stdin is not JSON');
  }
  const checked = checkRecipeSpec(json);
  if (!checked.ok) throw await invalidSpec(`invalid spec on stdin: ${checked.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`);
  return checked.spec;
}

/** All of stdin, read synchronously; should a read ever block (EAGAIN), the rest is read as a stream. */
function readStdin(): string | Promise<string> {
  const chunks: Buffer[] = [];
  for (;;) {
    const buffer = Buffer.allocUnsafe(64 * 1024);
    let bytes: number;
    try {
      bytes = readSync(0, buffer, 0, buffer.length, null);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') return readAll(process.stdin, chunks);
      if (code === 'EOF') break; // Windows: the end of a pipe
      throw error;
    }
    if (bytes === 0) break;
    chunks.push(buffer.subarray(0, bytes));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The rest of `input`, after the `chunks` read before. */
async function readAll(input: NodeJS.ReadableStream, chunks: Buffer[]): Promise<string> {
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** The error taxonomy is loaded only when a spec is refused: a recipe that starts well never needs it. */
async function invalidSpec(message: string): Promise<Error> {
  const { AnvilError, ErrorCodes } = await import('../contracts/errors.ts');
  return new AnvilError(ErrorCodes.INVALID_INPUT, message);
}

/** Writes one protocol line to stdout (metric values NaN/±Infinity are encoded as strings). */
export function emit(message: RecipeMessage): void {
  process.stdout.write(formatRecipeMessage(message));
}

/** Exits with `code` once everything written to stdout so far has been handed to the OS. */
export function exitAfterFlush(code: number): Promise<never> {
  return new Promise<never>(() => {
    process.stdout.write('', () => process.exit(code));
  });
}

/** Writes `file` atomically: a temporary file in the same directory, then a rename over the target. */
export function writeFileAtomic(file: string, data: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, data);
  renameSync(temporary, file);
}
