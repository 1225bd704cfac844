/**
 * Candidate against champion on the same rows: metric deltas, paired bootstrap intervals of the
 * accuracy and macro-F1 deltas, and a verdict on the primary metric.
 */
import { AnvilError, ErrorCodes } from '../../../../contracts/errors.ts';
import { pairedBootstrap } from './bootstrap.ts';
import { checkBootstrapOptions, encodeInput, evaluate, resolveOosLabel } from './evaluate.ts';
import type { CompareOptions, Comparison, Evaluation, EvaluationInput, Interval, MetricDelta, Verdict } from './types.ts';

function delta(candidate: number | null, champion: number | null, higherIsBetter: boolean, interval: Interval | null = null): MetricDelta {
  return { candidate, champion, delta: candidate === null || champion === null ? null : candidate - champion, interval, higherIsBetter };
}

function verdictOf(interval: Interval | null): Verdict {
  if (!interval) return 'inconclusive';
  if (interval.low > 0) return 'better';
  if (interval.high < 0) return 'worse';
  return 'inconclusive';
}

const pct = (value: number) => `${(value * 100).toFixed(2)} pts`;

/**
 * Compares two models' predictions on the same labelled rows (`labels` must be identical). The
 * verdict is `better` when the paired interval of the primary metric's delta lies above 0, `worse`
 * when below, `inconclusive` otherwise (or when intervals are turned off).
 */
export function compare(candidate: EvaluationInput, champion: EvaluationInput, options: CompareOptions = {}): Comparison {
  const primary = options.primary ?? 'macroF1';
  if (primary !== 'accuracy' && primary !== 'macroF1') {
    throw new AnvilError(ErrorCodes.INVALID_INPUT, `primary must be accuracy or macroF1, got ${String(primary)}`, { details: { field: 'primary' } });
  }
  const same =
    Array.isArray(candidate.labels) &&
    Array.isArray(champion.labels) &&
    candidate.labels.length === champion.labels.length &&
    candidate.labels.every((label, i) => label === champion.labels[i]);
  if (!same) {
    throw new AnvilError(ErrorCodes.INVALID_INPUT, 'champion.labels must equal candidate.labels: a paired comparison needs both models scored on the same rows, in the same order', {
      details: { field: 'champion.labels' },
    });
  }
  const candidateEval: Evaluation = evaluate(candidate, options);
  const championEval: Evaluation = evaluate(champion, options);
  const oosLabel = resolveOosLabel(options);
  const boot = checkBootstrapOptions(options);
  const paired = pairedBootstrap(encodeInput(candidate, oosLabel), encodeInput(champion, oosLabel), boot);

  const deltas: Comparison['deltas'] = {
    accuracy: delta(candidateEval.accuracy, championEval.accuracy, true, paired?.accuracy ?? null),
    macroF1: delta(candidateEval.macroF1, championEval.macroF1, true, paired?.macroF1 ?? null),
    microF1: delta(candidateEval.microF1, championEval.microF1, true),
    weightedF1: delta(candidateEval.weightedF1, championEval.weightedF1, true),
    inScopeAccuracy: delta(candidateEval.inScopeAccuracy, championEval.inScopeAccuracy, true),
    logLoss: delta(candidateEval.logLoss, championEval.logLoss, false),
    ece: delta(candidateEval.calibration?.ece ?? null, championEval.calibration?.ece ?? null, false),
    rocAuc: delta(candidateEval.binary?.rocAuc ?? null, championEval.binary?.rocAuc ?? null, true),
    prAuc: delta(candidateEval.binary?.prAuc ?? null, championEval.binary?.prAuc ?? null, true),
  };
  const main = deltas[primary];
  const verdict = verdictOf(main.interval);
  const name = primary === 'macroF1' ? 'macro F1' : 'accuracy';
  const level = `${Math.round(boot.confidence * 100)}%`;
  const explanation =
    main.interval === null
      ? `No bootstrap intervals were computed, so the ${name} delta (${pct(main.delta ?? 0)}) cannot be called.`
      : verdict === 'better'
        ? `The candidate's ${name} is higher by ${pct(main.delta ?? 0)}; the ${level} paired interval [${pct(main.interval.low)}, ${pct(main.interval.high)}] lies above 0.`
        : verdict === 'worse'
          ? `The candidate's ${name} is lower by ${pct(-(main.delta ?? 0))}; the ${level} paired interval [${pct(main.interval.low)}, ${pct(main.interval.high)}] lies below 0.`
          : `The ${name} delta is ${pct(main.delta ?? 0)}, but the ${level} paired interval [${pct(main.interval.low)}, ${pct(main.interval.high)}] includes 0.`;

  return {
    candidate: candidateEval,
    champion: championEval,
    deltas,
    primary,
    verdict,
    explanation,
    resamples: boot.resamples,
    seed: boot.seed,
    confidence: boot.confidence,
  };
}
