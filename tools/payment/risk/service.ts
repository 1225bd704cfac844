/**
 * Risk scoring of payments with a model served by the deployments plugin (`predict`), in the
 * caller's project only: the deployment named in the project's risk settings, the thresholds stored
 * for the model version that answered. Anything short of that is "not-scored" with the reason, and
 * an unscored payment above the project's `unscoredReviewAbove` limit for its currency is sent to
 * review instead: no configured limit is ever passed silently.
 */
import { AnvilError, ErrorCodes, type Logger, type PluginSql } from 'anvil/plugin';
import type { PredictOptions, PredictResult } from '../../deployment/index.ts';
import type { IntentRow } from '../intents/rows.ts';
import { loadSql } from '../sql.ts';
import { decide, type Thresholds } from './evaluate.ts';

const sql = (name: string) => loadSql(import.meta.url, `./sql/${name}.sql`);
const SQL = {
  settingsGet: sql('settings-get'),
  settingsUpsert: sql('settings-upsert'),
  modelGet: sql('model-get'),
  modelUpsert: sql('model-upsert'),
  cardHistory: sql('card-history'),
  intentSetRisk: sql('intent-set-risk'),
} as const;

export type PredictFn = (project: string, deployment: string, rows: readonly unknown[], options?: PredictOptions) => Promise<PredictResult>;

/** What the caller (a checkout) knows about the payer that Anvil cannot derive. */
export interface RiskSignals {
  /** The payer's local hour (0–23); default: the hour (UTC) the payment was created. */
  localHour?: number | undefined;
  /** Days since the card was issued or first seen; default: days since this project first saw its token. */
  cardAgeDays?: number | undefined;
  newDevice?: boolean | undefined;
  /** The card's country differs from the payer's. */
  countryMismatch?: boolean | undefined;
}

/** The model's input row: the columns of the sandbox history (risk/history.ts) without the label. */
export interface RiskFeatures extends Record<string, number | string> {
  amount: number;
  hour: number;
  card_age_days: number;
  attempts_last_hour: number;
  new_device: number;
  country_mismatch: number;
  merchant_category: string;
}

export type RiskDecisionValue = 'approve' | 'review' | 'decline' | 'not-scored';

export interface RiskAssessment extends Record<string, unknown> {
  decision: RiskDecisionValue;
  /** The model's probability of fraud, rounded to 4 decimals; null when not scored. */
  score: number | null;
  thresholds: Thresholds | null;
  model: { deployment: string; name: string; version: number } | null;
  /** Why it was not scored (not_configured, deployment_not_found, model_version_not_evaluated, model_unavailable), or null. */
  reason: string | null;
  /** What was scored; null when the project has no risk deployment (nothing was computed). */
  features: RiskFeatures | null;
}

export interface RiskSettings {
  deployment: string | null;
  unscoredReviewAbove: Record<string, string>;
}

export interface RiskModelRecord {
  project: string;
  deployment: string;
  model: string;
  version: number;
  thresholds: Thresholds;
  prAuc: number;
  evaluation: Record<string, unknown>;
  by: string;
}

const DAY_MS = 86_400_000;

export class RiskService {
  constructor(
    private readonly sql: PluginSql,
    private readonly predict: PredictFn,
    private readonly log: Logger,
  ) {}

  async settings(project: string): Promise<RiskSettings> {
    const row = (await this.sql.query<{ deployment: string | null; unscored_review_above: Record<string, string> }>(SQL.settingsGet, [project])).rows[0];
    return { deployment: row?.deployment ?? null, unscoredReviewAbove: row?.unscored_review_above ?? {} };
  }

  /** `deployment: undefined` keeps the stored one; null switches scoring off. */
  async configure(project: string, by: string, change: { deployment?: string | null; unscoredReviewAbove?: Record<string, string> }): Promise<RiskSettings> {
    const row = (
      await this.sql.query<{ deployment: string | null; unscored_review_above: Record<string, string> }>(SQL.settingsUpsert, [
        project,
        change.deployment ?? null,
        change.unscoredReviewAbove === undefined ? null : JSON.stringify(change.unscoredReviewAbove),
        change.deployment !== undefined,
        by,
      ])
    ).rows[0];
    return { deployment: row?.deployment ?? null, unscoredReviewAbove: row?.unscored_review_above ?? {} };
  }

  async recordModel(record: RiskModelRecord): Promise<void> {
    await this.sql.query(SQL.modelUpsert, [
      record.project, record.deployment, record.model, record.version, record.thresholds.review, record.thresholds.decline, record.prAuc, JSON.stringify(record.evaluation), record.by,
    ]);
  }

  /** The features of a stored payment: its own fields, what the project saw of its card, and the caller's signals. */
  async intentFeatures(project: string, row: IntentRow, signals: RiskSignals = {}): Promise<RiskFeatures> {
    const seen = (await this.sql.query<{ attempts_last_hour: number; first_seen: Date | string | null }>(SQL.cardHistory, [project, row.method.token, row.id])).rows[0];
    const created = new Date(row.created_at);
    const firstSeen = seen?.first_seen ? new Date(seen.first_seen) : created;
    return {
      amount: Number(row.amount),
      hour: signals.localHour ?? created.getUTCHours(),
      card_age_days: signals.cardAgeDays ?? Math.max(0, Math.floor((created.getTime() - firstSeen.getTime()) / DAY_MS)),
      attempts_last_hour: seen?.attempts_last_hour ?? 0,
      new_device: signals.newDevice ? 1 : 0,
      country_mismatch: signals.countryMismatch ? 1 : 0,
      merchant_category: row.merchant_category ?? 'unknown',
    };
  }

  /** Scores features with the project's risk deployment; never throws for a missing or failing model. */
  async score(project: string, features: RiskFeatures, amount: bigint, currency: string, requestKey?: string): Promise<RiskAssessment> {
    return this.scoreWith(await this.settings(project), project, features, amount, currency, requestKey);
  }

  private async scoreWith(settings: RiskSettings, project: string, features: RiskFeatures | null, amount: bigint, currency: string, requestKey?: string): Promise<RiskAssessment> {
    const unscored = (reason: string): RiskAssessment => {
      const limit = settings.unscoredReviewAbove[currency];
      const review = limit !== undefined && amount > BigInt(limit);
      return { decision: review ? 'review' : 'not-scored', score: null, thresholds: null, model: null, reason: review ? `${reason}; above the unscored limit ${limit} ${currency}` : reason, features };
    };
    const deployment = settings.deployment;
    if (deployment === null || features === null) return unscored('not_configured');
    let result: PredictResult;
    try {
      result = await this.predict(project, deployment, [features], { topK: 20, ...(requestKey ? { requestKey } : {}) });
    } catch (error) {
      if (error instanceof AnvilError && error.code === ErrorCodes.NOT_FOUND) return unscored('deployment_not_found');
      this.log.warn({ deployment, err: error instanceof Error ? error.message : String(error) }, 'risk model unavailable; payment not scored');
      return unscored('model_unavailable');
    }
    const prediction = result.predictions[0];
    const fraud = prediction?.topK.find((each) => each.label === 'fraud');
    if (!prediction || !fraud) return unscored('model_has_no_fraud_label');
    const stored = (await this.sql.query<{ review_threshold: number; decline_threshold: number }>(SQL.modelGet, [project, deployment, result.model, prediction.modelVersion])).rows[0];
    if (!stored) return unscored('model_version_not_evaluated');
    const thresholds = { review: stored.review_threshold, decline: stored.decline_threshold };
    const score = Math.round(fraud.probability * 10_000) / 10_000;
    return { decision: decide(score, thresholds), score, thresholds, model: { deployment, name: result.model, version: prediction.modelVersion }, reason: null, features };
  }

  async assessIntent(project: string, row: IntentRow, signals: RiskSignals = {}): Promise<RiskAssessment> {
    // Without a risk deployment nothing is scored, so the card's history is not even read.
    const settings = await this.settings(project);
    const features = settings.deployment === null ? null : await this.intentFeatures(project, row, signals);
    return this.scoreWith(settings, project, features, BigInt(row.amount), row.currency, row.id);
  }

  /** Stores the assessment with a payment awaiting confirmation (a decline fails it); undefined if it moved on. */
  async storeOnIntent(project: string, id: string, assessment: RiskAssessment): Promise<IntentRow | undefined> {
    return (await this.sql.query<IntentRow>(SQL.intentSetRisk, [project, id, JSON.stringify(assessment), assessment.decision === 'decline'])).rows[0];
  }
}
