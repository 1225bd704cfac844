/** Pieces every TypeScript training recipe needs around the protocol: refusals, stop requests, artifacts. */
import { createHash } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type * as z from 'zod';
import { errorMessage } from '../../../contracts/errors.ts';
import type { RecipeSpec } from '../../protocol.ts';
import { emit, exitAfterFlush, readSpec } from '../../recipe-io.ts';

/** Reports an unrecoverable error (bad params, bad data) and exits 2. */
export async function refuse(message: string): Promise<void> {
  emit({ type: 'error', message, recoverable: false });
  await exitAfterFlush(2);
}

/**
 * Reads the spec from stdin and parses its params; on a bad spec or bad params it reports an
 * unrecoverable error (exit 2) and returns null, so a recipe's main starts with
 * `const input = await readParams(schema, 'name'); if (!input) return;`.
 */
export async function readParams<S extends z.ZodType>(schema: S, recipe: string): Promise<{ spec: RecipeSpec; params: z.output<S> } | null> {
  let spec: RecipeSpec;
  try {
    spec = await readSpec();
  } catch (error) {
    await refuse(errorMessage(error));
    return null;
  }
  const parsed = schema.safeParse(spec.params);
  if (!parsed.success) {
    await refuse(`invalid params for ${recipe}: ${describeIssues(parsed.error)}`);
    return null;
  }
  return { spec, params: parsed.data };
}

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

/** Set by SIGTERM; the training loop polls it between steps, checkpoints and returns. */
export class StopFlag {
  requested = false;

  install(): this {
    process.on('SIGTERM', () => {
      this.requested = true;
    });
    return this;
  }
}

/** Writes `bytes` to `<workDir>/<fileName>` atomically and reports it as an artifact. */
export function publishArtifact(workDir: string, name: string, fileName: string, bytes: Uint8Array | string, mediaType: string): { path: string; sha256: string; size: number } {
  const file = path.join(workDir, fileName);
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, data);
  renameSync(temporary, file);
  const sha256 = createHash('sha256').update(data).digest('hex');
  emit({ type: 'artifact', name, path: file, sha256, size: data.length, mediaType });
  return { path: file, sha256, size: data.length };
}

export function log(message: string, level: 'info' | 'warn' | 'debug' = 'info'): void {
  emit({ type: 'log', level, message });
}
