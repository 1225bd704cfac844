/**
 * The card-number detector: card numbers typed alone or as printed are refused; identifiers that
 * merely contain digit runs (SHA-256 hex, UUIDs) are not — before, about 0.4% of random SHA-256
 * strings were refused as card numbers, so an id could randomly become unusable.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { containsCardNumber, findCardNumber } from '../../tools/payment/pan.ts';

describe('card number detector', () => {
  it('finds card numbers alone, as printed, and inside sentences or JSON', () => {
    for (const text of ['4111111111111111', '4111 1111 1111 1111', '4111-1111-1111-1111', 'my card is 4242424242424242, thanks', '{"pan":"4242424242424242"}', '378282246310005']) {
      assert.equal(containsCardNumber(text), true, text);
    }
    assert.equal(findCardNumber({ payee: { note: 'card 4111 1111 1111 1111' } }), 'payee.note');
  });

  it('leaves alone digit runs that fail Luhn and identifiers that contain digit runs', () => {
    for (const text of ['4111111111111112', '1234567890123', 'order-2026120518000012']) assert.equal(containsCardNumber(text), false, text);
    // Deterministic SHA-256 and UUID-shaped strings (seeded by their index), 20,000 of each.
    for (let i = 0; i < 20_000; i++) {
      const hex = createHash('sha256').update(String(i)).digest('hex');
      const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
      assert.equal(containsCardNumber(hex), false, hex);
      assert.equal(containsCardNumber(uuid), false, uuid);
    }
  });
});
