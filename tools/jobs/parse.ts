import { AnvilError, ErrorCodes } from 'anvil/plugin';
import type * as z from 'zod';

/** Parses `value` with `schema`; INVALID_INPUT naming the first bad field under `what` otherwise. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 5).map((issue) => `${[what, ...issue.path.map(String)].join('.')}: ${issue.message}`);
  throw new AnvilError(ErrorCodes.INVALID_INPUT, issues.join('; '), { details: { issues: parsed.error.issues.slice(0, 20) } });
}
