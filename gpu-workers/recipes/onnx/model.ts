/**
 * A minimal ONNX ModelProto writer (IR version 8, default-domain opset 17) for the classifier
 * networks: input `features` [N, F] float, output `probabilities` [N, C] float, N dynamic.
 *
 *   softmax model:  probabilities = Softmax(MatMul(features, W1) + b1)
 *   MLP:            probabilities = Softmax(MatMul(Relu(MatMul(features, W1) + b1), W2) + b2)
 *
 * Field numbers follow onnx/onnx.proto3. Initializers are float32 `raw_data` (little-endian).
 */
import { ProtoWriter } from './protobuf.ts';

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;
const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTRIBUTE_INT = 2; // AttributeProto.AttributeType.INT

export interface Initializer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

export interface OnnxNode {
  readonly op: 'MatMul' | 'Add' | 'Relu' | 'Softmax';
  readonly inputs: readonly string[];
  readonly output: string;
  readonly intAttributes?: Readonly<Record<string, number>>;
}

export interface GraphSpec {
  readonly name: string;
  readonly input: { readonly name: string; readonly width: number };
  readonly output: { readonly name: string; readonly width: number };
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
    });
  });
  g.string(2, graph.name);
  for (const init of graph.initializers) {
    g.message(5, (t) => {
      t.packedInts(1, init.dims);
      t.int(2, FLOAT);
      t.string(8, init.name);
      t.bytes(9, littleEndianFloats(init.data));
    });
  }
  if (graph.docString) g.string(10, graph.docString);
  g.message(11, (v) => valueInfo(v, graph.input.name, graph.input.width));
  g.message(12, (v) => valueInfo(v, graph.output.name, graph.output.width));
}

/** ValueInfoProto for a float [N, width] tensor with a symbolic batch dimension `N`. */
function valueInfo(v: ProtoWriter, name: string, width: number): void {
  v.string(1, name);
  v.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, FLOAT);
      tensor.message(2, (shape) => {
        shape.message(1, (dim) => dim.string(2, 'N'));
        shape.message(1, (dim) => dim.int(1, width));
      });
    }),
  );
}

function littleEndianFloats(data: Float32Array): Uint8Array {
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i] as number, true);
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
}

/** The ONNX model of a softmax (hidden 0) or one-hidden-layer MLP classifier. */
export function classifierModel(weights: ClassifierWeights, metadata: Record<string, string> = {}): Uint8Array {
  const { features, hidden, classes } = weights;
  const width = hidden > 0 ? hidden : classes;
  const nodes: OnnxNode[] = [
    { op: 'MatMul', inputs: ['features', 'W1'], output: 'z1' },
    { op: 'Add', inputs: ['z1', 'b1'], output: hidden > 0 ? 'a1' : 'logits' },
  ];
  const initializers: Initializer[] = [
    { name: 'W1', dims: [features, width], data: weights.w1 },
    { name: 'b1', dims: [width], data: weights.b1 },
  ];
  if (hidden > 0) {
    nodes.push(
      { op: 'Relu', inputs: ['a1'], output: 'h1' },
      { op: 'MatMul', inputs: ['h1', 'W2'], output: 'z2' },
      { op: 'Add', inputs: ['z2', 'b2'], output: 'logits' },
    );
    initializers.push({ name: 'W2', dims: [hidden, classes], data: weights.w2 }, { name: 'b2', dims: [classes], data: weights.b2 });
  }
  nodes.push({ op: 'Softmax', inputs: ['logits'], output: 'probabilities', intAttributes: { axis: -1 } });
  return encodeModel({
    name: hidden > 0 ? 'anvil_mlp_classifier' : 'anvil_softmax_classifier',
    input: { name: 'features', width: features },
    output: { name: 'probabilities', width: classes },
    nodes,
    initializers,
    metadata,
  });
}
