/**
 * Resolves a step's `{ $ref: 's1.modelId' }` arguments and conditions against the structured
 * results of earlier steps. A reference to a step that has not produced the field is an error
 * naming it, never a silent undefined.
 */
import { AnvilError, ErrorCodes } from 'anvil/plugin';
import type { ArgValue, StepCondition, StepRef } from '../plan.ts';

export type StepResults = ReadonlyMap<string, unknown>;

export function isRef(value: unknown): value is StepRef {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { $ref?: unknown }).$ref === 'string' && Object.keys(value).length === 1;
}

function lookup(ref: string, results: StepResults): unknown {
  const [stepId, ...path] = ref.split('.');
  if (!stepId || !results.has(stepId)) throw new AnvilError(ErrorCodes.INVALID_INPUT, `$ref "${ref}": step ${stepId ?? '?'} has no result (it has not run, or was skipped)`);
  let value: unknown = results.get(stepId);
  for (const key of path) {
    if (value === null || typeof value !== 'object') throw new AnvilError(ErrorCodes.INVALID_INPUT, `$ref "${ref}": the result of ${stepId} has no field "${path.join('.')}"`);
    value = Array.isArray(value) && /^\d+$/.test(key) ? value[Number(key)] : (value as Record<string, unknown>)[key];
  }
  if (value === undefined) throw new AnvilError(ErrorCodes.INVALID_INPUT, `$ref "${ref}": the result of ${stepId} has no field "${path.join('.')}"`);
  return value;
}

export function resolveValue(value: ArgValue, results: StepResults): unknown {
  if (isRef(value)) return lookup(value.$ref, results);
  if (Array.isArray(value)) return value.map((item: ArgValue) => resolveValue(item, results));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, ArgValue>).map(([key, item]) => [key, resolveValue(item, results)]));
  }
  return value;
}

export function resolveArgs(args: { readonly [key: string]: ArgValue }, results: StepResults): Record<string, unknown> {
  return resolveValue(args, results) as Record<string, unknown>;
}

/** The step ids a value refers to (`s1` of `s1.modelId`). */
export function referencedSteps(value: ArgValue | undefined): string[] {
  if (value === undefined || value === null || typeof value !== 'object') return [];
  if (isRef(value)) return [value.$ref.split('.')[0] ?? ''];
  const items: readonly ArgValue[] = Array.isArray(value) ? (value as readonly ArgValue[]) : Object.values(value as Record<string, ArgValue>);
  return items.flatMap((item) => referencedSteps(item));
}

export function conditionHolds(condition: StepCondition, results: StepResults): boolean {
  const left = resolveValue(condition.left, results);
  const right = resolveValue(condition.right, results);
  switch (condition.op) {
    case 'eq':
      return JSON.stringify(left) === JSON.stringify(right);
    case 'ne':
      return JSON.stringify(left) !== JSON.stringify(right);
    default: {
      if (typeof left !== 'number' || typeof right !== 'number') {
        throw new AnvilError(ErrorCodes.INVALID_INPUT, `when (${condition.describe}): "${condition.op}" compares numbers; got ${typeof left} and ${typeof right}`);
      }
      if (condition.op === 'gt') return left > right;
      if (condition.op === 'gte') return left >= right;
      if (condition.op === 'lt') return left < right;
      return left <= right;
    }
  }
}
