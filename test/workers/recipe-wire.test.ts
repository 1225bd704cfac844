/**
 * A recipe process checks its spec (and diagnostics.counter its params) without zod, so it starts as
 * fast as Node does; the runner and the server check the same with the zod schemas. These tests
 * hold the two to the same verdict, field by field, over valid specs and thousands of mutations.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mulberry32 } from '../../contracts/mulberry32.ts';
import { recipeSpecSchema } from '../../gpu-workers/protocol.ts';
import { checkRecipeSpec, MAX_CHECKPOINT_STATE_BYTES } from '../../gpu-workers/recipe-wire.ts';
import { checkCounterParams } from '../../gpu-workers/recipes/counter-params.ts';
import { diagnosticsCounterParams } from '../../gpu-workers/recipes/index.ts';

const valid = [
  { jobId: 'j1', recipe: 'diagnostics.counter', params: { steps: 3 }, attempt: 1, workDir: '/w', resume: null },
  { jobId: 'j2', recipe: 'r', params: {}, attempt: 4, workDir: '/w', resume: { checkpoint: { step: 0, path: '/w/c' } } },
  { jobId: 'j3', recipe: 'r', params: { a: [1] }, attempt: 2, workDir: '/w', resume: { checkpoint: { step: 7, path: '/w/c', state: { count: 7 } } }, extra: true },
];

/** Values that break a field in the ways a buggy launcher or a hand run would. */
const oddValues: unknown[] = [undefined, null, '', 'x', 0, -1, 1.5, 2, Number.NaN, true, [], {}, { count: 1 }, [1, 2], 'x'.repeat(3)];

const paths = ['jobId', 'recipe', 'params', 'attempt', 'workDir', 'resume', 'resume.checkpoint', 'resume.checkpoint.step', 'resume.checkpoint.path', 'resume.checkpoint.state'];

function mutate(spec: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(spec);
  const parts = path.split('.');
  let target: Record<string, unknown> = copy;
  for (const part of parts.slice(0, -1)) {
    const next = target[part];
    if (typeof next !== 'object' || next === null) return copy;
    target = next as Record<string, unknown>;
  }
  const last = parts.at(-1) as string;
  if (value === undefined) delete target[last];
  else target[last] = value;
  return copy;
}

function zodFields(json: unknown): string[] {
  const parsed = recipeSpecSchema.safeParse(json);
  return parsed.success ? [] : [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(root)'))].sort();
}

function wireFields(json: unknown): string[] {
  const checked = checkRecipeSpec(json);
  return checked.ok ? [] : [...new Set(checked.issues.map((issue) => issue.path))].sort();
}

describe('the recipe side agrees with the runner side', () => {
  test('valid specs pass both and come out the same', () => {
    for (const spec of valid) {
      const checked = checkRecipeSpec(spec);
      assert.ok(checked.ok, JSON.stringify(spec));
      assert.deepEqual(checked.spec, recipeSpecSchema.parse(spec));
    }
  });

  test('every mutation of every field gets the same verdict, naming the same fields', () => {
    const random = mulberry32(9);
    let refused = 0;
    for (let round = 0; round < 3_000; round += 1) {
      let spec: unknown = structuredClone(valid[Math.floor(random() * valid.length)]);
      const mutations = 1 + Math.floor(random() * 2);
      for (let m = 0; m < mutations; m += 1) {
        const path = paths[Math.floor(random() * paths.length)] as string;
        spec = mutate(spec as Record<string, unknown>, path, oddValues[Math.floor(random() * oddValues.length)]);
      }
      const expected = zodFields(spec);
      assert.deepEqual(wireFields(spec), expected, JSON.stringify(spec));
      if (expected.length > 0) refused += 1;
    }
    assert.ok(refused > 1_000, `most mutations are refused (${refused})`);
    for (const root of [null, [], 'spec', 3]) assert.deepEqual(wireFields(root), zodFields(root));
  });

  test('an oversized checkpoint state is refused by both', () => {
    const big = { ...valid[1], resume: { checkpoint: { step: 1, path: '/c', state: { blob: 'x'.repeat(MAX_CHECKPOINT_STATE_BYTES) } } } };
    assert.deepEqual(wireFields(big), ['resume.checkpoint.state']);
    assert.deepEqual(zodFields(big), ['resume.checkpoint.state']);
  });

  test("diagnostics.counter's params: the recipe's check and the submit-time schema agree", () => {
    const values: unknown[] = [undefined, null, 'x', -1, 0, 1, 2.5, 59_999, 60_000, 60_001, 99_999, 100_000, 100_001, true];
    for (const steps of values) {
      for (const stepMs of values) {
        const params = { ...(steps === undefined ? {} : { steps }), ...(stepMs === undefined ? {} : { stepMs }) };
        const zod = diagnosticsCounterParams.safeParse(params);
        const wire = checkCounterParams(params);
        assert.equal(wire.ok, zod.success, JSON.stringify(params));
        if (!zod.success && !wire.ok) {
          const fields = (issues: string[]) => issues.map((issue) => issue.split(':')[0]).sort();
          assert.deepEqual(fields(wire.issues), [...new Set(zod.error.issues.map((issue) => String(issue.path[0])))].sort());
        }
      }
    }
  });
});
