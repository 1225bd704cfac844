/**
 * The offline planner (no LLM): `createOfflinePlanner()` loads the committed intent model
 * (model/featurizer.json + model/model.onnx, trained by `npm run agent:train-planner`) and returns a
 * `Planner`. See docs/agent.md, "Offline planner".
 */
import type { Planner } from '../../plan.ts';
import { PHRASINGS } from './data/phrasings.ts';
import { IntentModel } from './intent-model.ts';
import { OfflinePlanner } from './planner.ts';

export interface OfflinePlannerOptions {
  /** A folder holding featurizer.json and model.onnx; default the committed model beside this file. */
  readonly modelDir?: URL;
  /**
   * Top-probability floor below which the answer is "I don't know how to do that". Default: the
   * threshold the recipe calibrated on validation, but at least DEFAULT_MIN_CONFIDENCE (the
   * calibration sees only the training phrasings' out-of-scope rows and may pick 0).
   */
  readonly minConfidence?: number;
}

export const DEFAULT_MIN_CONFIDENCE = 0.35;

export const DEFAULT_MODEL_DIR = new URL('./model/', import.meta.url);

/** Every word of the training phrasings: command words, never read as a name. */
export function commandWords(): Set<string> {
  const words = new Set<string>();
  for (const phrasings of Object.values(PHRASINGS)) {
    for (const phrasing of phrasings) for (const word of phrasing.replace(/\{\w+\}/g, ' ').toLowerCase().match(/[\p{L}\p{N}_'-]+/gu) ?? []) words.add(word);
  }
  return words;
}

export async function createOfflinePlanner(options: OfflinePlannerOptions = {}): Promise<OfflinePlanner & Planner> {
  const dir = options.modelDir ?? DEFAULT_MODEL_DIR;
  const model = await IntentModel.load(new URL('featurizer.json', dir), new URL('model.onnx', dir));
  return new OfflinePlanner({ model, commandWords: commandWords(), minConfidence: options.minConfidence ?? Math.max(model.threshold, DEFAULT_MIN_CONFIDENCE) });
}

export { OfflinePlanner, type Analysis, type SlotRecord } from './planner.ts';
export { IntentModel } from './intent-model.ts';
export { parseMoney, currencyExponent } from './money.ts';
