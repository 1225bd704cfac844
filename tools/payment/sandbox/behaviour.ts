/**
 * The sandbox provider network's seeded behaviour: which acquirers exist, what they charge, how
 * slow and unreliable each is, and which test card ranges decline. Every random choice is a hash of
 * the seed and what it is about (the request's idempotency key and attempt number, the event id),
 * so a run replays exactly whatever order requests arrive in.
 */
import { createHash } from 'node:crypto';

export interface AcquirerProfile {
  readonly name: string;
  /** Fee on captured amounts: fixed minor units plus basis points (floored). */
  readonly fee: { readonly fixed: number; readonly bps: number };
  readonly latencyMs: readonly [number, number];
  /** Probabilities per authorization attempt. */
  readonly softDecline: number;
  readonly serverError: number;
  readonly timeout: number;
}

export type FaultLevel = 'none' | 'default' | 'heavy';

const profiles: Record<FaultLevel, AcquirerProfile[]> = {
  none: [
    { name: 'alpha', fee: { fixed: 25, bps: 140 }, latencyMs: [0, 2], softDecline: 0, serverError: 0, timeout: 0 },
    { name: 'beta', fee: { fixed: 20, bps: 190 }, latencyMs: [0, 2], softDecline: 0, serverError: 0, timeout: 0 },
    { name: 'gamma', fee: { fixed: 30, bps: 120 }, latencyMs: [0, 2], softDecline: 0, serverError: 0, timeout: 0 },
  ],
  default: [
    { name: 'alpha', fee: { fixed: 25, bps: 140 }, latencyMs: [5, 40], softDecline: 0.04, serverError: 0.01, timeout: 0.005 },
    { name: 'beta', fee: { fixed: 20, bps: 190 }, latencyMs: [10, 80], softDecline: 0.08, serverError: 0.02, timeout: 0.01 },
    { name: 'gamma', fee: { fixed: 30, bps: 120 }, latencyMs: [20, 150], softDecline: 0.3, serverError: 0.08, timeout: 0.02 },
  ],
  heavy: [
    { name: 'alpha', fee: { fixed: 25, bps: 140 }, latencyMs: [5, 40], softDecline: 0.15, serverError: 0.08, timeout: 0.05 },
    { name: 'beta', fee: { fixed: 20, bps: 190 }, latencyMs: [10, 80], softDecline: 0.2, serverError: 0.1, timeout: 0.05 },
    { name: 'gamma', fee: { fixed: 30, bps: 120 }, latencyMs: [20, 150], softDecline: 0.4, serverError: 0.15, timeout: 0.08 },
  ],
};

export function acquirerProfiles(level: FaultLevel): AcquirerProfile[] {
  return profiles[level];
}

/** Webhook delivery faults: duplicates and delays (which reorder events). */
export const webhookFaults: Record<FaultLevel, { duplicate: number; maxDelayMs: number }> = {
  none: { duplicate: 0, maxDelayMs: 0 },
  default: { duplicate: 0.2, maxDelayMs: 250 },
  heavy: { duplicate: 0.4, maxDelayMs: 600 },
};

/** A float in [0, 1) from the seed and a label; the same pair always gives the same value. */
export function seeded(seed: number, label: string): number {
  const digest = createHash('sha256').update(`${seed}:${label}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

export type CardBehaviour =
  | { kind: 'approve' }
  | { kind: 'decline'; code: string; soft: boolean; onlyAcquirer?: string }
  | { kind: 'requires_action' };

/**
 * Test card ranges (documented in docs/payments.md):
 * - 4000 0000 0000 0002: hard decline `card_declined` everywhere
 * - 4000 0000 0000 9995: hard decline `insufficient_funds`
 * - 4000 0000 0000 01xx: soft decline `issuer_unavailable` at acquirer alpha only (retry elsewhere succeeds)
 * - 4000 0000 0000 3063: requires_action (3-D Secure) until authenticated
 * - any other Luhn-valid number: approved (subject to the acquirer's seeded faults)
 */
export function cardBehaviour(number: string): CardBehaviour {
  if (number === '4000000000000002') return { kind: 'decline', code: 'card_declined', soft: false };
  if (number === '4000000000009995') return { kind: 'decline', code: 'insufficient_funds', soft: false };
  if (/^40000000000001\d\d$/.test(number)) return { kind: 'decline', code: 'issuer_unavailable', soft: true, onlyAcquirer: 'alpha' };
  if (number === '4000000000003063') return { kind: 'requires_action' };
  return { kind: 'approve' };
}

export function feeFor(profile: AcquirerProfile, amount: bigint): bigint {
  return BigInt(profile.fee.fixed) + (amount * BigInt(profile.fee.bps)) / 10_000n;
}
