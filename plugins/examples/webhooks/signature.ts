import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Stripe-style webhook signatures: `anvil-signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` where
 * the HMAC (keyed with the endpoint's secret) is over `"<t>.<raw body>"`. Signing the timestamp
 * with the body lets a receiver refuse replays of an old delivery; comparing in constant time
 * keeps the signature from leaking byte by byte.
 */
export const SIGNATURE_HEADER = 'anvil-signature';
export const EVENT_ID_HEADER = 'anvil-event-id';

/** The default tolerance window: a signature older (or newer) than this is refused. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function computeSignature(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/** The header value for `body` signed at `timestamp` (unix seconds, default now). */
export function signatureHeader(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${computeSignature(secret, timestamp, body)}`;
}

export type Verification = { ok: true; timestamp: number } | { ok: false; reason: string };

/**
 * What a receiver runs on every request, before trusting the body. `body` must be the raw request
 * body exactly as received (parse JSON only after verifying). Several `v1=` entries are accepted
 * (any one matching is enough), so a sender can sign with an old and a new secret while rotating.
 */
export function verifySignature(options: {
  secret: string;
  body: string;
  header: string | null | undefined;
  toleranceSeconds?: number;
  /** Unix ms; defaults to now. */
  now?: number;
}): Verification {
  const { secret, body, header } = options;
  if (!header) return { ok: false, reason: `missing ${SIGNATURE_HEADER} header` };
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't' && value && /^\d+$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && value && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === undefined) return { ok: false, reason: 'no timestamp (t=) in the signature header' };
  if (signatures.length === 0) return { ok: false, reason: 'no v1 signature in the signature header' };
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - timestamp) > tolerance) return { ok: false, reason: `timestamp outside the ${tolerance} s tolerance window` };
  const expected = Buffer.from(computeSignature(secret, timestamp, body), 'hex');
  const matches = signatures.some((signature) => {
    const given = Buffer.from(signature, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return matches ? { ok: true, timestamp } : { ok: false, reason: 'signature does not match' };
}
