/**
 * Choosing a classifier's abstain threshold from validation data by an explicit objective
 * (operating-point.ts). When validation has out-of-scope rows (labelled with the OOS label or with a
 * label the model was not trained on) the trained model's validation scores decide. When it has
 * none, out-of-scope rows are simulated rather than guessed: a seeded share of the training intents
 * is held out, a model with the same settings is trained on the others, and its validation scores —
 * the held-out intents' rows now being out of scope — decide the threshold the full model uses.
 * (The featurizer is the full model's: the held-out intents' n-grams are in its vocabulary, but no
 * weight learnt them.)
 */
import { confidenceHead, headConfidence, type ConfidenceHead, type ConfidenceScore } from './confidence.ts';
import type { Csr } from './matrix.ts';
import { selectRows } from './matrix.ts';
import { chooseByObjective, oosDetectionAuroc, operatingCurve, type OperatingPoint, type ThresholdObjective } from './operating-point.ts';
import { Prng } from './prng.ts';
import { train, type TrainHooks, type TrainSettings } from './trainer.ts';
import type { Network } from './network.ts';

export interface AbstainPolicy {
  readonly objective: ThresholdObjective;
  /** Share of the training intents held out as simulated OOS when validation has no OOS rows (0: none, no threshold). */
  readonly simulatedOosFraction: number;
  /** What is compared against the threshold: the top probability, or (MLP only) a score of the hidden activations (confidence.ts). */
  readonly confidence: ConfidenceScore;
  /** Epochs of the simulation's model (fewer than the real model's keeps the second training cheap); null: the same. */
  readonly simulationEpochs?: number | null;
}

/** `trainY` with the OOS class's rows (when `oosClass` ≥ 0 is a trained class) marked -1, so no confidence reference is built from them. */
export function inScopeLabels(trainY: Int32Array, oosClass: number): Int32Array {
  return oosClass >= 0 ? trainY.map((label) => (label === oosClass ? -1 : label)) : trainY;
}

/** A trained model's validation outputs: probabilities, and the confidence when it is not the top probability. */
export interface ScoredRows {
  readonly probabilities: Float32Array;
  readonly confidence: Float32Array | null;
  /** What `confidence` is (`max-probability` when it is null). */
  readonly kind: ConfidenceScore;
  /** What the confidence is computed from (the ONNX export's constants), or null. */
  readonly head: ConfidenceHead | null;
}

/**
 * `net`'s outputs on `x`; the confidence's references (an MLP, a policy other than max-probability)
 * from the training rows `train`/`trainY`, leaving out those of the OOS class `oosClass` (≥ 0 when
 * it is a trained class): being near a known out-of-scope query must not make a row look in scope.
 */
export function scoreRows(net: Network, train: Csr, trainY: Int32Array, x: Csr, confidence: ConfidenceScore, seed: number, oosClass = -1): ScoredRows {
  const probabilities = net.predict(x);
  const head = confidenceHead(confidence, net, train, inScopeLabels(trainY, oosClass), seed);
  if (!head) return { probabilities, confidence: null, kind: 'max-probability', head: null };
  return { probabilities, confidence: headConfidence(net, head, x, probabilities), kind: confidence, head };
}

export interface ThresholdChoice {
  readonly threshold: number;
  /** What the threshold is compared with (absent: the top probability). */
  readonly confidence?: ConfidenceScore;
  /** `oos`: validation's own OOS rows; `simulated-oos`: held-out intents; `none`: no OOS rows to choose with (never abstain by confidence). */
  readonly method: 'oos' | 'simulated-oos' | 'none';
  readonly objective: ThresholdObjective | null;
  readonly targetMet: boolean;
  /** On the rows it was chosen on, at the threshold (in-scope rows abstained on count as wrong). */
  readonly inScopeAccuracy: number | null;
  readonly oosRecall: number | null;
  /** In-scope accuracy of the same model never abstaining: the cost of the operating point is the difference. */
  readonly noAbstainAccuracy: number | null;
  readonly oosAuroc: number | null;
  readonly simulated: { readonly heldOut: readonly string[]; readonly seed: number; readonly fraction: number } | null;
  /** The trade-off on the rows it was chosen on, thinned to at most CURVE_POINTS points. */
  readonly curve: readonly OperatingPoint[];
}

export const CURVE_POINTS = 41;

export interface AbstainData {
  readonly labels: readonly string[];
  readonly train: Csr;
  readonly trainY: Int32Array;
  readonly val: Csr;
  /** -1 for a row whose label is not a trained class. */
  readonly valY: Int32Array;
  readonly classWeight: Float32Array;
  /** The OOS label's class index when it is a trained class, else -1. */
  readonly oosClass: number;
}

const orNull = (value: number): number | null => (Number.isFinite(value) ? value : null);

/** Evenly spaced points of a curve (by index), always keeping the first and the last. */
export function thinCurve(points: readonly OperatingPoint[], max = CURVE_POINTS): OperatingPoint[] {
  if (points.length <= max) return [...points];
  return Array.from({ length: max }, (_, i) => points[Math.round((i * (points.length - 1)) / (max - 1))] as OperatingPoint);
}

function choose(scored: ScoredRows, valY: Int32Array, classes: number, oosClass: number, objective: ThresholdObjective): Omit<ThresholdChoice, 'method' | 'simulated'> {
  const { probabilities } = scored;
  const scores = scored.confidence ?? undefined;
  const curve = operatingCurve(probabilities, valY, classes, oosClass, scores);
  const chosen = chooseByObjective(curve, objective);
  return {
    threshold: chosen.threshold,
    objective,
    targetMet: chosen.targetMet,
    inScopeAccuracy: orNull(chosen.inScopeAccuracy),
    oosRecall: orNull(chosen.oosRecall),
    noAbstainAccuracy: orNull(curve.noAbstainAccuracy),
    oosAuroc: orNull(oosDetectionAuroc(probabilities, valY, classes, oosClass, scores)),
    curve: thinCurve(curve.points),
  };
}

const confidenceOf = (scored: ScoredRows): { confidence?: ConfidenceScore } => (scored.confidence ? { confidence: scored.kind } : {});

function hasOos(valY: Int32Array, oosClass: number): boolean {
  return valY.some((label) => label < 0 || label === oosClass);
}

/** The intents held out for the simulation: a seeded `fraction` of the in-scope classes, at least 1, leaving at least 2. */
export function heldOutClasses(classes: number, oosClass: number, fraction: number, seed: number): number[] {
  const inScope = Array.from({ length: classes }, (_, c) => c).filter((c) => c !== oosClass);
  const count = Math.min(inScope.length - 2, Math.max(1, Math.round(fraction * inScope.length)));
  if (count < 1) return [];
  return Prng.fromSeed(seed ^ 0x5eed).shuffle(inScope).slice(0, count).sort((a, b) => a - b);
}

/** True when the threshold must come from a simulation (validation rows, none out of scope, simulation on). */
export function needsSimulation(data: AbstainData, policy: AbstainPolicy): boolean {
  return data.val.rows > 0 && !hasOos(data.valY, data.oosClass) && policy.simulatedOosFraction > 0 && heldOutClasses(data.labels.length, data.oosClass, policy.simulatedOosFraction, 0).length > 0;
}

/** The threshold for a trained model (its validation outputs `scored`) from validation's own OOS rows (`oos`), or none when it has none (`none`). */
export function thresholdFromValidation(data: AbstainData, policy: AbstainPolicy, scored: ScoredRows): ThresholdChoice {
  const classes = data.labels.length;
  const { probabilities } = scored;
  if (data.val.rows > 0 && hasOos(data.valY, data.oosClass)) return { method: 'oos', simulated: null, ...confidenceOf(scored), ...choose(scored, data.valY, classes, data.oosClass, policy.objective) };
  const noAbstain = orNull(operatingCurve(probabilities, data.valY, classes, data.oosClass).noAbstainAccuracy);
  return { threshold: 0, method: 'none', objective: null, targetMet: false, inScopeAccuracy: noAbstain, oosRecall: null, noAbstainAccuracy: noAbstain, oosAuroc: null, simulated: null, curve: [] };
}

/**
 * The threshold from simulated OOS rows (see the file comment): trains a model on the intents not
 * held out. Returns `stopped` when a stop was requested meanwhile (nothing to checkpoint: a resumed
 * run simulates again, identically).
 */
export async function simulateThreshold(
  data: AbstainData,
  policy: AbstainPolicy,
  settings: TrainSettings,
  hooks: Pick<TrainHooks, 'log' | 'stopRequested'> & { scratchFile: string },
): Promise<ThresholdChoice | 'stopped'> {
  const classes = data.labels.length;
  const held = heldOutClasses(classes, data.oosClass, policy.simulatedOosFraction, settings.seed);
  // Remap the kept classes to 0..k-1; rows of held-out intents become out of scope (-1).
  const heldSet = new Set(held);
  const remap = new Int32Array(classes).fill(-1);
  let kept = 0;
  for (let c = 0; c < classes; c++) if (!heldSet.has(c)) remap[c] = kept++;
  const trainRows: number[] = [];
  for (let r = 0; r < data.trainY.length; r++) if (!heldSet.has(data.trainY[r] as number)) trainRows.push(r);
  const mapLabel = (label: number): number => (label < 0 ? -1 : (remap[label] as number));
  const subTrainY = Int32Array.from(trainRows, (r) => mapLabel(data.trainY[r] as number));
  const subValY = data.valY.map(mapLabel);
  const subWeights = Float32Array.from({ length: kept }, (_, k) => data.classWeight[remap.indexOf(k)] as number);
  hooks.log(`abstain threshold: validation has no out-of-scope rows; simulating them with ${held.length} of ${classes} intents held out (seed ${settings.seed})`);
  const outcome = await train(
    { train: selectRows(data.train, trainRows), trainY: subTrainY, val: data.val, valY: subValY, classWeight: subWeights, classes: kept },
    { ...settings, epochs: Math.min(settings.epochs, policy.simulationEpochs ?? settings.epochs) },
    'simulated-oos',
    {
      metric: () => {},
      log: () => {},
      checkpoint: () => {},
      checkpointPath: () => hooks.scratchFile,
      checkpointEvery: 0,
      stopRequested: hooks.stopRequested,
    },
    null,
  );
  if (outcome.kind === 'stopped') return 'stopped';
  const subOos = data.oosClass >= 0 ? (remap[data.oosClass] as number) : -1;
  const subTrain = selectRows(data.train, trainRows);
  const scored = scoreRows(outcome.net, subTrain, subTrainY, data.val, policy.confidence, settings.seed, subOos);
  const chosen = choose(scored, subValY, kept, subOos, policy.objective);
  return { ...chosen, ...confidenceOf(scored), method: 'simulated-oos', simulated: { heldOut: held.map((c) => data.labels[c] as string), seed: settings.seed, fraction: policy.simulatedOosFraction } };
}
