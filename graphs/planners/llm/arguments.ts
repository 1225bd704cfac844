/**
 * What a model's tool-call arguments become in a plan step: JSON values with `{ "$ref": "s1.x" }`
 * references, checked against the tool's input JSON Schema. A reference cannot be checked before
 * the step it reads has run, so issues at or under a reference are left for the runtime.
 */
import * as z from 'zod';
import type { ArgValue, StepRef } from '../../plan.ts';

export type Args = { readonly [key: string]: ArgValue };

export function isStepRef(value: unknown): value is StepRef {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === '$ref' && typeof (value as { $ref: unknown }).$ref === 'string';
}

/** JSON from a model → ArgValue; anything that is not JSON (undefined, functions) is left out. */
export function toArgValue(value: unknown): ArgValue | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (Array.isArray(value)) return value.map(toArgValue).filter((item): item is ArgValue => item !== undefined);
  if (isStepRef(value)) return { $ref: value.$ref };
  if (typeof value === 'object') return toArgs(value as Record<string, unknown>);
  return undefined;
}

export function toArgs(value: Record<string, unknown>): Args {
  const out: Record<string, ArgValue> = {};
  for (const [key, item] of Object.entries(value)) {
    const converted = toArgValue(item);
    if (converted !== undefined) out[key] = converted;
  }
  return out;
}

/** Every reference in `value` with the dotted path of the field holding it. */
export function refsIn(value: ArgValue, path: readonly string[] = []): Array<{ path: string[]; ref: string }> {
  if (value === null || typeof value !== 'object') return [];
  if (isStepRef(value)) return [{ path: [...path], ref: value.$ref }];
  if (Array.isArray(value)) return (value as readonly ArgValue[]).flatMap((item, index) => refsIn(item, [...path, String(index)]));
  return Object.entries(value as { readonly [key: string]: ArgValue }).flatMap(([key, item]) => refsIn(item, [...path, key]));
}

export interface ArgIssue {
  /** Dotted path of the field (`percent`, `target.version`), or `(arguments)` for the whole object. */
  readonly field: string;
  readonly message: string;
}

const compiled = new WeakMap<object, z.ZodType | Error>();

/** The tool's input schema as a validator, built once per schema object. */
function validatorFor(schema: Readonly<Record<string, unknown>>): z.ZodType | Error {
  let validator = compiled.get(schema);
  if (!validator) {
    try {
      validator = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
    } catch (error) {
      validator = error instanceof Error ? error : new Error(String(error));
    }
    compiled.set(schema, validator);
  }
  return validator;
}

function under(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((part, index) => path[index] === part);
}

/**
 * Checks `args` against the tool's input JSON Schema, one issue per offending field. A field
 * holding a reference (or inside one) is not judged; a schema the validator cannot read yields no
 * issues (the tool's own validation still runs when the step executes).
 */
export function checkArgs(schema: Readonly<Record<string, unknown>>, args: Args): ArgIssue[] {
  const validator = validatorFor(schema);
  if (validator instanceof Error) return [];
  const parsed = validator.safeParse(args);
  if (parsed.success) return [];
  const refPaths = refsIn(args).map((entry) => entry.path);
  const issues: ArgIssue[] = [];
  for (const issue of parsed.error.issues) {
    const path = issue.path.map((part) => String(part));
    if (refPaths.some((refPath) => under(path, refPath))) continue;
    // A reference where an object was expected shows up as an unknown key `$ref` under the field.
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const field = [...path, key];
        if (refPaths.some((refPath) => under(field, refPath))) continue;
        issues.push({ field: field.join('.'), message: 'unknown field, not accepted by this tool' });
      }
      continue;
    }
    issues.push({ field: path.length > 0 ? path.join('.') : '(arguments)', message: issue.message });
  }
  return issues;
}
