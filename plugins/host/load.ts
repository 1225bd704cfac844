import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PluginEntry } from '../../server/config/schema.ts';
import { AnvilError, ErrorCodes, errorMessage } from '../../server/errors.ts';
import type { PluginDescriptor, PluginPermission } from '../sdk/types.ts';

/** A built-in plugin, imported only when it is configured. */
export type BuiltinLoader = () => Promise<PluginDescriptor>;

export interface LoadedEntry {
  /** How the operator named it: a package, a path, or `builtin:<id>`. */
  source: string;
  builtin: boolean;
  rawConfig: unknown;
  permissions: readonly PluginPermission[] | undefined;
  strict: boolean;
  /** The exported value, checked later. */
  exported?: unknown;
  error?: AnvilError;
}

function isPathLike(spec: string): boolean {
  return spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('file:');
}

function findDescriptor(module: Record<string, unknown>): unknown {
  const isDescriptor = (value: unknown) => typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'anvil.plugin';
  if (isDescriptor(module.default)) return module.default;
  return Object.values(module).find(isDescriptor) ?? module.default;
}

async function importModule(spec: string, baseDir: string): Promise<Record<string, unknown>> {
  if (isPathLike(spec)) {
    const target = spec.startsWith('file:') ? spec : pathToFileURL(path.resolve(baseDir, spec)).href;
    return (await import(target)) as Record<string, unknown>;
  }
  // A package: resolved from the config file's directory first, so a project's own node_modules wins.
  let target = spec;
  try {
    target = pathToFileURL(createRequire(path.join(baseDir, 'noop.js')).resolve(spec)).href;
  } catch {
    // ESM-only packages may not resolve through require; fall back to Anvil's own resolution.
  }
  return (await import(target)) as Record<string, unknown>;
}

/** Imports what each configured entry names. Failures are recorded per entry, not thrown. */
export async function loadEntries(entries: readonly PluginEntry[], baseDir: string, builtins: Readonly<Record<string, BuiltinLoader>>): Promise<LoadedEntry[]> {
  return Promise.all(
    entries.map(async (entry): Promise<LoadedEntry> => {
      const base = {
        rawConfig: typeof entry === 'string' ? undefined : entry.config,
        permissions: typeof entry === 'object' && 'module' in entry ? entry.permissions : undefined,
        strict: typeof entry === 'object' ? (entry.strict ?? false) : false,
      };
      if (typeof entry === 'object' && 'id' in entry) {
        const loader = builtins[entry.id];
        const source = `builtin:${entry.id}`;
        if (!loader) {
          const known = Object.keys(builtins).join(', ');
          return { ...base, source, builtin: true, error: new AnvilError(ErrorCodes.PLUGIN_NOT_FOUND, `There is no built-in plugin "${entry.id}"; built-ins are: ${known}`) };
        }
        try {
          return { ...base, source, builtin: true, exported: await loader() };
        } catch (error) {
          return { ...base, source, builtin: true, error: new AnvilError(ErrorCodes.PLUGIN_LOAD_FAILED, `Cannot load built-in plugin ${entry.id}: ${errorMessage(error)}`, { cause: error }) };
        }
      }
      const spec = typeof entry === 'string' ? entry : entry.module;
      try {
        return { ...base, source: spec, builtin: false, exported: findDescriptor(await importModule(spec, baseDir)) };
      } catch (error) {
        return { ...base, source: spec, builtin: false, error: new AnvilError(ErrorCodes.PLUGIN_LOAD_FAILED, `Cannot load plugin ${spec}: ${errorMessage(error)}`, { cause: error }) };
      }
    }),
  );
}
