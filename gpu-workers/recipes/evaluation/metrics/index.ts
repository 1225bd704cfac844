/**
 * Evaluation metrics for classifiers, as pure functions: `evaluate` one model's predictions,
 * `compare` a candidate with a champion on the same rows, and render either as Markdown.
 */
export type * from './types.ts';
export { evaluate, EVALUATION_DEFAULTS } from './evaluate.ts';
export { compare } from './compare.ts';
export { renderComparisonReport, renderEvaluationReport, type ComparisonReportOptions, type ReportOptions } from './report.ts';
export { averagePrecision, rocAuc } from '../../../../contracts/ranking.ts';
export { calibration, ECE_BINS, logLoss, LOG_LOSS_CLIP } from './calibration.ts';
export { BOOTSTRAP_DEFAULTS } from './bootstrap.ts';
export { seededRandom } from './rng.ts';
