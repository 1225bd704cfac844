/**
 * The part of the recipe protocol a recipe process itself needs: checking the spec the runner
 * wrote to its stdin, and formatting the lines it writes back. Nothing here imports zod, so a
 * recipe starts as fast as Node does; the runner side (protocol.ts) keeps the zod schemas, and
 * test/workers/recipe-wire.test.ts holds the two to the same verdicts.
 */

/** What the runner writes to a recipe's stdin (protocol.ts `recipeSpecSchema` checks the same, at compile time too). */
export interface RecipeSpec {
  jobId: string;
  /** The recipe's registered name, e.g. `diagnostics.counter`. */
  recipe: string;
  params: Record<string, unknown>;
  /** 1 on the first run; each retry or requeue after preemption adds one. */
  attempt: number;
  /** An absolute directory the recipe owns for this attempt; checkpoints and artifacts live in it. */
  workDir: string;
  resume: { checkpoint: { step: number; path: string; state?: Record<string, unknown> | undefined } } | null;
}

/** Checkpoint state travels inline; bulk data belongs in the checkpoint file. */
export const MAX_CHECKPOINT_STATE_BYTES = 64 * 1024;

type Issue = { path: string; message: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function wholeNumber(issues: Issue[], path: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value)) issues.push({ path, message: 'expected a whole number' });
  else if (value < min) issues.push({ path, message: `expected a number ≥ ${min}` });
}

function nonEmptyString(issues: Issue[], path: string, value: unknown): void {
  if (typeof value !== 'string') issues.push({ path, message: 'expected a string' });
  else if (value.length === 0) issues.push({ path, message: 'expected a non-empty string' });
}

/**
 * The runner's spec (`recipeSpecSchema` in protocol.ts), checked field by field: the issues it
 * finds name each field, as zod's would. Unknown fields are dropped, as zod's object does.
 */
export function checkRecipeSpec(json: unknown): { ok: true; spec: RecipeSpec } | { ok: false; issues: Issue[] } {
  const issues: Issue[] = [];
  if (!isObject(json)) return { ok: false, issues: [{ path: '(root)', message: 'expected an object' }] };
  nonEmptyString(issues, 'jobId', json.jobId);
  nonEmptyString(issues, 'recipe', json.recipe);
  if (!isObject(json.params)) issues.push({ path: 'params', message: 'expected an object' });
  wholeNumber(issues, 'attempt', json.attempt, 1);
  nonEmptyString(issues, 'workDir', json.workDir);
  let resume: RecipeSpec['resume'] = null;
  if (json.resume === undefined) issues.push({ path: 'resume', message: 'expected an object or null' });
  else if (json.resume !== null) {
    const checkpoint = isObject(json.resume) ? json.resume.checkpoint : undefined;
    if (!isObject(json.resume)) issues.push({ path: 'resume', message: 'expected an object or null' });
    else if (!isObject(checkpoint)) issues.push({ path: 'resume.checkpoint', message: 'expected an object' });
    else {
      wholeNumber(issues, 'resume.checkpoint.step', checkpoint.step, 0);
      nonEmptyString(issues, 'resume.checkpoint.path', checkpoint.path);
      const state = checkpoint.state;
      if (state !== undefined) {
        if (!isObject(state)) issues.push({ path: 'resume.checkpoint.state', message: 'expected an object' });
        else if (Buffer.byteLength(JSON.stringify(state), 'utf8') > MAX_CHECKPOINT_STATE_BYTES) {
          issues.push({ path: 'resume.checkpoint.state', message: `checkpoint state must serialise to at most ${MAX_CHECKPOINT_STATE_BYTES} bytes; put bulk data in the checkpoint file` });
        }
      }
      resume = {
        checkpoint: { step: checkpoint.step as number, path: checkpoint.path as string, ...(state !== undefined ? { state: state as Record<string, unknown> } : {}) },
      };
    }
  }
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    spec: {
      jobId: json.jobId as string,
      recipe: json.recipe as string,
      params: json.params as Record<string, unknown>,
      attempt: json.attempt as number,
      workDir: json.workDir as string,
      resume,
    },
  };
}

export function encodeMetricValue(value: number): number | 'NaN' | 'Infinity' | '-Infinity' {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  return value;
}

/** One protocol line (with its newline) for a message; metric values are encoded so NaN survives. */
export function formatRecipeMessage(message: { readonly type: string; readonly [field: string]: unknown }): string {
  const wire = message.type === 'metric' && typeof message.value === 'number' ? { ...message, value: encodeMetricValue(message.value) } : message;
  return `${JSON.stringify(wire)}\n`;
}
