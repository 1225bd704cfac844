/**
 * Routing policy, pure: which rule applies to a payment, the candidates it allows, and the
 * probability each candidate is chosen with — a volume split's weights, or success-rate routing by
 * Thompson sampling (Beta posteriors per segment and connector, a degraded connector eliminated,
 * an exploration floor so every candidate keeps a propensity above zero for offline evaluation).
 */
import { createHash } from 'node:crypto';
import { z } from 'anvil/plugin';
import { mulberry32 } from '../../../contracts/mulberry32.ts';

export const ruleSchema = z
  .object({
    name: z.string().min(1).max(80),
    when: z
      .object({
        currency: z.array(z.string().max(8)).max(50).optional(),
        method: z.array(z.string().max(20)).max(10).optional(),
        country: z.array(z.string().max(2)).max(250).optional(),
        merchantCategory: z.array(z.string().max(4)).max(100).optional(),
        amountMin: z.string().regex(/^\d{1,30}$/).optional(),
        amountMax: z.string().regex(/^\d{1,30}$/).optional(),
      })
      .strict()
      .default({}),
    connectors: z.array(z.string().max(120)).max(50).optional().describe('Allowed connectors ("provider/connector"); default all'),
    split: z.record(z.string().max(120), z.number().min(0).max(100)).optional().describe('Volume split by weight instead of success-rate routing'),
  })
  .strict();

export const routingConfigSchema = z
  .object({
    rules: z.array(ruleSchema).max(100).default([]),
    exploration: z.number().min(0.001).max(0.5).default(0.05).describe('Share of traffic spread evenly (keeps every propensity above zero)'),
    elimination: z
      .object({ minObservations: z.number().int().min(1).max(1000).default(10), threshold: z.number().min(0).max(1).default(0.5) })
      .strict()
      .default({ minObservations: 10, threshold: 0.5 }),
  })
  .strict();

export type RoutingConfig = z.output<typeof routingConfigSchema>;
export type Rule = z.output<typeof ruleSchema>;

export interface PaymentFacts {
  amount: bigint;
  currency: string;
  method: string;
  country: string | null;
  merchantCategory: string | null;
}

export interface ConnectorStats {
  successes: number;
  failures: number;
  recent: number[];
}

export interface Candidate {
  connector: string;
  /** Posterior mean success rate in this segment. */
  estimate: number;
  observations: number;
  recentRate: number | null;
  fee: string;
  eliminated: boolean;
  probability: number;
}

export interface Decision {
  rule: string | null;
  strategy: 'split' | 'success_rate';
  segment: string;
  candidates: Candidate[];
}

export function matches(rule: Rule, facts: PaymentFacts): boolean {
  const when = rule.when;
  if (when.currency && !when.currency.includes(facts.currency)) return false;
  if (when.method && !when.method.includes(facts.method)) return false;
  if (when.country && (!facts.country || !when.country.includes(facts.country))) return false;
  if (when.merchantCategory && (!facts.merchantCategory || !when.merchantCategory.includes(facts.merchantCategory))) return false;
  if (when.amountMin !== undefined && facts.amount < BigInt(when.amountMin)) return false;
  if (when.amountMax !== undefined && facts.amount > BigInt(when.amountMax)) return false;
  return true;
}

/** Segments success rates are learned in: currency, method, country and an order of magnitude of amount. */
export function segmentOf(facts: PaymentFacts): string {
  const magnitude = facts.amount.toString().length;
  return `${facts.currency}:${facts.method}:${facts.country ?? '*'}:e${magnitude}`;
}

export function seededRandom(label: string): () => number {
  return mulberry32(createHash('sha256').update(label).digest().readUInt32BE(0));
}

function normal(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** Gamma(shape, 1) by Marsaglia and Tsang (shape ≥ 1 here: posteriors start at Beta(1, 1)). */
function gamma(shape: number, random: () => number): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

export function betaSample(a: number, b: number, random: () => number): number {
  const x = gamma(a, random);
  return x / (x + gamma(b, random));
}

const DRAWS = 400;

/**
 * The probability of each candidate under the policy. Thompson sampling's probabilities are
 * estimated with a fixed number of seeded posterior draws, then mixed with the exploration floor:
 * the chosen connector's propensity is exactly the probability it was drawn with.
 */
export function decide(config: RoutingConfig, facts: PaymentFacts, connectors: ReadonlyArray<{ id: string; fee: { fixed: number; bps: number } }>, stats: ReadonlyMap<string, ConnectorStats>, seed: string): Decision {
  const rule = config.rules.find((each) => matches(each, facts)) ?? null;
  const allowed = connectors.filter((connector) => !rule?.connectors || rule.connectors.includes(connector.id));
  const segment = segmentOf(facts);
  const base = allowed.map((connector) => {
    const s = stats.get(connector.id) ?? { successes: 0, failures: 0, recent: [] };
    const observations = s.successes + s.failures;
    const recentRate = s.recent.length ? s.recent.reduce((sum, value) => sum + value, 0) / s.recent.length : null;
    return {
      connector: connector.id,
      estimate: (s.successes + 1) / (observations + 2),
      observations,
      recentRate,
      fee: (BigInt(connector.fee.fixed) + (facts.amount * BigInt(connector.fee.bps)) / 10_000n).toString(),
      eliminated: false,
      probability: 0,
      stats: s,
    };
  });
  // A degraded connector (recent success rate under the threshold after enough observations) is
  // eliminated while some other candidate is not.
  const { minObservations, threshold } = config.elimination;
  const degraded = (c: (typeof base)[number]) => c.stats.recent.length >= minObservations && (c.recentRate ?? 1) < threshold;
  if (base.some((c) => !degraded(c))) for (const c of base) c.eliminated = degraded(c);
  const live = base.filter((c) => !c.eliminated);

  let strategy: Decision['strategy'] = 'success_rate';
  if (rule?.split) {
    strategy = 'split';
    const total = live.reduce((sum, c) => sum + (rule.split?.[c.connector] ?? 0), 0);
    for (const c of live) c.probability = total > 0 ? (rule.split[c.connector] ?? 0) / total : 1 / live.length;
  } else if (live.length > 0) {
    const random = seededRandom(`ts:${seed}`);
    const wins = new Map<string, number>();
    for (let draw = 0; draw < DRAWS; draw++) {
      let best: string | undefined;
      let bestValue = -1;
      for (const c of live) {
        const value = betaSample(c.stats.successes + 1, c.stats.failures + 1, random);
        if (value > bestValue) [best, bestValue] = [c.connector, value];
      }
      if (best) wins.set(best, (wins.get(best) ?? 0) + 1);
    }
    const floor = config.exploration / live.length;
    for (const c of live) c.probability = floor + (1 - config.exploration) * ((wins.get(c.connector) ?? 0) / DRAWS);
  }
  return { rule: rule?.name ?? null, strategy, segment, candidates: base.map(({ stats: _stats, ...rest }) => rest) };
}

/** Draws one candidate by its probability (seeded): the decision's connector and its propensity. */
export function draw(decision: Decision, seed: string): { connector: string; propensity: number } | undefined {
  const live = decision.candidates.filter((c) => !c.eliminated && c.probability > 0);
  if (live.length === 0) return undefined;
  const total = live.reduce((sum, c) => sum + c.probability, 0);
  let point = seededRandom(`draw:${seed}`)() * total;
  for (const c of live) {
    point -= c.probability;
    if (point <= 0) return { connector: c.connector, propensity: c.probability / total };
  }
  const last = live.at(-1) as Candidate;
  return { connector: last.connector, propensity: last.probability / total };
}
