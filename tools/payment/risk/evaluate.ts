/**
 * Pure evaluation of a fraud score on labelled held-out rows: PR-AUC (average precision, the
 * area fraud teams read because fraud is rare and ROC-AUC flatters) and the two thresholds
 * approve | review | decline chosen to minimise the expected cost of the decisions:
 * a fraud approved costs `missedFraud`, a legitimate payment declined `falseDecline`, every
 * review `review` (a person looks; a fraud reviewed is caught).
 */
import { averagePrecision } from '../../../contracts/ranking.ts';

export interface RiskCosts {
  missedFraud: number;
  falseDecline: number;
  review: number;
}

export const DEFAULT_COSTS: RiskCosts = { missedFraud: 25, falseDecline: 5, review: 1 };

export interface Scored {
  score: number;
  fraud: boolean;
}

export interface Thresholds {
  /** Scores at or above this are reviewed by a person. */
  review: number;
  /** Scores at or above this are declined. */
  decline: number;
}

export interface Evaluation {
  rows: number;
  frauds: number;
  prAuc: number;
  thresholds: Thresholds;
  /** Expected cost per 1000 payments at the chosen thresholds, and with every payment approved. */
  costPer1000: number;
  costPer1000ApproveAll: number;
  declinePrecision: number;
  declineRecall: number;
  /** Share of frauds declined or sent to review. */
  fraudStopped: number;
  reviewRate: number;
  declineRate: number;
}

/** Chooses review ≤ decline among the observed scores (at most ~200 candidates) by least total cost. */
export function evaluate(rows: readonly Scored[], costs: RiskCosts = DEFAULT_COSTS): Evaluation {
  if (rows.length === 0) throw new Error('no rows to evaluate');
  const sorted = [...rows].sort((a, b) => a.score - b.score);
  const n = sorted.length;
  // below[i]: frauds / legits among sorted[0..i).
  const fraudBelow = new Array<number>(n + 1).fill(0);
  for (let i = 0; i < n; i++) fraudBelow[i + 1] = (fraudBelow[i] as number) + ((sorted[i] as Scored).fraud ? 1 : 0);
  const frauds = fraudBelow[n] as number;
  // Candidate cut positions: where the score changes, thinned to ~200; n means "nobody".
  const cuts: number[] = [];
  for (let i = 0; i < n; i++) if (i === 0 || (sorted[i] as Scored).score !== (sorted[i - 1] as Scored).score) cuts.push(i);
  const step = Math.max(1, Math.floor(cuts.length / 200));
  const candidates = [...cuts.filter((_, k) => k % step === 0 || (cuts[k] as number) > n - 400), n];
  const uniqueCandidates = [...new Set(candidates)].sort((a, b) => a - b);
  let best = { cost: Number.POSITIVE_INFINITY, review: n, decline: n };
  for (const r of uniqueCandidates) {
    for (const d of uniqueCandidates) {
      if (d < r) continue;
      const missed = fraudBelow[r] as number;
      const reviewed = d - r;
      const declinedFrauds = frauds - (fraudBelow[d] as number);
      const declinedLegit = n - d - declinedFrauds;
      const cost = missed * costs.missedFraud + reviewed * costs.review + declinedLegit * costs.falseDecline;
      // Ties: the higher thresholds (fewer people bothered, fewer customers turned away).
      if (cost < best.cost - 1e-9 || (Math.abs(cost - best.cost) <= 1e-9 && r + d > best.review + best.decline)) best = { cost, review: r, decline: d };
    }
  }
  const at = (cut: number) => (cut >= n ? 1.000001 : (sorted[cut] as Scored).score);
  const declined = n - best.decline;
  const declinedFrauds = frauds - (fraudBelow[best.decline] as number);
  const stopped = frauds - (fraudBelow[best.review] as number);
  return {
    rows: n,
    frauds,
    // scikit-learn's average precision (contracts/ranking.ts); 0 when no row is a fraud.
    prAuc: averagePrecision(rows.map((row) => row.fraud), rows.map((row) => row.score)) ?? 0,
    thresholds: { review: at(best.review), decline: at(best.decline) },
    costPer1000: (best.cost / n) * 1000,
    costPer1000ApproveAll: ((frauds * costs.missedFraud) / n) * 1000,
    declinePrecision: declined === 0 ? 1 : declinedFrauds / declined,
    declineRecall: frauds === 0 ? 0 : declinedFrauds / frauds,
    fraudStopped: frauds === 0 ? 0 : stopped / frauds,
    reviewRate: (best.decline - best.review) / n,
    declineRate: declined / n,
  };
}

export type RiskDecision = 'approve' | 'review' | 'decline';

export function decide(score: number, thresholds: Thresholds): RiskDecision {
  if (score >= thresholds.decline) return 'decline';
  if (score >= thresholds.review) return 'review';
  return 'approve';
}
