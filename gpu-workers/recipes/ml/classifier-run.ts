/**
 * The part of a classifier recipe after featurisation, shared by text-classifier and
 * tabular-classifier: train (with checkpoints, stop and resume), choose the abstain threshold on
 * validation, evaluate on test, export model.onnx + featurizer.json + metrics.json (+ predictions.json
 * when there is a test split), report them and the result.
 */
import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { classifierModel, embeddingBagClassifierModel } from '../onnx/model.ts';
import type { RecipeSpec } from '../../protocol.ts';
import { emit, exitAfterFlush } from '../../recipe-io.ts';
import { inScopeLabels, needsSimulation, scoreRows, thresholdFromValidation, type AbstainPolicy, type ScoredRows, type ThresholdChoice } from './abstain.ts';
import { confidenceHead, headConfidence, type ConfidenceHead, type ConfidenceScore } from './confidence.ts';
import type { Csr } from './matrix.ts';
import { accuracyAndLoss } from './metrics.ts';
import type { Network } from './network.ts';
import { publishArtifact, refuse, type StopFlag } from './recipe-kit.ts';
import { startSimulation } from './parallel-simulation.ts';
import { train, type TrainData, type TrainSettings } from './trainer.ts';

/** How long a reported checkpoint file is kept at least (see the checkpoint callback). */
const CHECKPOINT_KEEP_MS = 60_000;

export interface PreparedSplits {
  readonly labels: readonly string[];
  readonly train: Csr;
  readonly trainY: Int32Array;
  readonly val: Csr;
  /** -1 for a row whose label is not a trained class (an OOS row when it equals the OOS label). */
  readonly valY: Int32Array;
  readonly test: Csr;
  readonly testY: Int32Array;
  /** 1-based JSONL line of each test row (for predictions.json). */
  readonly testLines: readonly number[];
  readonly classWeight: Float32Array;
}

/** The training params both classifier recipes take, as the trainer's settings. */
export function trainSettings(
  params: {
    model: 'softmax' | 'mlp';
    hiddenSize: number;
    epochs: number;
    batchSize: number;
    learningRate: number;
    l2: number;
    dropout: number;
    seed: number;
    patience: number;
    schedule: 'linear' | 'constant';
  },
  labelSmoothing: number,
): TrainSettings {
  const hidden = params.model === 'mlp' ? params.hiddenSize : 0;
  return {
    hidden,
    epochs: params.epochs,
    batchSize: params.batchSize,
    learningRate: params.learningRate,
    l2: params.l2,
    dropout: hidden > 0 ? params.dropout : 0,
    labelSmoothing,
    seed: params.seed,
    patience: params.patience,
    schedule: params.schedule,
  };
}

export interface ClassifierRunOptions {
  readonly recipe: string;
  readonly spec: RecipeSpec;
  readonly settings: TrainSettings;
  readonly checkpointEvery: number;
  /** The class index of the OOS label when it is a trained class, else -1. */
  readonly oosClass: number;
  /** How the abstain threshold is chosen (abstain.ts); null: no threshold (never abstain by confidence). */
  readonly abstain: AbstainPolicy | null;
  /** Anything that changes the features (besides settings): part of the checkpoint fingerprint. */
  readonly featureFingerprint: string;
  readonly stop: StopFlag;
  /** The ONNX graph's input form: dense `features` (default) or `embedding-bag` (`ids` + `weights`). */
  readonly onnxInput?: 'features' | 'embedding-bag';
  /** The featurizer.json object for the trained model; `confidence`: what the exported model's threshold is compared with. */
  featurizerSpec(threshold: ThresholdChoice | null, confidence: ConfidenceScore): Record<string, unknown>;
  /** Extra validation figures (e.g. PR-AUC) from the validation probabilities. */
  extraMetrics?(valProbabilities: Float32Array): Record<string, number>;
}

export async function runClassifier(data: PreparedSplits, options: ClassifierRunOptions): Promise<void> {
  const { spec, settings } = options;
  const classes = data.labels.length;
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ recipe: options.recipe, settings, features: options.featureFingerprint, labels: data.labels, rows: [data.train.rows, data.val.rows] }))
    .digest('hex')
    .slice(0, 32);
  const trainData: TrainData = { train: data.train, trainY: data.trainY, val: data.val, valY: data.valY, classWeight: data.classWeight, classes };
  const written: Array<{ file: string; at: number }> = [];
  const resumeFile = spec.resume?.checkpoint.path ?? null;
  if (resumeFile !== null && !existsSync(resumeFile)) return refuse(`checkpoint file ${resumeFile} does not exist`);

  const abstainData = { labels: data.labels, train: data.train, trainY: data.trainY, val: data.val, valY: data.valY, classWeight: data.classWeight, oosClass: options.oosClass };
  // The simulated-OOS model trains in a thread while the real one trains here (parallel-simulation.ts).
  const simulation =
    options.abstain && needsSimulation(abstainData, options.abstain)
      ? startSimulation({ data: abstainData, policy: options.abstain, settings, scratchFile: path.join(spec.workDir, 'simulated-oos.bin') }, (message) =>
          emit({ type: 'log', level: 'info', message }),
        )
      : null;
  const simulationStarted = Date.now();

  let outcome;
  try {
    outcome = await train(trainData, settings, fingerprint, {
      metric: (step, name, value) => emit({ type: 'metric', step, name, value }),
      log: (message) => emit({ type: 'log', level: 'info', message }),
      checkpointPath: (step) => path.join(spec.workDir, `checkpoint-${step}.bin`),
      checkpointEvery: options.checkpointEvery,
      stopRequested: () => options.stop.requested,
      checkpoint: (step, file, state) => {
        emit({ type: 'checkpoint', step, path: file, state });
        // The worker reads a reported file after the line reaches it, which under load can be a
        // while: delete a file only once two newer ones exist and it was reported a minute ago.
        if (written.at(-1)?.file !== file) written.push({ file, at: Date.now() });
        for (let oldest = written[0]; oldest && written.length > 2 && Date.now() - oldest.at > CHECKPOINT_KEEP_MS; oldest = written[0]) {
          rmSync(oldest.file, { force: true });
          written.shift();
        }
      },
    }, resumeFile);
  } catch (error) {
    await simulation?.stop();
    return refuse(error instanceof Error ? error.message : String(error));
  }
  if (outcome.kind === 'stopped') {
    await simulation?.stop();
    emit({ type: 'log', level: 'info', message: `SIGTERM: checkpointed at step ${outcome.step}; exiting (a resumed run simulates out-of-scope rows again)` });
    await exitAfterFlush(143);
    return;
  }
  let simulated: ThresholdChoice | null = null;
  if (simulation) {
    let choice: ThresholdChoice | 'stopped';
    try {
      choice = await untilStopped(simulation.choice, options.stop);
    } catch (error) {
      return refuse(error instanceof Error ? error.message : String(error));
    }
    if (choice === 'stopped') {
      // The real model is trained but not exported; a resumed run from the last checkpoint redoes the rest.
      await simulation.stop();
      emit({ type: 'log', level: 'info', message: 'SIGTERM while the simulated-OOS model was still training; exiting (a resumed run simulates again)' });
      await exitAfterFlush(143);
      return;
    }
    simulated = choice;
    emit({ type: 'log', level: 'info', message: `abstain threshold ${simulated.threshold.toFixed(4)} from simulated OOS (thread done ${Date.now() - simulationStarted} ms after start): in-scope accuracy ${simulated.inScopeAccuracy?.toFixed(4)}, OOS recall ${simulated.oosRecall?.toFixed(4)}` });
  }

  const net = outcome.net;
  const confidenceKind = options.abstain?.confidence ?? 'max-probability';
  // With a simulated threshold the real model's validation confidences are not used: only its
  // references (for the export) are computed, not the cosines (on Banking77, 1,005 rows × 9k references).
  let scoredVal: Pick<ScoredRows, 'probabilities' | 'kind' | 'head'>;
  let threshold: ThresholdChoice | null;
  if (simulated) {
    scoredVal = referencesOnly(net, data, confidenceKind, settings.seed, options.oosClass);
    threshold = simulated;
  } else {
    const scored = scoreRows(net, data.train, data.trainY, data.val, confidenceKind, settings.seed, options.oosClass);
    scoredVal = scored;
    threshold = options.abstain ? thresholdFromValidation(abstainData, options.abstain, scored) : null;
  }
  const valProbabilities = scoredVal.probabilities;
  const valFigures = accuracyAndLoss(valProbabilities, data.valY, classes);
  const confidence: ConfidenceScore = scoredVal.kind;
  const testProbabilities = net.predict(data.test);
  const testFigures = accuracyAndLoss(testProbabilities, data.testY, classes);
  const metrics: Record<string, number | null> = {
    valAccuracy: finite(valFigures.accuracy),
    valLoss: finite(valFigures.loss),
    ...(threshold
      ? {
          threshold: threshold.threshold,
          valInScopeAccuracyAtThreshold: threshold.inScopeAccuracy,
          valOosRecallAtThreshold: threshold.oosRecall,
          valNoAbstainAccuracy: threshold.noAbstainAccuracy,
          valOosAuroc: threshold.oosAuroc,
        }
      : {}),
    ...(data.test.rows > 0 ? { testAccuracy: finite(testFigures.accuracy), testLoss: finite(testFigures.loss) } : {}),
    ...(options.extraMetrics?.(valProbabilities) ?? {}),
    trainRows: data.train.rows,
    valRows: data.val.rows,
    testRows: data.test.rows,
    bestEpoch: outcome.bestEpoch,
  };
  for (const [name, value] of Object.entries(metrics)) if (typeof value === 'number' && /^(val|test)/.test(name)) emit({ type: 'metric', step: outcome.steps, name: `final_${name}`, value });

  const featurizer = options.featurizerSpec(threshold, confidence);
  publishArtifact(spec.workDir, 'model', 'model.onnx', exportOnnx(net, data.labels, options.onnxInput ?? 'features', scoredVal.head, confidence), 'application/onnx');
  publishArtifact(spec.workDir, 'featurizer', 'featurizer.json', `${JSON.stringify(featurizer)}\n`, 'application/json');
  publishArtifact(spec.workDir, 'metrics', 'metrics.json', `${JSON.stringify({ metrics, threshold, history: outcome.history }, null, 2)}\n`, 'application/json');
  if (data.test.rows > 0) {
    const rows = Array.from({ length: data.test.rows }, (_, r) => Array.from(testProbabilities.subarray(r * classes, (r + 1) * classes)));
    // The confidence the threshold applies to, when it is not the top probability (the ONNX `confidence` output).
    const testConfidence = scoredVal.head ? Array.from(headConfidence(net, scoredVal.head, data.test, testProbabilities)) : undefined;
    publishArtifact(spec.workDir, 'predictions', 'predictions.json', `${JSON.stringify({ split: 'test', labels: data.labels, lines: data.testLines, probabilities: rows, ...(testConfidence ? { confidence: testConfidence } : {}) })}\n`, 'application/json');
  }
  emit({
    type: 'result',
    value: {
      labels: [...data.labels],
      metrics,
      threshold: threshold?.threshold ?? 0,
      ...(threshold ? { operatingPoint: operatingPointSummary(threshold) } : {}),
      steps: outcome.steps,
      epochs: outcome.epochs,
      featureCount: data.train.cols,
      onnxInput: options.onnxInput ?? 'features',
      resumedFrom: outcome.resumedFrom,
    },
  });
  await exitAfterFlush(0);
}

function exportOnnx(net: Network, labels: readonly string[], input: 'features' | 'embedding-bag', head: ConfidenceHead | null, confidence: ConfidenceScore): Uint8Array {
  const { features, hidden, classes } = net.shape;
  const build = input === 'embedding-bag' ? embeddingBagClassifierModel : classifierModel;
  return build({ features, hidden, classes, ...net.weights, ...(head ? { confidence: head } : {}) }, { labels: JSON.stringify(labels), input, confidence });
}

/** The threshold choice without its curve (the curve is in metrics.json): what the registry and the card show. */
function operatingPointSummary(choice: ThresholdChoice): Record<string, unknown> {
  const { curve: _curve, ...rest } = choice;
  return rest;
}

/** What `scoreRows` gives but the validation confidences: the probabilities, the confidence kind and its head (references left out of the OOS class, as there). */
function referencesOnly(net: Network, data: PreparedSplits, kind: ConfidenceScore, seed: number, oosClass = -1): Pick<ScoredRows, 'probabilities' | 'kind' | 'head'> {
  const head = confidenceHead(kind, net, data.train, inScopeLabels(data.trainY, oosClass), seed);
  return { probabilities: net.predict(data.val), kind: head ? kind : 'max-probability', head };
}

/** `promise`'s value, or `stopped` as soon as a stop is requested (polled every 100 ms). */
async function untilStopped<T>(promise: Promise<T>, stop: StopFlag): Promise<T | 'stopped'> {
  let timer: NodeJS.Timeout | undefined;
  const stopped = new Promise<'stopped'>((resolve) => {
    const poll = (): void => {
      if (stop.requested) resolve('stopped');
      else timer = setTimeout(poll, 100);
    };
    poll();
  });
  try {
    return await Promise.race([promise, stopped]);
  } finally {
    clearTimeout(timer);
  }
}

function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
