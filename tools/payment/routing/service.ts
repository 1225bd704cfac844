/**
 * The router payments use: rules and volume splits from the project's routing config,
 * success-rate routing per segment otherwise; every decision stored with its candidates and
 * propensity (one per intent and attempt: a preview's decision is the one confirm executes), every
 * outcome fed back to the segment's counts; offline evaluation of another policy by inverse
 * propensity scoring over the stored decisions.
 */
import { randomUUID } from 'node:crypto';
import { AnvilError, ErrorCodes, type PluginSql } from 'anvil/plugin';
import type { AttemptRow, IntentRow } from '../intents/rows.ts';
import type { RouteChoice, Router } from '../intents/service.ts';
import { loadSql } from '../sql.ts';
import type { ConnectorDirectory } from './connectors.ts';
import { type Candidate, type ConnectorStats, type Decision, decide, draw, type PaymentFacts, type RoutingConfig, routingConfigSchema, segmentOf } from './policy.ts';

const sql = (name: string) => loadSql(import.meta.url, `./sql/${name}.sql`);
const SQL = {
  configGet: sql('config-get'),
  configSet: sql('config-set'),
  statsGet: sql('stats-get'),
  statsRecord: sql('stats-record'),
  decisionGet: sql('decision-get'),
  decisionInsert: sql('decision-insert'),
  decisionOutcome: sql('decision-outcome'),
  logged: sql('decisions-logged'),
} as const;

export type EvaluatedPolicy =
  | { type: 'connector'; connector: string }
  | { type: 'greedy' }
  | { type: 'uniform' }
  | { type: 'split'; weights: Record<string, number> };

export interface Evaluation {
  decisions: number;
  loggedSuccessRate: number | null;
  ips: number | null;
  snips: number | null;
  effectiveSampleSize: number;
  /** Decisions where the evaluated policy could choose the logged connector at all. */
  supported: number;
}

function factsOf(intent: IntentRow): PaymentFacts {
  return { amount: BigInt(intent.amount), currency: intent.currency, method: intent.method.type, country: intent.country, merchantCategory: intent.merchant_category };
}

export class RoutingService implements Router {
  constructor(
    private readonly sql: PluginSql,
    private readonly directory: ConnectorDirectory,
  ) {}

  async config(project: string): Promise<RoutingConfig> {
    const row = (await this.sql.query<{ config: unknown }>(SQL.configGet, [project])).rows[0];
    return routingConfigSchema.parse(row?.config ?? {});
  }

  async configure(project: string, config: RoutingConfig, by: string): Promise<RoutingConfig> {
    const connectors = new Set((await this.directory.all()).map((each) => each.id));
    for (const [index, rule] of config.rules.entries()) {
      for (const name of [...(rule.connectors ?? []), ...Object.keys(rule.split ?? {})]) {
        if (!connectors.has(name)) {
          throw new AnvilError(ErrorCodes.INVALID_INPUT, `rules[${index}]: unknown connector "${name}"; known: ${[...connectors].join(', ') || 'none'}`, { details: { field: `rules[${index}]` } });
        }
      }
    }
    await this.sql.query(SQL.configSet, [project, JSON.stringify(config), by]);
    return config;
  }

  private async stats(project: string, segment: string): Promise<Map<string, ConnectorStats>> {
    const rows = (await this.sql.query<{ connector: string; successes: number; failures: number; recent: number[] }>(SQL.statsGet, [project, segment])).rows;
    return new Map(rows.map((row) => [row.connector, { successes: row.successes, failures: row.failures, recent: row.recent.map(Number) }]));
  }

  /** The decision for a payment like `facts` now, without storing anything. */
  async explain(project: string, facts: PaymentFacts, seed = 'explain'): Promise<Decision> {
    const connectors = await this.directory.all();
    return decide(await this.config(project), facts, connectors, await this.stats(project, segmentOf(facts)), seed);
  }

  async choose(intent: IntentRow, attempt: number, exclude: ReadonlySet<string>): Promise<RouteChoice | undefined> {
    const existing = (await this.sql.query<{ chosen: string }>(SQL.decisionGet, [intent.id, attempt])).rows[0];
    if (existing && !exclude.has(existing.chosen)) return split(existing.chosen);
    const facts = factsOf(intent);
    const connectors = (await this.directory.all()).filter((connector) => !exclude.has(connector.id));
    if (connectors.length === 0) return undefined;
    const seed = `${intent.id}:${attempt}`;
    const decision = decide(await this.config(intent.project), facts, connectors, await this.stats(intent.project, segmentOf(facts)), seed);
    const picked = draw(decision, seed);
    if (!picked) return undefined;
    const stored = (await this.sql.query<{ chosen: string }>(SQL.decisionInsert, [
      randomUUID(), intent.project, intent.id, attempt, decision.segment, decision.rule, decision.strategy, JSON.stringify(decision.candidates), picked.connector, picked.propensity,
    ])).rows[0];
    // A concurrent chooser stored first: its decision is the one.
    const chosen = stored?.chosen ?? (await this.sql.query<{ chosen: string }>(SQL.decisionGet, [intent.id, attempt])).rows[0]?.chosen ?? picked.connector;
    return split(chosen);
  }

  /** The route a confirm would take first (stored, so that confirm takes exactly it). */
  preview(intent: IntentRow): Promise<RouteChoice | undefined> {
    return this.choose(intent, 1, new Set());
  }

  async observe(intent: IntentRow, attempt: AttemptRow, outcome: 'success' | 'soft_decline' | 'hard_decline'): Promise<void> {
    const updated = (await this.sql.query<{ segment: string; chosen: string }>(SQL.decisionOutcome, [intent.id, attempt.number, outcome])).rows[0];
    // A hard decline is the card's, not the connector's: it teaches nothing about the connector.
    if (!updated || outcome === 'hard_decline') return;
    await this.sql.query(SQL.statsRecord, [intent.project, updated.segment, updated.chosen, outcome === 'success' ? 1 : 0]);
  }

  /** Inverse propensity scoring of `policy` over the project's logged decisions with known outcomes. */
  async evaluate(project: string, policy: EvaluatedPolicy, since?: string): Promise<Evaluation> {
    const rows = (await this.sql.query<{ candidates: Candidate[]; chosen: string; propensity: number; outcome: string }>(SQL.logged, [project, since ?? null])).rows;
    let weighted = 0;
    let weights = 0;
    let squares = 0;
    let successes = 0;
    let supported = 0;
    for (const row of rows) {
      const reward = row.outcome === 'success' ? 1 : 0;
      successes += reward;
      const target = probabilityUnder(policy, row.candidates, row.chosen);
      if (target > 0) supported += 1;
      const weight = target / row.propensity;
      weighted += weight * reward;
      weights += weight;
      squares += weight * weight;
    }
    const n = rows.length;
    return {
      decisions: n,
      loggedSuccessRate: n ? successes / n : null,
      ips: n ? weighted / n : null,
      snips: weights > 0 ? weighted / weights : null,
      effectiveSampleSize: squares > 0 ? (weights * weights) / squares : 0,
      supported,
    };
  }
}

function split(id: string): RouteChoice {
  const slash = id.indexOf('/');
  return { provider: id.slice(0, slash), connector: id.slice(slash + 1) };
}

/** π(chosen | candidates) for the evaluated policy, over the candidates that were live then. */
export function probabilityUnder(policy: EvaluatedPolicy, candidates: readonly Candidate[], chosen: string): number {
  const live = candidates.filter((c) => !c.eliminated);
  if (!live.some((c) => c.connector === chosen)) return 0;
  switch (policy.type) {
    case 'connector':
      return chosen === policy.connector ? 1 : 0;
    case 'uniform':
      return 1 / live.length;
    case 'greedy': {
      const best = live.reduce((a, b) => (b.estimate > a.estimate ? b : a));
      return best.connector === chosen ? 1 : 0;
    }
    case 'split': {
      const total = live.reduce((sum, c) => sum + (policy.weights[c.connector] ?? 0), 0);
      return total > 0 ? (policy.weights[chosen] ?? 0) / total : 0;
    }
  }
}
