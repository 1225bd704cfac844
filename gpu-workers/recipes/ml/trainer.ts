/**
 * The training loop shared by the classifier recipes: shuffled minibatches, Adam, per-epoch
 * validation with early stopping (the best epoch's weights are kept), checkpoints every N steps and
 * on request (SIGTERM), and an exact resume: a checkpoint holds weights, Adam moments, the best
 * weights so far, the PRNG state, the epoch's permutation and position, so a resumed run ends with
 * bit-identical weights. The loop yields to the event loop after every step so a signal is seen.
 */
import { Adam, zeroMoments } from './adam.ts';
import { accuracyAndLoss } from './metrics.ts';
import type { Csr } from './matrix.ts';
import { Network, type NetworkShape, type NetworkWeights } from './network.ts';
import { Prng } from './prng.ts';
import { readTensorFile, writeTensorFile } from './tensor-file.ts';
import { StepRunner } from './train-step.ts';

export interface TrainSettings {
  readonly hidden: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly l2: number;
  readonly dropout: number;
  readonly labelSmoothing: number;
  readonly seed: number;
  /** Epochs without a better validation score before stopping. */
  readonly patience: number;
  /** `linear`: the learning rate decays linearly to 0 over all epochs' steps; `constant`: no decay. */
  readonly schedule: 'linear' | 'constant';
}

export interface TrainData {
  readonly train: Csr;
  readonly trainY: Int32Array;
  /** Validation rows with a known label (may have 0 rows: then no early stopping). */
  readonly val: Csr;
  readonly valY: Int32Array;
  readonly classWeight: Float32Array;
  readonly classes: number;
}

export interface EpochRecord {
  epoch: number;
  step: number;
  trainLoss: number;
  valAccuracy: number | null;
  valLoss: number | null;
}

export interface TrainHooks {
  metric(step: number, name: string, value: number): void;
  log(message: string): void;
  /** Called with a checkpoint file just written (complete) and its small state. */
  checkpoint(step: number, file: string, state: Record<string, unknown>): void;
  /** Polled before every step: true makes the loop checkpoint and return `stopped`. */
  stopRequested(): boolean;
  /** Where the checkpoint for `step` goes. */
  checkpointPath(step: number): string;
  readonly checkpointEvery: number;
}

export type TrainOutcome =
  | { kind: 'done'; net: Network; history: EpochRecord[]; steps: number; epochs: number; bestEpoch: number; resumedFrom: number }
  | { kind: 'stopped'; step: number };

interface Session {
  net: Network;
  adam: Adam;
  best: NetworkWeights | null;
  bestAccuracy: number;
  bestLoss: number;
  bestEpoch: number;
  badEpochs: number;
  rng: Prng;
  epoch: number;
  position: number;
  permutation: Int32Array | null;
  step: number;
  lossSum: number;
  lossCount: number;
  history: EpochRecord[];
}

const copyWeights = (w: NetworkWeights): NetworkWeights => ({ w1: w.w1.slice(), b1: w.b1.slice(), w2: w.w2.slice(), b2: w.b2.slice() });
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Trains from scratch, or from `resumeFile` (a checkpoint this function wrote for the same data and settings). */
export async function train(data: TrainData, settings: TrainSettings, fingerprint: string, hooks: TrainHooks, resumeFile: string | null): Promise<TrainOutcome> {
  const shape: NetworkShape = { features: data.train.cols, hidden: settings.hidden, classes: data.classes };
  const session = resumeFile === null ? fresh(shape, settings) : load(resumeFile, shape, settings, fingerprint);
  const resumedFrom = resumeFile === null ? 0 : session.step;
  if (resumeFile !== null) hooks.log(`resumed at step ${session.step} (epoch ${session.epoch + 1}, batch ${session.position})`);
  const runner = new StepRunner(session.net, session.adam, settings);
  const n = data.train.rows;
  const batches = Math.ceil(n / settings.batchSize);
  const hasVal = data.val.rows > 0;

  const checkpoint = (): void => {
    const file = hooks.checkpointPath(session.step);
    save(file, session, fingerprint);
    hooks.checkpoint(session.step, file, { step: session.step, epoch: session.epoch, batch: session.position });
  };

  while (session.epoch < settings.epochs && (!hasVal || session.badEpochs < settings.patience)) {
    if (session.permutation === null) {
      const order = new Int32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
      session.permutation = session.rng.shuffle(order);
    }
    while (session.position < batches) {
      if (hooks.stopRequested()) {
        checkpoint();
        return { kind: 'stopped', step: session.step };
      }
      const from = session.position * settings.batchSize;
      const batch = session.permutation.subarray(from, Math.min(n, from + settings.batchSize));
      const lrScale = settings.schedule === 'linear' ? 1 - session.step / (batches * settings.epochs) : 1;
      const loss = runner.step(data.train, data.trainY, data.classWeight, batch, session.rng, lrScale);
      session.lossSum += loss * batch.length;
      session.lossCount += batch.length;
      session.position += 1;
      session.step += 1;
      if (session.step % 50 === 0) hooks.metric(session.step, 'loss', loss);
      if (hooks.checkpointEvery > 0 && session.step % hooks.checkpointEvery === 0) checkpoint();
      await yieldToLoop();
    }
    endEpoch(session, data, hooks, hasVal);
  }
  if (session.best !== null) Object.assign(session.net.weights, session.best);
  const epochs = session.history.length;
  return { kind: 'done', net: session.net, history: session.history, steps: session.step, epochs, bestEpoch: session.bestEpoch, resumedFrom };
}

function endEpoch(session: Session, data: TrainData, hooks: TrainHooks, hasVal: boolean): void {
  const trainLoss = session.lossCount > 0 ? session.lossSum / session.lossCount : Number.NaN;
  const record: EpochRecord = { epoch: session.epoch + 1, step: session.step, trainLoss, valAccuracy: null, valLoss: null };
  hooks.metric(session.step, 'train_loss', trainLoss);
  if (hasVal) {
    const { accuracy, loss } = accuracyAndLoss(session.net.predict(data.val), data.valY, data.classes);
    record.valAccuracy = accuracy;
    record.valLoss = loss;
    hooks.metric(session.step, 'val_accuracy', accuracy);
    hooks.metric(session.step, 'val_loss', loss);
    if (accuracy > session.bestAccuracy || (accuracy === session.bestAccuracy && loss < session.bestLoss)) {
      session.bestAccuracy = accuracy;
      session.bestLoss = loss;
      session.bestEpoch = record.epoch;
      session.best = copyWeights(session.net.weights);
      session.badEpochs = 0;
    } else {
      session.badEpochs += 1;
    }
  } else {
    session.bestEpoch = record.epoch;
  }
  hooks.metric(session.step, 'epoch', record.epoch);
  hooks.log(
    `epoch ${record.epoch}: train loss ${trainLoss.toFixed(4)}` +
      (hasVal ? `, val accuracy ${(record.valAccuracy ?? 0).toFixed(4)}, val loss ${(record.valLoss ?? 0).toFixed(4)}` : ''),
  );
  session.history.push(record);
  session.epoch += 1;
  session.position = 0;
  session.permutation = null;
  session.lossSum = 0;
  session.lossCount = 0;
}

function fresh(shape: NetworkShape, settings: TrainSettings): Session {
  const rng = Prng.fromSeed(settings.seed);
  const net = Network.initial(shape, rng);
  const adam = new Adam(settings, { t: 0, m: zeroMoments(net.weights), v: zeroMoments(net.weights) });
  return {
    net, adam, best: null, bestAccuracy: -1, bestLoss: Infinity, bestEpoch: 0, badEpochs: 0, rng,
    epoch: 0, position: 0, permutation: null, step: 0, lossSum: 0, lossCount: 0, history: [],
  };
}

const WEIGHT_KEYS = ['w1', 'b1', 'w2', 'b2'] as const;

function save(file: string, s: Session, fingerprint: string): void {
  const tensors: Record<string, Float32Array | Int32Array> = {};
  for (const key of WEIGHT_KEYS) {
    tensors[`w.${key}`] = s.net.weights[key];
    tensors[`m.${key}`] = s.adam.state.m[key];
    tensors[`v.${key}`] = s.adam.state.v[key];
    if (s.best !== null) tensors[`best.${key}`] = s.best[key];
  }
  if (s.permutation !== null) tensors.permutation = s.permutation;
  const header = {
    fingerprint,
    adamT: s.adam.state.t,
    hasBest: s.best !== null,
    bestAccuracy: s.bestAccuracy,
    bestLoss: s.bestLoss === Infinity ? null : s.bestLoss,
    bestEpoch: s.bestEpoch,
    badEpochs: s.badEpochs,
    rng: s.rng.state(),
    epoch: s.epoch,
    position: s.position,
    step: s.step,
    lossSum: s.lossSum,
    lossCount: s.lossCount,
    history: s.history,
  };
  writeTensorFile(file, header, tensors);
}

interface SavedHeader {
  fingerprint: string;
  adamT: number;
  hasBest: boolean;
  bestAccuracy: number;
  bestLoss: number | null;
  bestEpoch: number;
  badEpochs: number;
  rng: number[];
  epoch: number;
  position: number;
  step: number;
  lossSum: number;
  lossCount: number;
  history: EpochRecord[];
}

function load(file: string, shape: NetworkShape, settings: TrainSettings, fingerprint: string): Session {
  const { header: raw, tensors } = readTensorFile(file);
  const h = raw as unknown as SavedHeader;
  if (h.fingerprint !== fingerprint) {
    throw new Error(`checkpoint ${file} was written for different data or params (fingerprint ${h.fingerprint}, this run ${fingerprint})`);
  }
  const f32 = (name: string): Float32Array => {
    const t = tensors.get(name);
    if (!(t instanceof Float32Array)) throw new Error(`checkpoint ${file} has no tensor ${name}`);
    return t;
  };
  const weightsOf = (prefix: string): NetworkWeights => ({ w1: f32(`${prefix}.w1`), b1: f32(`${prefix}.b1`), w2: f32(`${prefix}.w2`), b2: f32(`${prefix}.b2`) });
  const net = new Network(shape, weightsOf('w'));
  const adam = new Adam(settings, { t: h.adamT, m: weightsOf('m'), v: weightsOf('v') });
  const permutation = tensors.get('permutation');
  return {
    net,
    adam,
    best: h.hasBest ? weightsOf('best') : null,
    bestAccuracy: h.bestAccuracy,
    bestLoss: h.bestLoss ?? Infinity,
    bestEpoch: h.bestEpoch,
    badEpochs: h.badEpochs,
    rng: Prng.fromState(h.rng),
    epoch: h.epoch,
    position: h.position,
    permutation: permutation instanceof Int32Array ? permutation : null,
    step: h.step,
    lossSum: h.lossSum,
    lossCount: h.lossCount,
    history: h.history,
  };
}
