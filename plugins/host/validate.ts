import semver from 'semver';
import * as z from 'zod';
import { AnvilError, ErrorCodes } from '../../server/errors.ts';
import { PLUGIN_API_VERSION, type PluginDescriptor } from '../sdk/types.ts';
import { PLUGIN_PERMISSIONS } from '../sdk/types.ts';

export const pluginIdPattern = /^[a-z][a-z0-9_-]{0,39}$/;

const descriptorShape = z.object({
  kind: z.literal('anvil.plugin'),
  id: z.string().regex(pluginIdPattern, 'expected lowercase letters, digits, - or _ (1-40 chars, starting with a letter)'),
  version: z.string().refine((value) => semver.valid(value) !== null, 'expected a semver version such as 1.2.3'),
  apiVersion: z.number().int(),
  description: z.string().optional(),
  requires: z
    .object({
      anvil: z.string().refine((value) => semver.validRange(value) !== null, 'expected a semver range such as ^0.1.0').optional(),
      plugins: z.record(z.string(), z.string().refine((value) => semver.validRange(value) !== null, 'expected a semver range')).optional(),
    })
    .optional(),
  permissions: z.array(z.enum(PLUGIN_PERMISSIONS)).optional(),
  register: z.custom<PluginDescriptor['register']>((value) => typeof value === 'function', 'expected a register(ctx) function'),
});

/** Checks what a module exported is a well-formed descriptor this host can run. */
export function checkDescriptor(candidate: unknown, source: string, anvilVersion: string): PluginDescriptor {
  const descriptor = checkDescriptorShape(candidate, source);
  checkCompatibility(descriptor, anvilVersion);
  return descriptor;
}

/** Checks what a module exported is a well-formed descriptor (so its id and version can be reported). */
export function checkDescriptorShape(candidate: unknown, source: string): PluginDescriptor {
  const parsed = descriptorShape.safeParse(candidate);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(descriptor)'}: ${issue.message}`).join('; ');
    throw new AnvilError(ErrorCodes.PLUGIN_INVALID, `${source} does not export a valid plugin descriptor (use definePlugin from anvil/plugin): ${issues}`);
  }
  return candidate as PluginDescriptor;
}

/** Checks a well-formed descriptor targets this host's plugin API and Anvil version. */
export function checkCompatibility(descriptor: PluginDescriptor, anvilVersion: string): void {
  if (descriptor.apiVersion !== PLUGIN_API_VERSION) {
    throw new AnvilError(
      ErrorCodes.PLUGIN_API_VERSION,
      `Plugin ${descriptor.id}@${descriptor.version} targets plugin API ${descriptor.apiVersion}, but this Anvil implements API ${PLUGIN_API_VERSION}`,
    );
  }
  const range = descriptor.requires?.anvil;
  if (range && !semver.satisfies(anvilVersion, range, { includePrerelease: true })) {
    throw new AnvilError(ErrorCodes.PLUGIN_ANVIL_VERSION, `Plugin ${descriptor.id}@${descriptor.version} requires Anvil ${range}, but this is Anvil ${anvilVersion}`);
  }
}

/** Parses a plugin's configuration with its own schema, naming the plugin and each bad key. */
export function checkPluginConfig(descriptor: PluginDescriptor, raw: unknown): unknown {
  if (!descriptor.config) return raw ?? {};
  const parsed = descriptor.config.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(config)'}: ${issue.message}`).join('; ');
  throw new AnvilError(ErrorCodes.PLUGIN_CONFIG, `Invalid config for plugin ${descriptor.id}: ${issues}`);
}

export interface OrderedPlugins {
  /** Dependencies before dependents; among independent plugins, the configured order. */
  order: PluginDescriptor[];
  /** Plugins that cannot run, with why, keyed by id. */
  refused: Map<string, AnvilError>;
}

/**
 * Orders plugins so that each registers after everything it requires. A missing dependency, a
 * dependency at a version outside the required range, and a cycle are each a coded error that
 * names the plugins involved; a plugin depending on a refused one is refused in turn.
 */
export function orderPlugins(descriptors: readonly PluginDescriptor[], alreadyRefused: ReadonlyMap<string, AnvilError> = new Map()): OrderedPlugins {
  const refused = new Map(alreadyRefused);
  const byId = new Map(descriptors.map((descriptor) => [descriptor.id, descriptor]));
  const deps = (descriptor: PluginDescriptor) => Object.entries(descriptor.requires?.plugins ?? {});

  let changed = true;
  while (changed) {
    changed = false;
    for (const descriptor of descriptors) {
      if (refused.has(descriptor.id)) continue;
      for (const [depId, range] of deps(descriptor)) {
        const dependency = byId.get(depId);
        let error: AnvilError | undefined;
        if (!dependency && !refused.has(depId)) {
          error = new AnvilError(ErrorCodes.PLUGIN_MISSING_DEPENDENCY, `Plugin ${descriptor.id} requires plugin ${depId} (${range}), which is not installed; add it to "plugins" in anvil.config.json`);
        } else if (refused.has(depId)) {
          error = new AnvilError(ErrorCodes.PLUGIN_MISSING_DEPENDENCY, `Plugin ${descriptor.id} requires plugin ${depId}, which failed to load: ${refused.get(depId)?.message ?? ''}`);
        } else if (dependency && !semver.satisfies(dependency.version, range, { includePrerelease: true })) {
          error = new AnvilError(ErrorCodes.PLUGIN_DEPENDENCY_VERSION, `Plugin ${descriptor.id} requires plugin ${depId} ${range}, but ${depId}@${dependency.version} is installed`);
        }
        if (error) {
          refused.set(descriptor.id, error);
          changed = true;
          break;
        }
      }
    }
  }

  const order: PluginDescriptor[] = [];
  const placed = new Set<string>();
  const pending = descriptors.filter((descriptor) => !refused.has(descriptor.id));
  while (pending.length > 0) {
    const index = pending.findIndex((descriptor) => deps(descriptor).every(([depId]) => placed.has(depId)));
    if (index === -1) {
      // Everything left waits on something else that is left: each of them is on or behind a cycle.
      const cycle = findCycle(pending, byId);
      for (const descriptor of pending) {
        refused.set(
          descriptor.id,
          new AnvilError(ErrorCodes.PLUGIN_DEPENDENCY_CYCLE, `Plugin ${descriptor.id} is part of or depends on a dependency cycle: ${cycle.join(' -> ')}`),
        );
      }
      break;
    }
    const [next] = pending.splice(index, 1) as [PluginDescriptor];
    order.push(next);
    placed.add(next.id);
  }
  return { order, refused };
}

function findCycle(pending: readonly PluginDescriptor[], byId: ReadonlyMap<string, PluginDescriptor>): string[] {
  const start = pending[0] as PluginDescriptor;
  const path: string[] = [];
  let current: PluginDescriptor | undefined = start;
  while (current && !path.includes(current.id)) {
    path.push(current.id);
    const nextId: string | undefined = Object.keys(current.requires?.plugins ?? {}).find((id) => pending.some((descriptor) => descriptor.id === id));
    current = nextId ? byId.get(nextId) : undefined;
  }
  if (!current) return path;
  return [...path.slice(path.indexOf(current.id)), current.id];
}
