/**
 * The token-bucket contract: what every `TokenBucketStore` behind the rate-limit plugin (Redis,
 * SQL on Postgres, SQL on embedded PGlite) must do, written once and run against each from
 * test/plugins/rate-limit.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { TokenBucketStore } from '../../tools/rate-limit/bucket.ts';

/** One backend, set up once for the suite. */
export interface BucketBackend {
  /** A store on the backend, as a server would open it; each call is another server's store on the same data. */
  open(): Promise<TokenBucketStore>;
  /** Closes every store opened and removes what the suite created. */
  cleanup(): Promise<void>;
}

export interface BucketBackendFactory {
  readonly name: string;
  /** Why the backend cannot run here; undefined when it runs. */
  readonly skip: string | undefined;
  setup(): Promise<BucketBackend>;
}

/** A bucket key no other test (or run) uses. */
function freshKey(label: string): string {
  return `contract/${label}/${randomBytes(4).toString('hex')}`;
}

/** Effectively no refill during a test (one token per ~17 minutes). */
const NO_REFILL = 0.001;

export function tokenBucketContract(factory: BucketBackendFactory): void {
  describe(`token bucket contract: ${factory.name}`, { skip: factory.skip }, () => {
    let backend: BucketBackend | undefined;
    let store: TokenBucketStore;

    before(async () => {
      backend = await factory.setup();
      store = await backend.open();
    });
    after(async () => backend?.cleanup());

    it('allows a burst of `capacity` calls, then refuses with a sensible retryAfterMs', async () => {
      const key = freshKey('burst');
      // One token per 5 s: nothing comes back during the burst, even on a slow machine.
      const started = Date.now();
      const taken = [];
      for (let index = 0; index < 5; index += 1) taken.push(await store.take(key, 5, 0.2));
      assert.deepEqual(
        taken.map((result) => [result.allowed, result.remaining, result.retryAfterMs]),
        [
          [true, 4, 0],
          [true, 3, 0],
          [true, 2, 0],
          [true, 1, 0],
          [true, 0, 0],
        ],
      );
      const refused = await store.take(key, 5, 0.2);
      assert.equal(refused.allowed, false);
      assert.equal(refused.remaining, 0);
      // The next token is due 5 s after the burst began, less what has passed since (with clock slack).
      const floor = 5_000 - (Date.now() - started) - 50;
      assert.ok(refused.retryAfterMs <= 5_000 && refused.retryAfterMs >= floor, `retryAfterMs ${refused.retryAfterMs}, expected ${floor}..5000`);
    });

    it('refills over time, never beyond capacity, and retryAfterMs is long enough', async () => {
      const key = freshKey('refill');
      // 10 per second: a token every 100 ms. Take until refused (a slow backend refills between takes).
      let refused;
      for (let index = 0; index < 20 && !refused; index += 1) {
        const result = await store.take(key, 2, 10);
        if (!result.allowed) refused = result;
      }
      assert.ok(refused, 'the bucket runs dry');
      assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 100, `retryAfterMs ${refused.retryAfterMs}`);
      await sleep(refused.retryAfterMs + 5);
      const back = await store.take(key, 2, 10);
      assert.equal(back.allowed, true, `a token is back after retryAfterMs (refused: ${JSON.stringify(refused)}, then: ${JSON.stringify(back)})`);

      // Idle for five tokens' worth: the bucket holds `capacity` (2), not more.
      await sleep(500);
      assert.deepEqual(await store.take(key, 2, 10), { allowed: true, remaining: 1, retryAfterMs: 0 });
    });

    it('never allows more than capacity under 200 concurrent takes', async () => {
      const key = freshKey('concurrent');
      const results = await Promise.all(Array.from({ length: 200 }, () => store.take(key, 50, NO_REFILL)));
      const allowed = results.filter((result) => result.allowed).length;
      assert.equal(allowed, 50);
      assert.ok(results.every((result) => result.allowed || result.retryAfterMs > 0));
    });

    it('two servers (two stores on the same backend) share one bucket', async () => {
      assert.ok(backend);
      const other = await backend.open();
      const key = freshKey('shared');
      const order = [store, other, store, other, store, other];
      const results = [];
      for (const each of order) results.push(await each.take(key, 4, NO_REFILL));
      assert.deepEqual(
        results.map((result) => result.allowed),
        [true, true, true, true, false, false],
      );
      const parallel = freshKey('shared-parallel');
      const both = await Promise.all(Array.from({ length: 60 }, (_, index) => (index % 2 === 0 ? store : other).take(parallel, 20, NO_REFILL)));
      assert.equal(both.filter((result) => result.allowed).length, 20);
    });

    it('keeps each key (principal) in its own bucket', async () => {
      const first = freshKey('principal-a');
      const second = freshKey('principal-b');
      assert.equal((await store.take(first, 2, NO_REFILL)).allowed, true);
      assert.equal((await store.take(first, 2, NO_REFILL)).allowed, true);
      assert.equal((await store.take(first, 2, NO_REFILL)).allowed, false);
      const elsewhere = await store.take(second, 2, NO_REFILL);
      assert.deepEqual([elsewhere.allowed, elsewhere.remaining], [true, 1]);
      assert.equal((await store.take(first, 2, NO_REFILL)).allowed, false, 'the exhausted key stays exhausted');
    });
  });
}
