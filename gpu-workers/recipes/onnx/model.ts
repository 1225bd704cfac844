/**
 * A minimal ONNX ModelProto writer (IR version 8, default-domain opset 17) for the classifier
 * networks, output `probabilities` [N, C] float, N dynamic, in one of two input forms:
 *
 *   dense (`features` [N, F] float):
 *     softmax model:  probabilities = Softmax(MatMul(features, W1) + b1)
 *     MLP:            probabilities = Softmax(MatMul(Relu(MatMul(features, W1) + b1), W2) + b2)
 *   embedding bag (`ids` [N, L] int64, `weights` [N, L] float; see embeddingBagClassifierModel):
 *     the first layer is ReduceSum(Gather(W1, ids) * weights, axis 1) + b1, the rest as above.
 * An MLP given a confidence head has a second output `confidence` [N] (see ClassifierWeights).
 *
 * Field numbers follow onnx/onnx.proto3. Initializers are little-endian `raw_data`.
 */
import { ProtoWriter } from './protobuf.ts';

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;
const FLOAT = 1; // TensorProto.DataType.FLOAT
const INT64 = 7; // TensorProto.DataType.INT64
const ATTRIBUTE_INT = 2; // AttributeProto.AttributeType.INT
const ATTRIBUTE_INTS = 7; // AttributeProto.AttributeType.INTS

export interface Initializer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

export interface OnnxNode {
  readonly op: 'MatMul' | 'Add' | 'Relu' | 'Softmax' | 'Gather' | 'Mul' | 'ReduceSum' | 'Unsqueeze' | 'ReduceMax' | 'LpNormalization' | 'Gemm';
  readonly inputs: readonly string[];
  readonly output: string;
  readonly intAttributes?: Readonly<Record<string, number>>;
  /** List-of-ints attributes (ReduceMax's `axes` at opset 17). */
  readonly intsAttributes?: Readonly<Record<string, readonly number[]>>;
}

/** A graph input or output: its element type and dims (a string is a symbolic dimension). */
export interface ValueSpec {
  readonly name: string;
  readonly type: 'float32' | 'int64';
  readonly dims: readonly (number | string)[];
}

export interface GraphSpec {
  readonly name: string;
  readonly inputs: readonly ValueSpec[];
  readonly output: ValueSpec;
  /** More graph outputs after `output` (e.g. `confidence`). */
  readonly extraOutputs?: readonly ValueSpec[];
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly Initializer[];
  /** Stored as ModelProto.metadata_props. */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly docString?: string;
}

/** Encodes a graph as a complete ONNX model file. */
export function encodeModel(graph: GraphSpec): Uint8Array {
  const model = new ProtoWriter();
  model.int(1, ONNX_IR_VERSION);
  model.string(2, 'anvil');
  model.string(3, '1');
  model.message(7, (g) => writeGraph(g, graph));
  model.message(8, (opset) => opset.string(1, '').int(2, ONNX_OPSET));
  for (const [key, value] of Object.entries(graph.metadata ?? {})) model.message(14, (entry) => entry.string(1, key).string(2, value));
  return model.finish();
}

function writeGraph(g: ProtoWriter, graph: GraphSpec): void {
  graph.nodes.forEach((node, index) => {
    g.message(1, (n) => {
      for (const input of node.inputs) n.string(1, input);
      n.string(2, node.output);
      n.string(3, `${node.op.toLowerCase()}_${index}`);
      n.string(4, node.op);
      for (const [name, value] of Object.entries(node.intAttributes ?? {})) n.message(5, (a) => a.string(1, name).int(3, value).int(20, ATTRIBUTE_INT));
      for (const [name, values] of Object.entries(node.intsAttributes ?? {})) n.message(5, (a) => a.string(1, name).packedInts(8, values).int(20, ATTRIBUTE_INTS));
    });
  });
  g.string(2, graph.name);
  for (const init of graph.initializers) {
    g.message(5, (t) => {
      t.packedInts(1, init.dims);
      t.int(2, init.data instanceof BigInt64Array ? INT64 : FLOAT);
      t.string(8, init.name);
      t.bytes(9, littleEndian(init.data));
    });
  }
  if (graph.docString) g.string(10, graph.docString);
  for (const input of graph.inputs) g.message(11, (v) => valueInfo(v, input));
  g.message(12, (v) => valueInfo(v, graph.output));
  for (const output of graph.extraOutputs ?? []) g.message(12, (v) => valueInfo(v, output));
}

/** ValueInfoProto for a tensor; string dims are symbolic (`N`: the batch). */
function valueInfo(v: ProtoWriter, value: ValueSpec): void {
  v.string(1, value.name);
  v.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, value.type === 'int64' ? INT64 : FLOAT);
      tensor.message(2, (shape) => {
        for (const size of value.dims) shape.message(1, (dim) => (typeof size === 'string' ? dim.string(2, size) : dim.int(1, size)));
      });
    }),
  );
}

function littleEndian(data: Float32Array | BigInt64Array): Uint8Array {
  const bytes = new Uint8Array(data.length * (data instanceof BigInt64Array ? 8 : 4));
  const view = new DataView(bytes.buffer);
  if (data instanceof BigInt64Array) for (let i = 0; i < data.length; i++) view.setBigInt64(i * 8, data[i] as bigint, true);
  else for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i] as number, true);
  return bytes;
}

export interface ClassifierWeights {
  readonly features: number;
  readonly hidden: number;
  readonly classes: number;
  readonly w1: Float32Array;
  readonly b1: Float32Array;
  readonly w2: Float32Array;
  readonly b2: Float32Array;
  /**
   * MLP only: the abstain confidence's constants (../ml/confidence.ts's ConfidenceHead). When given,
   * the graph has a second output `confidence` [N]:
   *   u = h1 / |h1| (0 for an all-zero row);  confidence = max_k ( u · vectors_k + (probabilities · classWeights)_k )
   * `vectors` [K, hidden] row-major; `classWeights` [classes, K] or null (no class term).
   */
  readonly confidence?: { readonly vectors: Float32Array; readonly classWeights: Float32Array | null };
}

/** The layers after the first one's pre-activation `a1` (MLP) or `logits` (softmax): hidden, output, softmax, and the confidence. */
function headOf(weights: ClassifierWeights): { nodes: OnnxNode[]; initializers: Initializer[]; firstOutput: string; extraOutputs: ValueSpec[] } {
  const { hidden, classes } = weights;
  const nodes: OnnxNode[] = [];
  const initializers: Initializer[] = [];
  const extraOutputs: ValueSpec[] = [];
  if (hidden > 0) {
    nodes.push(
      { op: 'Relu', inputs: ['a1'], output: 'h1' },
      { op: 'MatMul', inputs: ['h1', 'W2'], output: 'z2' },
      { op: 'Add', inputs: ['z2', 'b2'], output: 'logits' },
    );
    initializers.push({ name: 'W2', dims: [hidden, classes], data: weights.w2 }, { name: 'b2', dims: [classes], data: weights.b2 });
  }
  nodes.push({ op: 'Softmax', inputs: ['logits'], output: 'probabilities', intAttributes: { axis: -1 } });
  if (hidden > 0 && weights.confidence) {
    const { vectors, classWeights } = weights.confidence;
    const references = vectors.length / hidden;
    if (!Number.isInteger(references) || references < 1) throw new Error(`confidence vectors have ${vectors.length} values, not a positive multiple of hidden ${hidden}`);
    if (classWeights && classWeights.length !== classes * references) throw new Error(`confidence classWeights have ${classWeights.length} values, expected ${classes} × ${references}`);
    // Four nodes, small constants (a row's whole run is ~0.1 ms). LpNormalization leaves an
    // all-zero row at zero; Gemm's transB reads the [K, hidden] vectors as stored; the class term
    // (a [N, K] matrix) is its C input.
    nodes.push({ op: 'LpNormalization', inputs: ['h1'], output: 'h1_unit', intAttributes: { axis: 1, p: 2 } });
    if (classWeights) nodes.push({ op: 'MatMul', inputs: ['probabilities', 'ConfidenceClassWeights'], output: 'class_terms' });
    nodes.push(
      { op: 'Gemm', inputs: classWeights ? ['h1_unit', 'ConfidenceVectors', 'class_terms'] : ['h1_unit', 'ConfidenceVectors'], output: 'reference_scores', intAttributes: { transB: 1 } },
      { op: 'ReduceMax', inputs: ['reference_scores'], output: 'confidence', intAttributes: { keepdims: 0 }, intsAttributes: { axes: [1] } },
    );
    initializers.push({ name: 'ConfidenceVectors', dims: [references, hidden], data: vectors });
    if (classWeights) initializers.push({ name: 'ConfidenceClassWeights', dims: [classes, references], data: classWeights });
    extraOutputs.push({ name: 'confidence', type: 'float32', dims: ['N'] });
  }
  return { nodes, initializers, firstOutput: hidden > 0 ? 'a1' : 'logits', extraOutputs };
}

const widthOf = (weights: ClassifierWeights): number => (weights.hidden > 0 ? weights.hidden : weights.classes);
const graphName = (weights: ClassifierWeights, suffix = ''): string => `${weights.hidden > 0 ? 'anvil_mlp_classifier' : 'anvil_softmax_classifier'}${suffix}`;

/** The ONNX model of a softmax (hidden 0) or one-hidden-layer MLP classifier, dense input `features` [N, F]. */
export function classifierModel(weights: ClassifierWeights, metadata: Record<string, string> = {}): Uint8Array {
  const { features, classes } = weights;
  const width = widthOf(weights);
  const head = headOf(weights);
  return encodeModel({
    name: graphName(weights),
    inputs: [{ name: 'features', type: 'float32', dims: ['N', features] }],
    output: { name: 'probabilities', type: 'float32', dims: ['N', classes] },
    extraOutputs: head.extraOutputs,
    nodes: [{ op: 'MatMul', inputs: ['features', 'W1'], output: 'z1' }, { op: 'Add', inputs: ['z1', 'b1'], output: head.firstOutput }, ...head.nodes],
    initializers: [
      { name: 'W1', dims: [features, width], data: weights.w1 },
      { name: 'b1', dims: [width], data: weights.b1 },
      ...head.initializers,
    ],
    metadata,
  });
}

/**
 * The same classifier reading only the active features: `ids` [N, L] int64 and `weights` [N, L]
 * float, the first layer an embedding bag — Gather the rows of W1 for the ids, scale each by its
 * weight, sum over L. W1 gets one extra all-zero row at index F, so a row shorter than L is padded
 * with id F (and weight 0). Same probabilities as the dense model (up to float summation order);
 * the cost of a row no longer grows with the vocabulary. `toEmbeddingBag` (text-classifier/bag.ts)
 * builds the inputs from featurised rows.
 */
export function embeddingBagClassifierModel(weights: ClassifierWeights, metadata: Record<string, string> = {}): Uint8Array {
  const { features, classes } = weights;
  const width = widthOf(weights);
  const padded = new Float32Array((features + 1) * width);
  padded.set(weights.w1.subarray(0, features * width));
  const head = headOf(weights);
  return encodeModel({
    name: graphName(weights, '_embedding_bag'),
    inputs: [
      { name: 'ids', type: 'int64', dims: ['N', 'L'] },
      { name: 'weights', type: 'float32', dims: ['N', 'L'] },
    ],
    output: { name: 'probabilities', type: 'float32', dims: ['N', classes] },
    extraOutputs: head.extraOutputs,
    nodes: [
      { op: 'Gather', inputs: ['W1', 'ids'], output: 'rows', intAttributes: { axis: 0 } },
      { op: 'Unsqueeze', inputs: ['weights', 'axis_last'], output: 'weights3' },
      { op: 'Mul', inputs: ['rows', 'weights3'], output: 'scaled' },
      { op: 'ReduceSum', inputs: ['scaled', 'axis_bag'], output: 'z1', intAttributes: { keepdims: 0 } },
      { op: 'Add', inputs: ['z1', 'b1'], output: head.firstOutput },
      ...head.nodes,
    ],
    initializers: [
      { name: 'W1', dims: [features + 1, width], data: padded },
      { name: 'b1', dims: [width], data: weights.b1 },
      { name: 'axis_last', dims: [1], data: BigInt64Array.of(2n) },
      { name: 'axis_bag', dims: [1], data: BigInt64Array.of(1n) },
      ...head.initializers,
    ],
    metadata,
  });
}
