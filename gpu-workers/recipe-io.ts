/**
 * The recipe side of the protocol for recipes written in TypeScript: read the spec, write messages.
 * (A Python recipe does the same with `json.load(sys.stdin)` and `print(json.dumps(...), flush=True)`;
 * see PROTOCOL.md.)
 */
import { renameSync, writeFileSync } from 'node:fs';
import { AnvilError, ErrorCodes } from '../server/errors.ts';
import { formatRecipeMessage, recipeSpecSchema, type RecipeMessage, type RecipeSpec } from './protocol.ts';

/** Reads stdin to its end and validates it as the runner's spec. */
export async function readSpec(input: NodeJS.ReadableStream = process.stdin): Promise<RecipeSpec> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    throw new AnvilError(ErrorCodes.INVALID_INPUT, 'the spec on stdin is not JSON');
  }
  const parsed = recipeSpecSchema.safeParse(json);
  if (!parsed.success) throw new AnvilError(ErrorCodes.INVALID_INPUT, `invalid spec on stdin: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}`);
  return parsed.data;
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
