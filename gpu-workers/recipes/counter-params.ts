/**
 * diagnostics.counter's params as the recipe process checks them, without zod (so the smoke-test
 * recipe starts as fast as Node). The server checked the same at submit with
 * `diagnosticsCounterParams` (index.ts); test/workers/recipe-wire.test.ts keeps the two in step.
 */
export interface CounterParams {
  steps: number;
  stepMs: number;
}

const LIMITS = { steps: [1, 100_000], stepMs: [0, 60_000] } as const;

export function checkCounterParams(params: Record<string, unknown>): { ok: true; params: CounterParams } | { ok: false; issues: string[] } {
  const issues: string[] = [];
  for (const [field, [min, max]] of Object.entries(LIMITS)) {
    const value = params[field];
    if (typeof value !== 'number' || !Number.isInteger(value)) issues.push(`${field}: expected a whole number`);
    else if (value < min || value > max) issues.push(`${field}: expected a number from ${min} to ${max}`);
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, params: { steps: params.steps as number, stepMs: params.stepMs as number } };
}
