/** The inputs and results of the evaluation metrics (pure functions, no I/O). */

export interface EvaluationInput {
  /** True label of each row. */
  labels: readonly string[];
  /** Predicted label of each row; null: the model abstained (counts as predicting the out-of-scope label). */
  predicted: readonly (string | null)[];
  /** Per row, the probability of each of `classes` (same order). Needed for log loss, calibration and AUCs. */
  probabilities?: readonly (readonly number[])[];
  /** The classes the model knows, in the order of the probability columns. */
  classes?: readonly string[];
}

export interface BootstrapOptions {
  /** Resamples (default 1000; 0 turns the intervals off). */
  resamples?: number;
  /** Seed of the resampling; the same seed gives the same intervals (default 1). */
  seed?: number;
  /** Interval level (default 0.95). */
  confidence?: number;
}

export interface EvaluateOptions {
  /** The true label of out-of-scope rows (default 'oos'). */
  oosLabel?: string;
  /** Binary tasks: the positive class for ROC-AUC and PR-AUC (default: the minority class in the labels). */
  positiveClass?: string;
  bootstrap?: BootstrapOptions;
  /** A full confusion matrix up to this many classes (default 20); above it, the top confusions. */
  confusionMaxClasses?: number;
  /** How many confusions to list above confusionMaxClasses (default 20). */
  topConfusions?: number;
}

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Rows with this true label. */
  support: number;
  /** Rows predicted as this label. */
  predicted: number;
}

export type ConfusionReport =
  /** Rows are true labels, columns predicted labels, both in `classes` order. */
  | { kind: 'full'; classes: string[]; matrix: number[][] }
  /** Too many classes for a matrix: the most frequent confusions (true ≠ predicted), most first. */
  | { kind: 'top'; classCount: number; top: Array<{ true: string; predicted: string; count: number }> };

export interface Interval {
  low: number;
  high: number;
}

export interface BootstrapIntervals {
  accuracy: Interval;
  macroF1: Interval;
  resamples: number;
  seed: number;
  confidence: number;
}

export interface ReliabilityBin {
  /** Confidence range (lower, upper]; the first bin also holds 0. */
  lower: number;
  upper: number;
  count: number;
  /** null for an empty bin. */
  avgConfidence: number | null;
  accuracy: number | null;
}

export interface Calibration {
  /** Expected calibration error over equal-width confidence bins. */
  ece: number;
  bins: ReliabilityBin[];
  /** Rows it was measured on (true label among the model's classes). */
  rows: number;
}

export interface BinaryMetrics {
  positiveClass: string;
  /** null when the rows hold only one of the two classes. */
  rocAuc: number | null;
  /** Average precision (the area under the precision-recall curve, as scikit-learn computes it). */
  prAuc: number | null;
  rows: number;
}

export interface OosMetrics {
  /** Of the rows predicted out of scope (null or the oos label), the share that were. */
  precision: number;
  /** Of the out-of-scope rows, the share predicted out of scope. */
  recall: number;
  /** Out-of-scope rows. */
  support: number;
  /** Rows predicted out of scope. */
  predicted: number;
}

export interface Evaluation {
  rows: number;
  oosLabel: string;
  /** The labels metrics are over: every true or predicted label, sorted, the oos label last. */
  classes: string[];
  accuracy: number;
  macroF1: number;
  microF1: number;
  weightedF1: number;
  perClass: ClassMetrics[];
  confusion: ConfusionReport;
  /** Rows where the model abstained (predicted null). */
  abstained: number;
  /** Binary tasks with probabilities; null otherwise. */
  binary: BinaryMetrics | null;
  /** Mean negative log-likelihood of the true class (probabilities clipped to [1e-15, 1 − 1e-15]); null without probabilities. */
  logLoss: number | null;
  calibration: Calibration | null;
  /** Bootstrap percentile intervals; null when turned off. */
  intervals: BootstrapIntervals | null;
  /** Accuracy on in-scope rows, abstaining counted wrong; null when no row is out of scope. */
  inScopeAccuracy: number | null;
  oos: OosMetrics | null;
  /** True labels the model never saw (not in `classes`, other than the oos label), most frequent first. */
  unseenLabels: Array<{ label: string; count: number }>;
}

export type Verdict = 'better' | 'worse' | 'inconclusive';

export interface MetricDelta {
  candidate: number | null;
  champion: number | null;
  /** candidate − champion; null when either is. */
  delta: number | null;
  /** Paired bootstrap interval of the delta (accuracy and macro F1 only). */
  interval: Interval | null;
  /** Whether a larger value is better (false for log loss and ECE). */
  higherIsBetter: boolean;
}

export interface CompareOptions extends EvaluateOptions {
  /** The metric the verdict is on (default macroF1). */
  primary?: 'accuracy' | 'macroF1';
}

export interface Comparison {
  candidate: Evaluation;
  champion: Evaluation;
  deltas: Record<'accuracy' | 'macroF1' | 'microF1' | 'weightedF1' | 'inScopeAccuracy' | 'logLoss' | 'ece' | 'rocAuc' | 'prAuc', MetricDelta>;
  primary: 'accuracy' | 'macroF1';
  /** better: the primary delta's interval is above 0; worse: below 0; inconclusive otherwise. */
  verdict: Verdict;
  /** One sentence saying why. */
  explanation: string;
  resamples: number;
  seed: number;
  confidence: number;
}
