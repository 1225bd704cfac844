const secretKeyPattern = /(password|secret|token|apikey|api_key|api-key|credential|authorization|cookie)/i;

/** Hides the password of a URL-shaped secret while keeping what an operator needs to debug it. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '***';
  }
}

/** A deep copy of `value` safe to print: URL credentials and secret-named keys are masked. */
export function redactConfig(value: unknown, key = ''): unknown {
  if (typeof value === 'string') {
    if (secretKeyPattern.test(key)) return '***';
    if (/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(value)) return redactUrl(value);
    return value;
  }
  if (Array.isArray(value)) return value.map((item) => redactConfig(item, key));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactConfig(v, k)]));
  }
  return value;
}
