/**
 * The recipe side of the protocol for recipes written in TypeScript: read the spec, write messages.
 * (A Python recipe does the same with `json.load(sys.stdin)` and `print(json.dumps(...), flush=True)`;
 * see PROTOCOL.md.)
 */
import { renameSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { AnvilError, ErrorCodes } from '../contracts/errors.ts';
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

/** Reads stdin to its end and validates it as the runner's spec. */
export async function readSpec(input: NodeJS.ReadableStream = process.stdin): Promise<RecipeSpec> {
  exitWhenParentDies();
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    throw new AnvilError(ErrorCodes.INVALID_INPUT, 'the spec on stdin is not JSON');
  }
  const checked = checkRecipeSpec(json);
  if (!checked.ok) throw new AnvilError(ErrorCodes.INVALID_INPUT, `invalid spec on stdin: ${checked.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`);
  return checked.spec;
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
