/**
 * Sticky routing: a request key is hashed with the deployment's name into one of 10,000 buckets,
 * and the variants own consecutive bucket ranges in proportion to their weights (in the order the
 * deployment lists them). The hash is SHA-256, the same on every server and every restart, so the
 * same key reaches the same variant everywhere while the weights stay the same. Without a key a
 * request gets a random bucket.
 */
import { createHash, randomInt } from 'node:crypto';
import type { Variant } from '../schema.ts';

export const BUCKETS = 10_000;

export function bucketOf(deployment: string, requestKey: string | undefined): number {
  if (requestKey === undefined) return randomInt(BUCKETS);
  const digest = createHash('sha256').update(deployment).update('\0').update(requestKey).digest();
  return digest.readUInt32BE(0) % BUCKETS;
}

/** The variant owning `bucket`; weights are percentages summing to 100. */
export function pickVariant(variants: readonly Variant[], bucket: number): Variant {
  let edge = 0;
  const serving = variants.filter((variant) => variant.weight > 0);
  for (const variant of serving) {
    edge += variant.weight * (BUCKETS / 100);
    if (bucket < Math.round(edge)) return variant;
  }
  const last = serving.at(-1) ?? variants[0];
  if (!last) throw new Error('a deployment without variants');
  return last;
}

/** Whether a request in `bucket` is mirrored to a shadow taking `percent` of traffic (an independent hash range). */
export function inShadow(deployment: string, requestKey: string | undefined, percent: number): boolean {
  if (percent <= 0) return false;
  const bucket = requestKey === undefined ? randomInt(BUCKETS) : bucketOf(`${deployment}#shadow`, requestKey);
  return bucket < Math.round(percent * (BUCKETS / 100));
}
