/**
 * The sandbox's labelled transaction history for training a risk model: seeded, so the same seed
 * gives the same rows. Legitimate payments follow daytime, familiar-device, home-country habits;
 * three fraud patterns are mixed in at a few percent:
 * - card testing: many small attempts in the last hour on a young card;
 * - account takeover: a new device abroad, at night, for a large amount;
 * - high-risk merchants (7995 gambling, 5967 direct marketing) with a country mismatch.
 * Labels are noisy, so a model has something to learn and cannot be perfect: 15 % of fraud looks
 * ordinary, 0.5 % of legitimate payments carry a whole pattern, and about 6 % of legitimate ones
 * share one sign of a pattern (a traveller abroad by day, a new phone, a large purchase, a night
 * owl, a young card), so no single sign decides: the model must learn the combinations. Columns fit the tabular-classifier recipe:
 * numeric features, one categorical (`merchant_category`), and the `label` column.
 */
import { mulberry32 } from '../../../contracts/mulberry32.ts';
import type { RiskFeatures } from './service.ts';

export const RISK_COLUMNS = ['amount', 'hour', 'card_age_days', 'attempts_last_hour', 'new_device', 'country_mismatch', 'merchant_category', 'label'] as const;

/** A labelled transaction: the model's input row (RiskFeatures) and what it was. */
export interface HistoryRow extends RiskFeatures {
  label: 'fraud' | 'legit';
}

const ORDINARY_MCC = ['5411', '5812', '5912', '4111', '5311', '5999'];
const RISKY_MCC = ['7995', '5967'];

export function generateHistory(seed: number, count: number, fraudRate = 0.04): HistoryRow[] {
  const random = mulberry32(seed);
  const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const rows: HistoryRow[] = [];
  for (let i = 0; i < count; i++) {
    const fraud = random() < fraudRate;
    const looksOrdinary = random() < (fraud ? 0.15 : 0.995);
    const pattern = looksOrdinary ? 'ordinary' : pick(['testing', 'takeover', 'risky'] as const);
    const lookalike = !fraud && looksOrdinary && random() < 0.06 ? pick(['traveller', 'newPhone', 'bigPurchase', 'nightOwl', 'youngCard'] as const) : null;
    const row: HistoryRow = {
      amount: between(500, 12_000),
      hour: between(7, 22),
      card_age_days: between(60, 3_000),
      attempts_last_hour: between(0, 1),
      new_device: random() < 0.08 ? 1 : 0,
      country_mismatch: random() < 0.05 ? 1 : 0,
      merchant_category: pick(ORDINARY_MCC),
      label: fraud ? 'fraud' : 'legit',
    };
    if (pattern === 'testing') Object.assign(row, { amount: between(50, 300), attempts_last_hour: between(4, 15), card_age_days: between(0, 20) });
    if (pattern === 'takeover') Object.assign(row, { amount: between(20_000, 150_000), hour: between(0, 5), new_device: 1, country_mismatch: 1 });
    if (pattern === 'risky') Object.assign(row, { merchant_category: pick(RISKY_MCC), country_mismatch: 1, amount: between(5_000, 60_000) });
    if (lookalike === 'traveller') row.country_mismatch = 1;
    if (lookalike === 'newPhone') row.new_device = 1;
    if (lookalike === 'bigPurchase') row.amount = between(20_000, 80_000);
    if (lookalike === 'nightOwl') row.hour = between(0, 5);
    if (lookalike === 'youngCard') Object.assign(row, { card_age_days: between(0, 20), attempts_last_hour: between(1, 2) });
    rows.push(row);
  }
  return rows;
}

export function historyCsv(rows: readonly HistoryRow[]): string {
  return [RISK_COLUMNS.join(','), ...rows.map((row) => RISK_COLUMNS.map((column) => String(row[column])).join(','))].join('\n') + '\n';
}
