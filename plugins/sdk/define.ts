import type * as z from 'zod';
import { PLUGIN_API_VERSION, type JsonSchemaInput, type PluginDescriptor } from './types.ts';

type DescriptorInput<Id extends string, C extends z.ZodType, E> = Omit<PluginDescriptor<Id, C, E>, 'kind' | 'apiVersion'> & {
  /** Defaults to the API version this SDK was built for. */
  readonly apiVersion?: number;
};

/**
 * Describes a plugin. Returns an inert, frozen descriptor: nothing runs until a host has checked
 * its versions, dependencies, permissions and configuration and then calls `register`.
 */
export function definePlugin<Id extends string, C extends z.ZodType = z.ZodObject<Record<string, never>>, E = void>(
  descriptor: DescriptorInput<Id, C, E>,
): PluginDescriptor<Id, C, E> {
  return Object.freeze({ ...descriptor, kind: 'anvil.plugin' as const, apiVersion: descriptor.apiVersion ?? PLUGIN_API_VERSION });
}

/** Tool input described by a JSON Schema object rather than zod (e.g. for schemas that come from elsewhere). */
export function jsonSchemaInput(schema: Record<string, unknown>): JsonSchemaInput {
  return Object.freeze({ kind: 'json-schema' as const, schema });
}
