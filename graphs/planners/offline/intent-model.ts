/**
 * The offline planner's intent model at planning time: a `text-classifier` artifact (featurizer.json
 * + model.onnx, trained by `npm run agent:train-planner`) run with onnxruntime-node, the features
 * computed by the same TypeScript featurizer the recipe trained with (contracts/text-featurizer.ts).
 */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { bagFeeds, toEmbeddingBag } from '../../../contracts/embedding-bag.ts';
import { Featurizer, textFeaturizerSpecSchema, type TextFeaturizerSpec } from '../../../contracts/text-featurizer.ts';

export interface IntentGuess {
  /** The most probable intent. */
  readonly intent: string;
  readonly probability: number;
  /** The runner-up, for "did you mean". */
  readonly second?: { readonly intent: string; readonly probability: number };
}

export class IntentModel {
  private constructor(
    readonly spec: TextFeaturizerSpec,
    private readonly featurizer: Featurizer,
    private readonly session: ort.InferenceSession,
  ) {}

  static async load(featurizerJson: URL | string, modelOnnx: URL | string): Promise<IntentModel> {
    const parsed = textFeaturizerSpecSchema.safeParse(JSON.parse(await readFile(featurizerJson, 'utf8')) as unknown);
    if (!parsed.success) throw new Error(`${String(featurizerJson)} is not a text-classifier featurizer spec: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    if (parsed.data.model.input !== 'embedding-bag') throw new Error(`${String(featurizerJson)}: the planner runs embedding-bag models, this one takes '${parsed.data.model.input}'`);
    const session = await ort.InferenceSession.create(await readFile(modelOnnx));
    return new IntentModel(parsed.data, Featurizer.fromSpec(parsed.data), session);
  }

  get labels(): readonly string[] {
    return this.spec.labels;
  }

  /** The abstain threshold the recipe chose on validation. */
  get threshold(): number {
    return this.spec.threshold;
  }

  async classify(texts: readonly string[]): Promise<IntentGuess[]> {
    if (texts.length === 0) return [];
    const result = await this.session.run(bagFeeds(toEmbeddingBag(this.featurizer.transformSparse(texts))));
    const probabilities = result.probabilities?.data;
    if (!(probabilities instanceof Float32Array)) throw new Error('the intent model has no float `probabilities` output');
    const classes = this.spec.labels.length;
    return texts.map((_, row) => {
      const ranked = Array.from(probabilities.subarray(row * classes, (row + 1) * classes), (probability, index) => ({ intent: this.spec.labels[index] as string, probability })).sort(
        (a, b) => b.probability - a.probability,
      );
      const [first, second] = ranked as [IntentGuess, IntentGuess | undefined];
      return { intent: first.intent, probability: first.probability, ...(second ? { second: { intent: second.intent, probability: second.probability } } : {}) };
    });
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
