/**
 * A trained classifier as the evaluation recipe uses it: dataset rows → class probabilities, for the
 * text-classifier (TF-IDF featurizer) and the tabular-classifier (standardise + one-hot). Which one a
 * model is comes from `kind` in its featurizer.json. Every problem is a `DataError` naming the file.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { errorMessage } from '../../../contracts/errors.ts';
import { DataError, type DatasetRow } from '../ml/dataset.ts';
import { TabularFeaturizer, tabularFeaturizerSpecSchema } from '../tabular-classifier/featurizer.ts';
import { hasConfidenceOutput } from '../text-classifier/featurizer.ts';
import { TextClassifier } from '../text-classifier/predict.ts';

/** Rows per ONNX run for tabular models (the text classifier batches by itself). */
const BATCH = 256;

export interface Scorer {
  readonly kind: 'text' | 'tabular';
  /** The classes, in the order of the probability columns. */
  readonly labels: readonly string[];
  /** The abstain threshold saved with the model. */
  readonly threshold: number;
  /** Predicting this class counts as abstaining (text models); null when the model has none. */
  readonly oosLabel: string | null;
  /** The dataset columns it reads. */
  readonly columns: readonly string[];
  /**
   * Probabilities [rows.length, labels.length] row-major, and each row's confidence when the model
   * compares something else than the top probability with its threshold (a text model's centroid
   * cosine), else null.
   */
  scores(rows: readonly DatasetRow[]): Promise<{ probabilities: Float32Array; confidence: Float32Array | null }>;
  release(): Promise<void>;
}

function readFeaturizer(file: string, what: string): Record<string, unknown> {
  if (!existsSync(file)) throw new DataError(`${what}: featurizer ${file} does not exist`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch {
    throw new DataError(`${what}: featurizer ${file} is not valid JSON`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new DataError(`${what}: featurizer ${file} is not a JSON object`);
  return json as Record<string, unknown>;
}

export async function loadScorer(featurizerFile: string, modelFile: string, options: { what: string; textColumn: string }): Promise<Scorer> {
  const { what } = options;
  const spec = readFeaturizer(featurizerFile, what);
  if (!existsSync(modelFile)) throw new DataError(`${what}: model ${modelFile} does not exist`);
  if (spec.kind === 'anvil.text-featurizer') return textScorer(featurizerFile, modelFile, options);
  if (spec.kind === 'anvil.tabular-featurizer') return tabularScorer(spec, modelFile, what);
  throw new DataError(`${what}: featurizer ${featurizerFile} has kind ${JSON.stringify(spec.kind)}; expected anvil.text-featurizer or anvil.tabular-featurizer`);
}

async function textScorer(featurizerFile: string, modelFile: string, options: { what: string; textColumn: string }): Promise<Scorer> {
  let classifier: TextClassifier;
  try {
    classifier = await TextClassifier.load(featurizerFile, modelFile);
  } catch (error) {
    throw new DataError(`${options.what}: cannot load the text classifier (${featurizerFile}, ${modelFile}): ${errorMessage(error)}`);
  }
  const column = options.textColumn;
  return {
    kind: 'text',
    labels: classifier.labels,
    threshold: classifier.threshold,
    oosLabel: classifier.spec.oosLabel,
    columns: [column],
    async scores(rows) {
      const texts = rows.map((row) => {
        const value = row.values[column];
        if (typeof value !== 'string') throw new DataError(`line ${row.line} has no string in the text column '${column}'`);
        return value;
      });
      const { probabilities, confidence } = await classifier.scores(texts);
      return { probabilities, confidence: hasConfidenceOutput(classifier.spec) ? confidence : null };
    },
    release: () => classifier.release(),
  };
}

async function tabularScorer(raw: Record<string, unknown>, modelFile: string, what: string): Promise<Scorer> {
  const parsed = tabularFeaturizerSpecSchema.safeParse(raw);
  if (!parsed.success) throw new DataError(`${what}: not a tabular-classifier featurizer spec: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const spec = parsed.data;
  const featurizer = TabularFeaturizer.fromSpec(spec);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(modelFile);
  } catch (error) {
    throw new DataError(`${what}: cannot load the ONNX model ${modelFile}: ${errorMessage(error)}`);
  }
  const classes = spec.labels.length;
  return {
    kind: 'tabular',
    labels: spec.labels,
    threshold: spec.threshold,
    oosLabel: null,
    columns: [...spec.numeric.map((c) => c.column), ...spec.categorical.map((c) => c.column)],
    async scores(rows) {
      const out = new Float32Array(rows.length * classes);
      for (let from = 0; from < rows.length; from += BATCH) {
        const features = featurizer.transform(rows.slice(from, from + BATCH).map((row) => row.values));
        const result = await session.run({ features: new ort.Tensor('float32', features.data, [features.rows, features.cols]) });
        const probabilities = result.probabilities;
        if (!probabilities) throw new DataError(`${what}: the model has no \`probabilities\` output`);
        if (probabilities.data.length !== features.rows * classes) {
          throw new DataError(`${what}: the model outputs ${probabilities.data.length / Math.max(1, features.rows)} classes, the featurizer lists ${classes}`);
        }
        out.set(probabilities.data as Float32Array, from * classes);
      }
      return { probabilities: out, confidence: null };
    },
    release: () => session.release(),
  };
}
