import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so equal requests hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'bigint') return item.toString();
    if (item && typeof item === 'object' && !Array.isArray(item)) {
      return Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return item;
  });
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The hash an idempotency key is bound to: the request body without the key itself. */
export function requestHash(body: Record<string, unknown>): string {
  const { idempotencyKey: _ignored, ...rest } = body;
  return sha256Hex(canonicalJson(rest));
}
