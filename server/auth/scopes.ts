import { AnvilError, ErrorCodes } from '../errors.ts';

export const scopeLevels = ['read', 'write', 'admin'] as const;
export type ScopeLevel = (typeof scopeLevels)[number];

/**
 * Operator scopes: they concern the whole cluster, not one project, so a project's key never holds
 * them — `*` does not include them and they must be granted by name (or as `<area>:admin` by name).
 * - `workers:join`: a machine joins the cluster as a worker (it receives every project's jobs).
 * - `cluster:operate`: operator settings, e.g. a project's quota, priority ceiling and priority class.
 * - `cluster:observe`: cluster-wide reads, e.g. every worker with its host and telemetry, `/metrics`.
 *   `cluster:operate` includes it.
 */
export const OPERATOR_SCOPES = { join: 'workers:join', operate: 'cluster:operate', observe: 'cluster:observe' } as const;

/** Action scopes only an operator grants: `*` does not include them. */
export const operatorScopes: readonly string[] = Object.values(OPERATOR_SCOPES);

/**
 * Scopes that name one action rather than a level. `deployments:predict` (call a deployed model,
 * send feedback; what an application's key needs and no more) is not an operator scope: `*` and
 * `deployments:admin` cover it.
 */
export const actionScopes: readonly string[] = [...operatorScopes, 'deployments:predict'];

/** Action scopes that another action scope includes. */
const includedBy: Readonly<Record<string, readonly string[]>> = { [OPERATOR_SCOPES.observe]: [OPERATOR_SCOPES.operate] };

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
  if (!scopeLevels.includes(level)) {
    return granted.includes(`${area}:admin`) || (includedBy[required] ?? []).some((scope) => granted.includes(scope)) || (granted.includes('*') && !operatorScopes.includes(required));
  }
  if (granted.includes('*')) return true;
  const needed = scopeLevels.indexOf(level);
  return scopeLevels.some((candidate, index) => index >= needed && granted.includes(`${area}:${candidate}`));
}

/** The scopes in `required` that `granted` does not cover. */
export function missingScopes(granted: readonly string[], required: readonly string[]): string[] {
  return required.filter((scope) => !hasScope(granted, scope));
}
