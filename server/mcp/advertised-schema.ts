import type { StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import type { JsonSchema } from './catalog.ts';

const wrappers = new WeakMap<JsonSchema, StandardSchemaWithJSON<Record<string, unknown>>>();

/**
 * Presents an already-converted JSON Schema to the SDK as a schema that lets every value through.
 * Anvil validates arguments itself so that an invalid call is audited, counted and answered with a
 * stable code like any other failed call. Memoised per schema object: the HTTP factory registers
 * every tool again on every request.
 */
export function advertisedSchema(json: JsonSchema): StandardSchemaWithJSON<Record<string, unknown>> {
  let wrapper = wrappers.get(json);
  if (!wrapper) {
    wrapper = {
      '~standard': {
        version: 1,
        vendor: 'anvil',
        validate: (value: unknown) => ({ value: (value ?? {}) as Record<string, unknown> }),
        jsonSchema: { input: () => json, output: () => json },
      },
    };
    wrappers.set(json, wrapper);
  }
  return wrapper;
}
