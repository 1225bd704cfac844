/**
 * One model version loaded for serving: its featuriser and an ONNX session. The session's inputs
 * say which form it takes — `features` [N, F] float32 (dense, every registry version so far), or an
 * embedding bag: `ids` int64 [N, L] and `weights` float32 [N, L], a row padded with id F (the
 * vocabulary size, an all-zero row of the first layer) and weight 0. Output `probabilities` [N, C],
 * and `confidence` [N] for a model whose threshold applies to it (featurizer.json `confidence` other
 * than 'max-probability'): `run` then appends it to each row as column C (see `width`).
 */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { featurizerFromSpec, type Csr, type ServingFeaturizer } from './featurizers.ts';

export type InputForm = 'dense' | 'sparse';

/** One featurised input: its active feature ids and their weights. */
export interface FeatureRow {
  readonly indices: Int32Array;
  readonly values: Float32Array;
}

export interface SessionSettings {
  /** onnxruntime's intra-op threads per session. */
  intraOpThreads: number;
}

export class ServingModel {
  private constructor(
    readonly featurizer: ServingFeaturizer,
    private readonly session: ort.InferenceSession,
    readonly form: InputForm,
    /** Bytes this model is estimated to hold in memory (for the cache's bound). */
    readonly bytes: number,
  ) {}

  static async load(featurizerFile: string, modelFile: string, settings: SessionSettings): Promise<ServingModel> {
    const [featurizerText, modelBytes] = await Promise.all([readFile(featurizerFile, 'utf8'), readFile(modelFile)]);
    const featurizer = featurizerFromSpec(JSON.parse(featurizerText) as unknown);
    const session = await ort.InferenceSession.create(modelBytes, {
      intraOpNumThreads: settings.intraOpThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    const names = session.inputNames;
    let form: InputForm;
    if (names.includes('ids') && names.includes('weights')) form = 'sparse';
    else if (names.includes('features')) form = 'dense';
    else {
      await session.release();
      throw new Error(`model.onnx takes inputs ${names.join(', ')}; expected features, or ids and weights`);
    }
    // Weights once in the session plus the featuriser's vocabulary maps (a few times the JSON).
    const bytes = modelBytes.byteLength * 2 + featurizerText.length * 3;
    return new ServingModel(featurizer, session, form, bytes);
  }

  get labels(): readonly string[] {
    return this.featurizer.labels;
  }

  /** Featurises inputs (already validated) into one row each. */
  featurize(inputs: readonly unknown[]): FeatureRow[] {
    const csr: Csr = this.featurizer.transform(inputs);
    const rows: FeatureRow[] = [];
    for (let r = 0; r < csr.rows; r++) {
      const from = csr.indptr[r] as number;
      const to = csr.indptr[r + 1] as number;
      rows.push({ indices: csr.indices.subarray(from, to), values: csr.values.subarray(from, to) });
    }
    return rows;
  }

  /** Values per row `run` returns: the class probabilities, then the confidence when the model has one. */
  get width(): number {
    return this.labels.length + (this.featurizer.confidence === 'max-probability' ? 0 : 1);
  }

  /** Per row the class probabilities (and the confidence, see `width`), [rows.length × width] row-major. */
  async run(rows: readonly FeatureRow[]): Promise<Float32Array> {
    if (this.form === 'dense') return this.runFeeds(this.denseFeeds(rows), rows.length);
    // An embedding bag pads every row to the longest one: a batch of mixed lengths would cost the
    // longest row's work for each (five times the single-row cost per row was measured at 64 rows).
    // Rows sorted by length run in chunks whose padding stays under a quarter of their work.
    const order = rows.map((_, i) => i).sort((a, b) => (rows[a] as FeatureRow).indices.length - (rows[b] as FeatureRow).indices.length);
    const chunks: number[][] = [];
    let chunk: number[] = [];
    let work = 0;
    for (const index of order) {
      const length = Math.max(1, (rows[index] as FeatureRow).indices.length);
      if (chunk.length > 0 && (chunk.length + 1) * length > 1.25 * (work + length)) {
        chunks.push(chunk);
        chunk = [];
        work = 0;
      }
      chunk.push(index);
      work += length;
    }
    if (chunk.length > 0) chunks.push(chunk);
    if (chunks.length === 1) return this.runFeeds(this.sparseFeeds(rows), rows.length);
    const width = this.width;
    const out = new Float32Array(rows.length * width);
    // All chunks are handed to onnxruntime in the same turn (it runs them one after another).
    const results = await Promise.all(chunks.map((indices) => this.runFeeds(this.sparseFeeds(indices.map((i) => rows[i] as FeatureRow)), indices.length)));
    chunks.forEach((indices, c) => {
      const values = results[c] as Float32Array;
      indices.forEach((row, k) => out.set(values.subarray(k * width, (k + 1) * width), row * width));
    });
    return out;
  }

  /** One onnxruntime run of `count` rows: [count × width] (probabilities, then the confidence when there is one). */
  private async runFeeds(feeds: Record<string, ort.Tensor>, count: number): Promise<Float32Array> {
    const result = await this.session.run(feeds);
    const probabilities = result.probabilities;
    if (!probabilities) throw new Error('the model has no `probabilities` output');
    if (this.featurizer.confidence === 'max-probability') return probabilities.data as Float32Array;
    const confidence = result.confidence;
    if (!confidence) throw new Error(`featurizer.json says confidence ${this.featurizer.confidence} but the model has no \`confidence\` output`);
    const classes = this.labels.length;
    const out = new Float32Array(count * (classes + 1));
    const data = probabilities.data as Float32Array;
    for (let r = 0; r < count; r++) {
      out.set(data.subarray(r * classes, (r + 1) * classes), r * (classes + 1));
      out[r * (classes + 1) + classes] = confidence.data[r] as number;
    }
    return out;
  }

  private denseFeeds(rows: readonly FeatureRow[]): Record<string, ort.Tensor> {
    const width = this.featurizer.featureCount;
    const data = new Float32Array(rows.length * width);
    rows.forEach((row, r) => {
      for (let k = 0; k < row.indices.length; k++) data[r * width + (row.indices[k] as number)] = row.values[k] as number;
    });
    return { features: new ort.Tensor('float32', data, [rows.length, width]) };
  }

  private sparseFeeds(rows: readonly FeatureRow[]): Record<string, ort.Tensor> {
    const length = Math.max(1, ...rows.map((row) => row.indices.length));
    const pad = BigInt(this.featurizer.featureCount);
    const ids = new BigInt64Array(rows.length * length).fill(pad);
    const weights = new Float32Array(rows.length * length);
    rows.forEach((row, r) => {
      for (let k = 0; k < row.indices.length; k++) {
        ids[r * length + k] = BigInt(row.indices[k] as number);
        weights[r * length + k] = row.values[k] as number;
      }
    });
    return { ids: new ort.Tensor('int64', ids, [rows.length, length]), weights: new ort.Tensor('float32', weights, [rows.length, length]) };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
