/**
 * Inference for a trained text-classifier: featurizer.json + model.onnx → labels and probabilities.
 *
 *   const classifier = await TextClassifier.load('/path/to/featurizer.json', '/path/to/model.onnx');
 *   const [p] = await classifier.predict(['I lost my card']);
 *   // p = { label: 'lost_or_stolen_card', topLabel: 'lost_or_stolen_card', probability: 0.93, abstained: false }
 *
 * `label` is null when the model abstains: its confidence is below the calibrated threshold, or the
 * top class is the OOS label. The confidence is the model's `confidence` output (a match with class
 * prototypes, the nearest training row or a class centroid, featurizer.json `confidence`) or else the top probability. `topLabel` is always
 * the argmax.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { argmax } from '../ml/matrix.ts';
import { bagFeeds, toEmbeddingBag } from './bag.ts';
import { Featurizer, hasConfidenceOutput, textFeaturizerSpecSchema, type TextFeaturizerSpec } from './featurizer.ts';

export interface TextPrediction {
  /** The predicted label, or null when abstaining ("none of these"). */
  readonly label: string | null;
  /** The most probable label, abstaining or not. */
  readonly topLabel: string;
  /** Its probability. */
  readonly probability: number;
  /** What was compared with the threshold: the model's `confidence` output, or the top probability. */
  readonly confidence: number;
  readonly abstained: boolean;
}

/**
 * Rows per ONNX run. Dense: bounds the input to batch × featureCount floats. Embedding bag: the
 * Gather materialises batch × longest row × width floats, so batches stay small.
 */
const BATCH = { features: 256, 'embedding-bag': 32 } as const;

export class TextClassifier {
  private constructor(
    readonly spec: TextFeaturizerSpec,
    readonly featurizer: Featurizer,
    private readonly session: ort.InferenceSession,
  ) {}

  static async load(featurizerJson: string, modelOnnx: string): Promise<TextClassifier> {
    const parsed = textFeaturizerSpecSchema.safeParse(JSON.parse(readFileSync(featurizerJson, 'utf8')) as unknown);
    if (!parsed.success) throw new Error(`${featurizerJson} is not a text-classifier featurizer spec: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const session = await ort.InferenceSession.create(modelOnnx);
    return new TextClassifier(parsed.data, Featurizer.fromSpec(parsed.data), session);
  }

  get labels(): readonly string[] {
    return this.spec.labels;
  }

  get threshold(): number {
    return this.spec.threshold;
  }

  /** Class probabilities, [texts.length, labels.length] row-major. */
  async probabilities(texts: readonly string[]): Promise<Float32Array> {
    return (await this.scores(texts)).probabilities;
  }

  /**
   * Class probabilities and each row's confidence (compared with the threshold): the model's
   * `confidence` output when featurizer.json names one (`prototype-cosine`, `nearest-cosine`, `centroid-cosine`), else the top probability.
   */
  async scores(texts: readonly string[]): Promise<{ probabilities: Float32Array; confidence: Float32Array }> {
    const classes = this.spec.labels.length;
    const out = new Float32Array(texts.length * classes);
    const confidence = new Float32Array(texts.length);
    const fromModel = hasConfidenceOutput(this.spec);
    const batch = BATCH[this.spec.model.input];
    for (let from = 0; from < texts.length; from += batch) {
      const chunk = texts.slice(from, from + batch);
      const result = await this.session.run(this.feeds(chunk));
      const probabilities = result.probabilities;
      if (!probabilities) throw new Error('the model has no `probabilities` output');
      out.set(probabilities.data as Float32Array, from * classes);
      if (fromModel) {
        if (!result.confidence) throw new Error(`featurizer.json says confidence ${String(this.spec.confidence)} but the model has no \`confidence\` output`);
        confidence.set(result.confidence.data as Float32Array, from);
      }
    }
    if (!fromModel) for (let r = 0; r < texts.length; r++) confidence[r] = out[r * classes + argmax(out, r * classes, classes)] as number;
    return { probabilities: out, confidence };
  }

  /** The ONNX inputs for `texts`, in the form the model takes (featurizer.json `model.input`). */
  feeds(texts: readonly string[]): Record<string, ort.Tensor> {
    if (this.spec.model.input === 'embedding-bag') return bagFeeds(toEmbeddingBag(this.featurizer.transformSparse(texts)));
    const features = this.featurizer.transform(texts);
    return { features: new ort.Tensor('float32', features.data, [features.rows, features.cols]) };
  }

  async predict(texts: readonly string[]): Promise<TextPrediction[]> {
    const classes = this.spec.labels.length;
    const { probabilities, confidence } = await this.scores(texts);
    return texts.map((_, r) => {
      const top = argmax(probabilities, r * classes, classes);
      const topLabel = this.spec.labels[top] as string;
      const probability = probabilities[r * classes + top] as number;
      const rowConfidence = confidence[r] as number;
      const abstained = rowConfidence < this.spec.threshold || topLabel === this.spec.oosLabel;
      return { label: abstained ? null : topLabel, topLabel, probability, confidence: rowConfidence, abstained };
    });
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
