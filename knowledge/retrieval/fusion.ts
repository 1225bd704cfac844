/**
 * Fusing the ranked lists of the lexical and dense legs. RRF: Σ w_leg / (k + rank) with rank from
 * 1 (Cormack et al.; k = 60 by default). Weighted: Σ w_leg · min-max-normalised score. A weight of
 * 0 switches a leg off, which is how per-knowledge-base tuning keeps hybrid at least as good as
 * lexical alone.
 */
export interface LegHit {
  readonly id: string;
  readonly score: number;
}

export interface FusionSettings {
  readonly method: 'rrf' | 'weighted';
  /** RRF's k. */
  readonly k: number;
  readonly weights: { readonly lexical: number; readonly dense: number };
}

export const DEFAULT_FUSION: FusionSettings = { method: 'rrf', k: 60, weights: { lexical: 1, dense: 1 } };

export interface FusedHit {
  readonly id: string;
  readonly score: number;
  readonly ranks: { lexical: number | null; dense: number | null };
}

export function fuse(lexical: readonly LegHit[], dense: readonly LegHit[], settings: FusionSettings): FusedHit[] {
  const out = new Map<string, { score: number; ranks: { lexical: number | null; dense: number | null } }>();
  const add = (leg: 'lexical' | 'dense', hits: readonly LegHit[]) => {
    const weight = settings.weights[leg];
    const top = hits[0]?.score ?? 0;
    const bottom = hits[hits.length - 1]?.score ?? 0;
    const span = top - bottom;
    hits.forEach((hit, index) => {
      const entry = out.get(hit.id) ?? { score: 0, ranks: { lexical: null, dense: null } };
      entry.ranks[leg] = index + 1;
      if (weight > 0) entry.score += settings.method === 'rrf' ? weight / (settings.k + index + 1) : weight * (span > 0 ? (hit.score - bottom) / span : 1);
      out.set(hit.id, entry);
    });
  };
  add('lexical', lexical);
  add('dense', dense);
  return [...out.entries()]
    .map(([id, entry]) => ({ id, score: entry.score, ranks: entry.ranks }))
    .sort((a, b) => b.score - a.score || (a.ranks.lexical ?? Infinity) - (b.ranks.lexical ?? Infinity) || (a.ranks.dense ?? Infinity) - (b.ranks.dense ?? Infinity));
}
