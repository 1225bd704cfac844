/** The routing policy on its own (pure functions): rules, splits, Thompson sampling, elimination, IPS. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, draw, routingConfigSchema, type ConnectorStats } from '../../tools/payment/routing/policy.ts';
import { probabilityUnder } from '../../tools/payment/routing/service.ts';

const connectors = [
  { id: 'sandbox/alpha', fee: { fixed: 25, bps: 140 } },
  { id: 'sandbox/beta', fee: { fixed: 20, bps: 190 } },
  { id: 'sandbox/gamma', fee: { fixed: 30, bps: 120 } },
];
const facts = { amount: 10_000n, currency: 'EUR', method: 'card', country: 'DE', merchantCategory: '5411' };
const stats = (entries: Record<string, ConnectorStats>) => new Map(Object.entries(entries));
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe('routing policy', () => {
  it('lets the first matching rule restrict connectors and split volume by weight', () => {
    const config = routingConfigSchema.parse({
      rules: [
        { name: 'usd', when: { currency: ['USD'] }, connectors: ['sandbox/gamma'] },
        { name: 'eur-big', when: { currency: ['EUR'], amountMin: '5000' }, connectors: ['sandbox/alpha', 'sandbox/beta'], split: { 'sandbox/alpha': 70, 'sandbox/beta': 30 } },
      ],
    });
    const decision = decide(config, facts, connectors, stats({}), 'seed');
    assert.equal(decision.rule, 'eur-big');
    assert.equal(decision.strategy, 'split');
    assert.deepEqual(decision.candidates.map((c) => [c.connector, c.probability]), [['sandbox/alpha', 0.7], ['sandbox/beta', 0.3]]);
    const small = decide(config, { ...facts, amount: 100n }, connectors, stats({}), 'seed');
    assert.equal(small.rule, null);
    assert.equal(small.strategy, 'success_rate');
    // Over many payments the split holds.
    let alpha = 0;
    for (let i = 0; i < 2000; i++) if (draw(decision, `p${i}`)?.connector === 'sandbox/alpha') alpha += 1;
    assert.ok(Math.abs(alpha / 2000 - 0.7) < 0.05, String(alpha));
  });

  it('prefers the connector with the better success rate and keeps an exploration floor', () => {
    const config = routingConfigSchema.parse({});
    const decision = decide(config, facts, connectors, stats({
      'sandbox/alpha': { successes: 95, failures: 5, recent: [] },
      'sandbox/beta': { successes: 60, failures: 40, recent: [] },
      'sandbox/gamma': { successes: 70, failures: 30, recent: [] },
    }), 'seed');
    const [alpha, beta, gamma] = decision.candidates;
    assert.ok((alpha?.probability ?? 0) > 0.9);
    assert.ok((beta?.probability ?? 0) >= config.exploration / 3 - 1e-9 && (gamma?.probability ?? 0) > 0);
    assert.ok(Math.abs(sum(decision.candidates.map((c) => c.probability)) - 1) < 1e-9);
    assert.deepEqual(decide(config, facts, connectors, stats({}), 'same'), decide(config, facts, connectors, stats({}), 'same'), 'seeded: the same seed decides the same');
  });

  it('eliminates a degraded connector while a healthy one remains, but never all of them', () => {
    const config = routingConfigSchema.parse({});
    const bad = { successes: 2, failures: 18, recent: [0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0] };
    const decision = decide(config, facts, connectors, stats({ 'sandbox/gamma': bad }), 'seed');
    assert.equal(decision.candidates.find((c) => c.connector === 'sandbox/gamma')?.eliminated, true);
    assert.equal(decision.candidates.find((c) => c.connector === 'sandbox/gamma')?.probability, 0);
    const allBad = decide(config, facts, connectors, stats({ 'sandbox/alpha': bad, 'sandbox/beta': bad, 'sandbox/gamma': bad }), 'seed');
    assert.ok(allBad.candidates.every((c) => !c.eliminated));
  });

  it('estimates another policy offline by inverse propensity scoring, without bias on a known world', () => {
    // A logged uniform policy over two connectors whose true success rates are 0.9 and 0.5.
    const truth: Record<string, number> = { 'sandbox/alpha': 0.9, 'sandbox/beta': 0.5 };
    const candidates = [
      { connector: 'sandbox/alpha', estimate: 0.5, observations: 0, recentRate: null, fee: '0', eliminated: false, probability: 0.5 },
      { connector: 'sandbox/beta', estimate: 0.5, observations: 0, recentRate: null, fee: '0', eliminated: false, probability: 0.5 },
    ];
    let weighted = 0;
    const n = 20_000;
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    for (let i = 0; i < n; i++) {
      const chosen = random() < 0.5 ? 'sandbox/alpha' : 'sandbox/beta';
      const reward = random() < (truth[chosen] as number) ? 1 : 0;
      weighted += (probabilityUnder({ type: 'connector', connector: 'sandbox/alpha' }, candidates, chosen) / 0.5) * reward;
    }
    assert.ok(Math.abs(weighted / n - 0.9) < 0.03, String(weighted / n));
  });
});
