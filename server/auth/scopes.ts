import { AnvilError, ErrorCodes } from '../errors.ts';

export const scopeLevels = ['read', 'write', 'admin'] as const;
export type ScopeLevel = (typeof scopeLevels)[number];

/**
 * Scopes that name one action rather than a level: `workers:join` lets a machine join the cluster
 * as a worker. A worker receives every project's jobs and their inputs, so this is an operator
 * credential: it must be granted by name (or as `workers:admin`); `*` — a project's "everything" —
 * does not include it.
 */
export const actionScopes: readonly string[] = ['workers:join', 'deployments:predict'];

/**
 * Action scopes only an operator grants: `*` does not include them. `deployments:predict` (call a
 * deployed model, send feedback; what an application's key needs and no more) is not one: `*` and
 * `deployments:admin` cover it.
 */
export const operatorScopes: readonly string[] = ['workers:join'];

const scopePattern = /^(\*|[a-z][a-z0-9_-]{0,39}:(read|write|admin))$/;

/** Validates a list of scopes as given on the command line or in a request. */
export function parseScopes(raw: string | readonly string[], field = 'scopes'): string[] {
  const items = (typeof raw === 'string' ? raw.split(',') : [...raw]).map((item) => item.trim()).filter((item) => item.length > 0);
  if (items.length === 0) {
    throw new AnvilError(ErrorCodes.INVALID_INPUT, `${field}: expected at least one scope like anvil:read or *`);
  }
  const bad = items.filter((item) => !scopePattern.test(item) && !actionScopes.includes(item));
  if (bad.length > 0) {
    throw new AnvilError(
      ErrorCodes.INVALID_INPUT,
      `${field}: ${bad.map((b) => `"${b}"`).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not a scope; expected <area>:<read|write|admin> (e.g. training:write), ${actionScopes.join(', ')} or *`,
    );
  }
  return [...new Set(items)];
}

/**
 * Whether `granted` covers `required`. Levels nest within an area — admin implies write implies
 * read — and `*` covers everything.
 */
export function hasScope(granted: readonly string[], required: string): boolean {
  if (granted.includes(required)) return true;
  const [area, level] = required.split(':') as [string, ScopeLevel | undefined];
  if (!level) return granted.includes('*');
  if (!scopeLevels.includes(level)) return granted.includes(`${area}:admin`) || (granted.includes('*') && !operatorScopes.includes(required));
  if (granted.includes('*')) return true;
  const needed = scopeLevels.indexOf(level);
  return scopeLevels.some((candidate, index) => index >= needed && granted.includes(`${area}:${candidate}`));
}

/** The scopes in `required` that `granted` does not cover. */
export function missingScopes(granted: readonly string[], required: readonly string[]): string[] {
  return required.filter((scope) => !hasScope(granted, scope));
}
