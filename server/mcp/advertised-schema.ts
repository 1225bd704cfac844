import type { StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import type { ObjectSchema } from './tool.ts';

const wrappers = new WeakMap<ObjectSchema, StandardSchemaWithJSON<Record<string, unknown>>>();

/**
 * Wraps a zod schema so the SDK advertises its JSON Schema in `tools/list` but lets every
 * argument object through to Anvil's own validation. Anvil validates itself so that an invalid
 * call is audited, counted and answered with a stable code like any other failed call. The JSON
 * Schema is converted once per tool, not once per request: the wrapper is memoised per schema for
 * the life of the process, because the HTTP factory registers every tool again on every request
 * (and the SDK converts a tool's output schema on every `tools/call`).
 */
export function advertisedSchema(schema: ObjectSchema): StandardSchemaWithJSON<Record<string, unknown>> {
  let wrapper = wrappers.get(schema);
  if (!wrapper) {
    wrapper = wrap(schema);
    wrappers.set(schema, wrapper);
  }
  return wrapper;
}

function wrap(schema: ObjectSchema): StandardSchemaWithJSON<Record<string, unknown>> {
  const converted = new Map<string, Record<string, unknown>>();
  const convert = (direction: 'input' | 'output', target: string) => {
    const key = `${direction}:${target}`;
    let json = converted.get(key);
    if (!json) {
      json = schema['~standard'].jsonSchema[direction]({ target });
      converted.set(key, json);
    }
    return json;
  };
  return {
    '~standard': {
      version: 1,
      vendor: 'anvil',
      validate: (value: unknown) => ({ value: (value ?? {}) as Record<string, unknown> }),
      jsonSchema: {
        input: (options) => convert('input', options.target),
        output: (options) => convert('output', options.target),
      },
    },
  };
}
