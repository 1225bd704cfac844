/** Who is calling: an API key holder over HTTP, the configured local principal on stdio, or nobody. */
export interface Principal {
  /** Stable identifier written to the audit log: `key:<id>`, `oauth:<sub>`, `local:<name>` or `anonymous`. */
  readonly id: string;
  readonly kind: 'api-key' | 'oauth' | 'local' | 'anonymous';
  readonly project: string;
  readonly scopes: readonly string[];
  /** Present for API keys: the public key id (never the secret). */
  readonly keyId?: string;
  /** A key's tool allowlist (names, or prefixes ending in `*`); absent means every tool. */
  readonly tools?: readonly string[];
}

export function localPrincipal(name: string, project: string, scopes: readonly string[]): Principal {
  return { id: `local:${name}`, kind: 'local', project, scopes };
}

/** The principal of an unauthenticated loopback server started with `--no-auth`. */
export function anonymousPrincipal(project: string): Principal {
  return { id: 'anonymous', kind: 'anonymous', project, scopes: ['*'] };
}
